"""The lookup engine: what a user typed -> the entry they meant.

Built once per library. `resolve` answers names (exact, then alias, then fuzzy), `autocomplete`
suggests names while the user types, and `search` answers questions from the full text.
Everything is normalised once at build time, so a query costs a few dictionary look-ups and a
fuzzy comparison against a short list of candidates rather than against every name.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

from bot.content import Entry, Library, Named
from bot.text import clean, normalise, truncate

QUERY_LIMIT = 300  # characters of a query that are looked at; the rest cannot change the answer
CONFIDENT = 86.0  # a fuzzy match at least this good answers directly...
MARGIN = 6.0  # ...when the next different entry scores at least this much lower
LONE = 75.0  # ...or when it is the only candidate near the top and at least this good
SUGGEST = 60.0  # below this nothing is offered

_STOPWORDS = frozenset(
    """
    a an and are as at be by did do does for from had has have how i in into is it its me
    of on or our s tell that the their them there these this those to was were what when
    where which who whom why will with about explain define definition meaning mean means
    happened happen please show give such
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_LEADING = re.compile(
    r"^(?:(?:what|who|where|which) (?:is|are|was|were)(?: the| an| a)?|define|definition of|"
    r"meaning of|tell me about|explain|the|an|a) "
)
_BRITISH = re.compile(r"is(e|es|ed|ing|ation|ations)$")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ions", "ion", "ies", "es",
             "ed", "s", "e")  # fmt: skip


class Outcome(StrEnum):
    EXACT = "exact"
    ALIAS = "alias"
    FUZZY = "fuzzy"
    SUGGESTIONS = "suggestions"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    score: float

    @property
    def kind(self) -> str:
        return self.entry.kind


