"""Full-text search: BM25 over every text a user might be asking about.

Postings are packed into flat arrays (document numbers and term counts, one slice per word)
rather than a dict per word, which keeps a 100k-entry library near 30 MiB instead of 200.
"""

from __future__ import annotations

import bisect
import heapq
import math
from array import array
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.content import Entry, Library
from bot.lookup._analysis import SYNONYMS, text_keywords
from bot.lookup._spelling import Speller

SYNONYM_WEIGHT = 0.4  # a synonym of a query word counts half as much as the word itself
TYPO_CUTOFF = 84.0  # rapidfuzz ratio for taking an unknown query word as a typo of a known one
COORD = 0.0
TITLE_WEIGHT = 2  # a word in a name, alias or tag counts as two in the body


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float  # 0-100: the share of the best possible score for this query
    doc: int  # the entry's number in the index


@dataclass(frozen=True, slots=True)
class Found:
    """Ranked hits and what the query's words were: known to the index or not, and how common."""

    hits: tuple[Hit, ...]
    known: dict[str, float]  # query word (as indexed) -> its share of documents
    unknown: tuple[str, ...]  # query words the index has never seen, even a typo away
    corrected: frozenset[str] = frozenset()  # known words that were a typo away


class FullTextIndex:
    K1, B = 0.9, 0.6

    def __init__(self, library: Library) -> None:
        self.documents: list[Entry] = []
        vocabulary: dict[str, int] = {}
        docs_of: list[array] = []  # word id -> document numbers (building only)
        counts_of: list[array] = []  # word id -> term counts (building only)
        lengths = array("I")
        for entry, title, body in _documents(library):
            doc = len(self.documents)
            self.documents.append(entry)
            counts = Counter(text_keywords(body))
            for word in text_keywords(title):
                counts[word] += TITLE_WEIGHT
            lengths.append(sum(counts.values()))
            for word, count in counts.items():
                wid = vocabulary.get(word)
                if wid is None:
                    wid = vocabulary[word] = len(docs_of)
                    docs_of.append(array("I"))
                    counts_of.append(array("B"))
                docs_of[wid].append(doc)
                counts_of[wid].append(min(count, 255))
        self._ids = vocabulary
        self._docs = array("I")
        self._counts = array("B")
        self._starts = array("I", [0])
        for docs, counts in zip(docs_of, counts_of, strict=True):
            self._docs.extend(docs)
            self._counts.extend(counts)
            self._starts.append(len(self._docs))
        count = len(self.documents) or 1
        average = (sum(lengths) / count) or 1.0
        # BM25's length normalisation per document, so a query computes only tf / (tf + norm).
        self._norm = array("f", (self.K1 * (1 - self.B + self.B * n / average) for n in lengths))
        self._count = count
        self._speller = Speller(vocabulary)

    # -- querying ------------------------------------------------------------------------
    def df(self, word: str) -> int:
        wid = self._ids.get(word)
        return 0 if wid is None else self._starts[wid + 1] - self._starts[wid]

    def idf(self, word: str) -> float:
        df = self.df(word)
        return math.log(1 + (self._count - df + 0.5) / (df + 0.5))

    def search(
        self, text: str, limit: int, kinds: Collection[str] | None = None, *, exact: bool = False
    ) -> Found:
        """Rank documents for `text` (as typed). With `exact`, no typo correction and no
        synonyms: the words themselves (a year, a resolution number)."""
        weights: dict[str, float] = {}
        known: dict[str, float] = {}
        unknown: list[str] = []
        corrected: set[str] = set()
        for word in dict.fromkeys(text_keywords(text)):
            indexed: str | None = word
            if not exact and word not in self._ids:
                # A word of the synonym table is a real word, not a typo of whatever is near
                # it ("blocs" means alliances, not "block").
                indexed = None if word in SYNONYMS else self._correct(word)
                if indexed is None:
                    # The guide never uses the word, but it may use its synonyms ("honour":
                    # "commemoration"); the word counts as unknown for the coverage check.
                    unknown.append(word)
                    indexed = word
            if indexed in self._ids:
                weights[indexed] = max(weights.get(indexed, 0.0), 1.0)
                known[indexed] = self.df(indexed) / self._count
                if indexed != word:
                    corrected.add(indexed)
            if not exact:
                for other in SYNONYMS.get(indexed, ()):
                    if other in self._ids and other not in weights:
                        weights[other] = SYNONYM_WEIGHT
        if not weights:
            return Found((), known, tuple(unknown), frozenset(corrected))
        scores: dict[int, float] = {}
        covered: dict[int, float] = {}
        ceiling = 0.0
        k1 = self.K1 + 1
        norm = self._norm
        for word, weight in weights.items():
            wid = self._ids[word]
            idf = self.idf(word) * weight
            if weight == 1.0:
                ceiling += idf
            start, end = self._starts[wid], self._starts[wid + 1]
            get = scores.get
            got = covered.get
            for doc, tf in zip(self._docs[start:end], self._counts[start:end], strict=True):
                scores[doc] = get(doc, 0.0) + idf * tf * k1 / (tf + norm[doc])
                covered[doc] = got(doc, 0.0) + idf
        ceiling = ceiling or 1.0
        if COORD:
            for doc in scores:
                scores[doc] *= min(1.0, covered[doc] / ceiling) ** COORD
        ceiling *= k1
        wanted = scores if kinds is None else {
            d: s for d, s in scores.items() if self.documents[d].kind in kinds
        }  # fmt: skip
        best = heapq.nlargest(limit, wanted.items(), key=lambda item: item[1])
        hits = tuple(
            Hit(self.documents[d], round(min(100.0, 100 * s / ceiling), 1), d) for d, s in best
        )
        return Found(hits, known, tuple(unknown), frozenset(corrected))

    def contains(self, hit: Hit, word: str) -> bool:
        """Whether the hit's text has the indexed `word` (a stem)."""
        wid = self._ids.get(word)
        if wid is None:
            return False
        start, end = self._starts[wid], self._starts[wid + 1]
        at = bisect.bisect_left(self._docs, hit.doc, start, end)
        return at < end and self._docs[at] == hit.doc

    def _correct(self, word: str) -> str | None:
        found = self._speller.similar(word, limit=1, cutoff=TYPO_CUTOFF)
        return found[0][0] if found else None


def _documents(library: Library) -> Iterable[tuple[Entry, str, str]]:
    for section in library.sections.values():
        body = " ".join((section.summary, *section.key_points, section.note or ""))
        yield section, " ".join((section.title, *section.aliases)), body
    for term in library.terms.values():
        yield term, " ".join((term.name, *term.aliases)), f"{term.definition} {term.note or ''}"
    for fact in library.facts.values():
        yield fact, " ".join(fact.tags), fact.text
