"""Full-text search: BM25 over every text a user might be asking about.

Postings are one flat array of document numbers, a slice per word, with a document repeated
once per occurrence (its term count, counted when a query reads the slice) rather than a dict
per word. They are built in bulk: each distinct word is stemmed once, and each occurrence is
appended to its word's array by C code, with no Python statement per occurrence.
"""

from __future__ import annotations

import bisect
import heapq
import math
from array import array
from collections import Counter, deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from itertools import repeat

from bot.content import Entry, Library
from bot.lookup._analysis import STEMS, SYNONYMS, text_keywords, tokens
from bot.lookup._spelling import Speller

SYNONYM_WEIGHT = 0.4  # a synonym of a query word counts half as much as the word itself
TYPO_CUTOFF = 84.0  # rapidfuzz ratio for taking an unknown query word as a typo of a known one
TITLE_WEIGHT = 2  # a word in a name, alias or tag counts as two in the body
SORT_MAX = 2000  # up to this many scored documents, sorting them all beats a heap of the best


@dataclass(slots=True)  # (not frozen: a frozen dataclass costs twice as much to make)
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
        ids = _WordIds()
        occurrences_of = ids.__getitem__
        append = array.append
        stopped = ids.stopped
        lengths = array("I")
        for doc, (entry, title, body) in enumerate(_documents(library)):
            self.documents.append(entry)
            words = tokens(title) * TITLE_WEIGHT + tokens(body)
            # Each occurrence appends the document to its word's array, all in C: a word three
            # times in a document lists it three times, which is its term count. Stop words
            # land in one array, emptied after counting them out of the length.
            deque(map(append, map(occurrences_of, words), repeat(doc)), 0)
            lengths.append(len(words) - len(stopped))
            del stopped[:]
        self._ids, postings = ids.vocabulary, ids.postings
        del ids, stopped
        self._docs, self._starts, self._df = array("I"), array("I", [0]), array("I")
        packed = array("I")  # stands in for each word's array once it is packed, freeing it
        for wid in range(len(postings)):
            occurrences, postings[wid] = postings[wid], packed
            self._docs.extend(occurrences)
            self._starts.append(len(self._docs))
            self._df.append(len(set(occurrences)))
        del postings
        count = len(self.documents) or 1
        average = (sum(lengths) / count) or 1.0
        # BM25's length normalisation per document, so a query computes only tf / (tf + norm).
        k1, b = self.K1, self.B
        self._norm = array("f", [k1 * (1 - b + b * n / average) for n in lengths])
        self._count = count
        self._speller = Speller(self._ids)

    # -- querying ------------------------------------------------------------------------
    def df(self, word: str) -> int:
        wid = self._ids.get(word)
        return 0 if wid is None else self._df[wid]

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
        ceiling = 0.0
        k1 = self.K1 + 1
        norm = self._norm
        for word, weight in weights.items():
            wid = self._ids[word]
            idf = self.idf(word) * weight
            if weight == 1.0:
                ceiling += idf
            get = scores.get
            counts = Counter(self._docs[self._starts[wid] : self._starts[wid + 1]])
            for doc, tf in counts.items():
                scores[doc] = get(doc, 0.0) + idf * tf * k1 / (tf + norm[doc])
        ceiling = (ceiling or 1.0) * k1
        wanted = scores if kinds is None else {
            d: s for d, s in scores.items() if self.documents[d].kind in kinds
        }  # fmt: skip
        if len(wanted) <= SORT_MAX:
            best = sorted(wanted, key=wanted.__getitem__, reverse=True)[:limit]
        else:
            best = heapq.nlargest(limit, wanted, key=wanted.__getitem__)
        hits = tuple(
            Hit(self.documents[d], round(min(100.0, 100 * wanted[d] / ceiling), 1), d) for d in best
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


class _WordIds(dict[str, array]):
    """Building only: a word as written -> the array of documents its stem occurs in (one
    shared array for stop words). Each distinct word is analysed once."""

    def __init__(self) -> None:
        super().__init__()
        self.vocabulary: dict[str, int] = {}  # stem -> its number in `postings`
        self.postings: list[array] = []
        self.stopped = array("I")

    def __missing__(self, word: str) -> array:
        stemmed = STEMS[word]
        if not stemmed:
            occurrences = self.stopped
        elif stemmed in self.vocabulary:
            occurrences = self.postings[self.vocabulary[stemmed]]
        else:
            self.vocabulary[stemmed] = len(self.postings)
            occurrences = array("I")
            self.postings.append(occurrences)
        self[word] = occurrences
        return occurrences


def _documents(library: Library) -> Iterable[tuple[Entry, str, str]]:
    for section in library.sections.values():
        body = " ".join((section.summary, *section.key_points, section.note or ""))
        yield section, " ".join((section.title, *section.aliases)), body
    for term in library.terms.values():
        yield term, " ".join((term.name, *term.aliases)), f"{term.definition} {term.note or ''}"
    for fact in library.facts.values():
        yield fact, " ".join(fact.tags), fact.text