@dataclass(frozen=True, slots=True)
class Resolution:
    query: str
    outcome: Outcome
    matches: tuple[Match, ...] = ()

    @property
    def best(self) -> Match | None:
        """The one entry to answer with, when the engine is confident about it."""
        answered = (Outcome.EXACT, Outcome.ALIAS, Outcome.FUZZY)
        return self.matches[0] if self.outcome in answered and self.matches else None


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    value: str


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: `protecting`, `protection`, `protects` -> `protect`."""
    word = _BRITISH.sub(r"iz\1", word).replace("fence", "fense")
    if len(word) > 4:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def keywords(text: str) -> list[str]:
    """Stemmed content words of already-normalised text."""
    return [stem(w) for w in text.split() if w not in _STOPWORDS]


class LookupEngine:
    def __init__(self, library: Library) -> None:
        self.library = library
        self._names: dict[str, Named] = {}
        self._aliases: dict[str, Named] = {}
        self._shapes: dict[str, Named | None] = {}  # sorted stems -> entry (None if ambiguous)
        self._labels: list[str] = []  # normalised names and aliases...
        self._owners: list[Named] = []  # ...and the entry each belongs to
        self._display: list[str] = []  # ...and the text shown for it in autocomplete
        self._label_words: list[tuple[str, ...]] = []  # ...and its stemmed content words
        self._words: dict[str, list[int]] = defaultdict(list)  # stem -> label indices
        for entry in library.named():
            self._add(entry.name, entry, is_name=True)
            for alias in entry.aliases:
                self._add(alias, entry, is_name=False)
        self._name_index = {e.id: i for i, e in reversed(list(enumerate(self._owners)))}
        self._vocabulary = sorted(self._words)
        # Typos rarely hit the first letter, so a word is compared only with words that share
        # it: a twentieth of the vocabulary, which keeps fuzzy look-ups fast at 100k names.
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self._vocabulary:
            self._by_initial[word[0]].append(word)
        self._sorted_labels = sorted((label, i) for i, label in enumerate(self._labels))
        self._word_index = sorted(
            (word, i) for i, label in enumerate(self._labels) for word in set(label.split())
        )
        self._search = _SearchIndex(library)

    def _add(self, label: str, entry: Named, *, is_name: bool) -> None:
        key = normalise(label)
        if not key:
            return
        (self._names if is_name else self._aliases).setdefault(key, entry)
        shape = " ".join(sorted(keywords(key)))
        if shape and self._shapes.get(shape, entry) is not entry:
            self._shapes[shape] = None
        elif shape:
            self._shapes[shape] = entry
        index = len(self._labels)
        self._labels.append(key)
        self._owners.append(entry)
        shown = is_name or key in normalise(entry.name)
        self._display.append(entry.name if shown else f"{entry.name} ({label})")
        self._label_words.append(tuple(keywords(key)))
        for word in set(keywords(key)) | set(key.split()):
            self._words[word].append(index)

    # -- resolve -------------------------------------------------------------------------
    def resolve(
        self, query: str, kinds: Collection[str] | None = None, limit: int = 5
    ) -> Resolution:
        """The entry a name-like query means, ranked; see `Outcome` for what the result says."""
        text = clean(query, QUERY_LIMIT)
        key = _strip_question(normalise(text))
        if not key:
            return Resolution(text, Outcome.NONE)
        for table, outcome in ((self._names, Outcome.EXACT), (self._aliases, Outcome.ALIAS)):
            entry = table.get(key)
            if entry is not None and _wanted(entry, kinds):
                return Resolution(text, outcome, (Match(entry, 100.0),))
        scored = self._fuzzy(key, kinds)
        shape = self._shapes.get(" ".join(sorted(keywords(key))))
        if shape is not None and _wanted(shape, kinds):
            scored[shape.id] = max(scored.get(shape.id, 0.0), 97.0)  # same words, other order
        ranked = sorted(scored.items(), key=lambda item: -item[1])
        matches = tuple(Match(self.library.get(eid), round(s, 1)) for eid, s in ranked[:limit])
        if not matches or matches[0].score < SUGGEST:
            return Resolution(text, Outcome.NONE)
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        close = tuple(m for m in matches if m.score >= max(SUGGEST, matches[0].score - 15))
        alone = len(close) == 1 and matches[0].score >= LONE
        if alone or (matches[0].score >= CONFIDENT and matches[0].score - runner_up >= MARGIN):
            return Resolution(text, Outcome.FUZZY, matches)
        return Resolution(text, Outcome.SUGGESTIONS, close)

    def _fuzzy(self, key: str, kinds: Collection[str] | None) -> dict[str, float]:
        """Score the labels that share a (fuzzily matched) word with the query."""
        candidates = self._candidates(key)
        scores: dict[str, float] = {}
        short = len(key) <= 3  # "un", "au": a partial match would hit half the library
        scorer = fuzz.ratio if short else fuzz.WRatio
        query_words = keywords(key)
        for index in candidates:
            entry = self._owners[index]
            if not _wanted(entry, kinds):
                continue
            score = scorer(key, self._labels[index], score_cutoff=SUGGEST - 10)
            if score and len(query_words) >= 3:
                # WRatio rewards a short name found inside a long query; a name that covers
                # only one word of a five-word question is not what the user meant.
                score *= 0.55 + 0.45 * _coverage(query_words, self._label_words[index])
            if score > scores.get(entry.id, 0.0):
                scores[entry.id] = score
        return scores

    def _candidates(self, key: str, cap: int = 80) -> list[int]:
        """Label indices worth scoring: those sharing rare words (or near-words) with the query."""
        weights: dict[int, float] = defaultdict(float)
        total = len(self._labels) or 1
        common = max(64, total // 20)
        words = list(dict.fromkeys(keywords(key) + key.split()))
        for word in words:
            for similar, closeness in self._similar_words(word):
                postings = self._words[similar]
                if len(postings) > common and len(words) > 1:
                    continue  # "peace" alone says little; the rarer words pick the candidates
                idf = math.log(1 + total / len(postings))
                for index in postings:
                    weights[index] = max(weights[index], 0.0) + idf * closeness
        best = sorted(weights, key=weights.__getitem__, reverse=True)
        return best[:cap]

    def _similar_words(self, word: str) -> Iterable[tuple[str, float]]:
        """Vocabulary words equal to, starting with, or a typo away from `word`."""
        found: dict[str, float] = {}
        if word in self._words:
            found[word] = 1.0
        if len(word) >= 3:
            start = bisect.bisect_left(self._vocabulary, word)
            for other in self._vocabulary[start : start + 8]:
                if not other.startswith(word):
                    break
                found.setdefault(other, 0.8)
            if len(word) >= 4:
                for other, score, _ in process.extract(
                    word,
                    self._by_initial.get(word[0], ()),
                    scorer=fuzz.ratio,
                    limit=5,
                    score_cutoff=75,
                ):
                    found.setdefault(other, score / 100 * 0.9)
        return found.items()

    # -- autocomplete --------------------------------------------------------------------
    def autocomplete(
        self, partial: str, kinds: Collection[str] | None = None, limit: int = 25
    ) -> list[Choice]:
        """Up to `limit` choices for a partly typed name: prefix matches first, then words that
        start with it, then fuzzy ones. Each choice's value is the entry id."""
        limit = max(0, min(limit, 25))
        key = normalise(clean(partial, QUERY_LIMIT))
        picked: dict[str, Choice] = {}

        def offer(indices: Iterable[int]) -> bool:
            for index in indices:
                entry = self._owners[index]
                if entry.id not in picked and _wanted(entry, kinds):
                    name = self._display[index] if key else entry.name
                    picked[entry.id] = Choice(truncate(name, 100), entry.id)
                    if len(picked) >= limit:
                        return True
            return False

        if not key:
            offer(i for i, _ in enumerate(self._labels))
            return list(picked.values())
        if offer(self._prefixed(self._sorted_labels, key)):
            return list(picked.values())
        first, _, _rest = key.partition(" ")
        word_hits = (i for i in self._prefixed(self._word_index, first) if key in self._labels[i])
        if offer(word_hits) or len(key) < 3:
            return list(picked.values())
        scores = self._fuzzy(key, kinds)
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        offer(self._name_index[eid] for eid in ranked if scores[eid] >= SUGGEST)
        return list(picked.values())

    @staticmethod
    def _prefixed(pairs: list[tuple[str, int]], prefix: str) -> Iterable[int]:
        start = bisect.bisect_left(pairs, (prefix, -1))
        for text, index in pairs[start:]:
            if not text.startswith(prefix):
                return
            yield index

    # -- search --------------------------------------------------------------------------
    def search(
        self, question: str, limit: int = 10, kinds: Collection[str] | None = None
    ) -> Resolution:
        """Full-text search over summaries, key points, definitions and facts."""
        text = clean(question, QUERY_LIMIT)
        hits = self._search.query(normalise(text), limit, kinds)
        if not hits:
            return Resolution(text, Outcome.NONE)
        return Resolution(text, Outcome.SUGGESTIONS, tuple(hits))

    def lookup(self, query: str, limit: int = 5) -> Resolution:
        """What `peacebot lookup` and the console do: a name first, the full text otherwise."""
        resolution = self.resolve(query, limit=limit)
        if resolution.outcome is Outcome.NONE:
            return self.search(query, limit=limit)
        return resolution


def _wanted(entry: Entry, kinds: Collection[str] | None) -> bool:
    return kinds is None or entry.kind in kinds


def _coverage(query_words: list[str], label_words: tuple[str, ...]) -> float:
    """The share of the query's words that the label has (allowing a typo or a prefix)."""
    found = sum(
        any(w == lw or lw.startswith(w) or fuzz.ratio(w, lw) >= 80 for lw in label_words)
        for w in query_words
    )
    return found / len(query_words)


def _strip_question(key: str) -> str:
    for _ in range(2):  # "what is the ..." needs two passes
        stripped = _LEADING.sub("", key).strip()
        if stripped == key or not stripped:
            break
        key = stripped
    return key


class _SearchIndex:
    """BM25 over every text a user might be asking about, with typo-tolerant query words."""

    K1, B = 1.4, 0.75

    def __init__(self, library: Library) -> None:
        self.documents: list[Entry] = []
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        lengths: list[int] = []
        for entry, title, body in _documents(library):
            doc = len(self.documents)
            self.documents.append(entry)
            words = keywords(normalise(title)) * 2 + keywords(normalise(body))
            lengths.append(len(words))
            for word in words:
                postings[word][doc] = postings[word].get(doc, 0.0) + 1.0
        self.postings = dict(postings)
        self.vocabulary = sorted(self.postings)
        self.lengths = lengths
        self.average = (sum(lengths) / len(lengths)) if lengths else 1.0
        count = len(self.documents)
        self.idf = {
            w: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5)) for w, p in postings.items()
        }

    def query(self, text: str, limit: int, kinds: Collection[str] | None) -> list[Match]:
        words = [self._known(w) for w in dict.fromkeys(keywords(text))]
        words = [w for w in words if w]
        if not words:
            return []
        scores: dict[int, float] = defaultdict(float)
        for word in words:
            idf = self.idf[word]
            for doc, tf in self.postings[word].items():
                norm = tf + self.K1 * (1 - self.B + self.B * self.lengths[doc] / self.average)
                scores[doc] += idf * tf * (self.K1 + 1) / norm
        ceiling = sum(self.idf[w] * (self.K1 + 1) for w in words)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        hits = []
        for doc, score in ranked:
            entry = self.documents[doc]
            if _wanted(entry, kinds):
                hits.append(Match(entry, round(min(100.0, 100 * score / ceiling), 1)))
                if len(hits) >= limit:
                    break
        return hits

    def _known(self, word: str) -> str | None:
        if word in self.postings:
            return word
        if len(word) < 4:
            return None
        found = process.extractOne(word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=80)
        return found[0] if found else None


def _documents(library: Library) -> Iterable[tuple[Entry, str, str]]:
    for section in library.sections.values():
        body = " ".join((section.summary, *section.key_points, section.note or ""))
        yield section, " ".join((section.title, *section.aliases)), body
    for term in library.terms.values():
        yield term, " ".join((term.name, *term.aliases)), f"{term.definition} {term.note or ''}"
    for fact in library.facts.values():
        yield fact, " ".join(fact.tags), fact.text
