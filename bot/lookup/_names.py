"""Names and aliases: exact look-ups, fuzzy matching and autocomplete.

Everything is normalised once at build time. A fuzzy query scores only a short list of
candidates with rapidfuzz: labels that share a rare word (or a word a typo away) with it, and
labels that share its rarest character trigrams, which also finds a typo that merged or split
words ("peacekeepingforce") or hit a word that has many neighbours.
"""

from __future__ import annotations

import bisect
import heapq
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator

from rapidfuzz import fuzz

from bot.content import Entry, Library, Named
from bot.lookup._analysis import keywords
from bot.lookup._spelling import Speller
from bot.text import normalise, truncate

SUGGEST = 60.0  # below this nothing is offered
CANDIDATES = 80  # labels scored per query
GRAMS_USED = 6  # the rarest trigrams of a query that pick trigram candidates
SAME_WORDS = 97.0  # the score of a label with the query's words in another order


def wanted(entry: Entry, kinds: Collection[str] | None) -> bool:
    return kinds is None or entry.kind in kinds


class NameIndex:
    def __init__(self, library: Library) -> None:
        self.library = library
        self.names: dict[str, Named] = {}
        self.aliases: dict[str, Named] = {}
        self._shapes: dict[str, Named | None] = {}  # sorted stems -> entry (None if ambiguous)
        self.labels: list[str] = []  # normalised names and aliases...
        self.owners: list[Named] = []  # ...the entry each belongs to...
        self._texts: list[str] = []  # ...and the label as written
        words: dict[str, array] = defaultdict(lambda: array("I"))
        grams: dict[str, array] = defaultdict(lambda: array("I"))
        for entry in library.named():
            for text in (entry.name, *entry.aliases):
                key = normalise(text)
                if not key:
                    continue
                (self.names if text is entry.name else self.aliases).setdefault(key, entry)
                stems = keywords(key)
                shape = " ".join(sorted(stems))
                if len(stems) > 1:
                    self._shapes[shape] = entry if self._shapes.get(shape, entry) is entry else None
                index = len(self.labels)
                self.labels.append(key)
                self.owners.append(entry)
                self._texts.append(text)
                for word in {*stems, *key.split()}:
                    words[word].append(index)
                for gram in _grams(key):
                    grams[gram].append(index)
        self._words = dict(words)
        self._grams = dict(grams)
        self._vocabulary = sorted(self._words)
        self._speller = Speller(self._vocabulary)
        self._spans: dict[str, tuple[int, int]] = {}  # entry id -> its labels' index range
        for index, entry in enumerate(self.owners):
            start, _ = self._spans.get(entry.id, (index, index))
            self._spans[entry.id] = (start, index + 1)
        order = sorted(range(len(self.labels)), key=self.labels.__getitem__)
        self._sorted = [self.labels[i] for i in order]
        self._sorted_at = array("I", order)
        starts = sorted(
            ((word, i) for i, label in enumerate(self.labels) for word in set(label.split())),
        )
        self._word_keys = [word for word, _ in starts]
        self._word_at = array("I", (i for _, i in starts))

    # -- exact -----------------------------------------------------------------------------
    def exact(self, key: str, kinds: Collection[str] | None) -> tuple[Named, bool] | None:
        """The entry whose name (True) or alias (False) is exactly `key`."""
        for table, is_name in ((self.names, True), (self.aliases, False)):
            entry = table.get(key)
            if entry is not None and wanted(entry, kinds):
                return entry, is_name
        return None

    def close_to(self, key: str, entry: Named, cutoff: float) -> bool:
        """Whether `key` is a typo or two from one of `entry`'s labels (plain `ratio`)."""
        start, end = self._spans.get(entry.id, (0, 0))
        return any(fuzz.ratio(key, self.labels[i]) >= cutoff for i in range(start, end))

    # -- fuzzy -----------------------------------------------------------------------------
    def fuzzy(self, key: str, kinds: Collection[str] | None) -> dict[str, float]:
        """Entry id -> best score (0-100) of its labels against `key`, for the candidates."""
        short = len(key) <= 3  # "un", "au": a partial match would hit half the library
        scorer = fuzz.ratio if short else fuzz.WRatio
        query_words = keywords(key)
        numbers = _numbers(key)
        scores: dict[str, float] = {}
        for index in self._candidates(key):
            entry = self.owners[index]
            if not wanted(entry, kinds):
                continue
            label = self.labels[index]
            score = scorer(key, label, score_cutoff=SUGGEST - 10)
            if score and len(query_words) >= 3:
                # WRatio rewards a short name found inside a long query; a name that covers
                # only one word of a five-word question is not what the user meant.
                score *= 0.55 + 0.45 * _coverage(query_words, keywords(label))
            if score and numbers and numbers != _numbers(label):
                score = min(score, 80.0)  # "article 4" is neither Article 41 nor Article 42
            if score > scores.get(entry.id, 0.0):
                scores[entry.id] = score
        shape = self._shapes.get(" ".join(sorted(query_words)))
        if shape is not None and wanted(shape, kinds) and len(query_words) > 1:
            scores[shape.id] = max(scores.get(shape.id, 0.0), SAME_WORDS)
        return scores

    def _candidates(self, key: str) -> list[int]:
        """Label indices worth scoring: rare shared words (or near-words), then rare trigrams."""
        weights: dict[int, float] = defaultdict(float)
        total = len(self.labels) or 1
        common = max(64, total // 20)
        words = list(dict.fromkeys(keywords(key) + key.split()))
        for word in words:
            for similar, closeness in self._similar_words(word):
                postings = self._words[similar]
                if len(postings) > common and len(words) > 1:
                    continue  # "peace" alone says little; the rarer words pick the candidates
                idf = math.log(1 + total / len(postings))
                for index in postings:
                    weights[index] += idf * closeness
        picked = sorted(weights, key=weights.__getitem__, reverse=True)[:CANDIDATES]
        if all(word in self._words for word in words):
            return picked  # no typo: the words themselves find the label
        seen = set(picked)
        for index in self._gram_candidates(key, CANDIDATES // 2):
            if index not in seen:
                picked.append(index)
                seen.add(index)
        return picked

    def _gram_candidates(self, key: str, limit: int) -> list[int]:
        """Labels sharing at least two of the query's rarest trigrams, most shared first."""
        grams = [self._grams[g] for g in set(_grams(key)) if g in self._grams]
        if len(grams) < 2:
            return []
        ceiling = max(2000, len(self.labels) // 50)  # very common trigrams cost and say little
        counts: Counter[int] = Counter()
        for postings in sorted((g for g in grams if len(g) <= ceiling), key=len)[:GRAMS_USED]:
            counts.update(postings)
        shared = [index for index, n in counts.items() if n >= 2]
        return heapq.nlargest(limit, shared, key=counts.__getitem__)

    def _similar_words(self, word: str) -> Iterable[tuple[str, float]]:
        """Vocabulary words equal to, starting with, or a typo away from `word`."""
        if word in self._words:
            return ((word, 1.0),)
        found: dict[str, float] = {}
        if len(word) >= 3:
            start = bisect.bisect_left(self._vocabulary, word)
            for other in self._vocabulary[start : start + 8]:
                if not other.startswith(word):
                    break
                found.setdefault(other, 0.8)
        for other, score in self._speller.similar(word, limit=5, cutoff=75):
            found.setdefault(other, score / 100 * 0.9)
        return found.items()

    # -- autocomplete --------------------------------------------------------------------
    def autocomplete(
        self, key: str, kinds: Collection[str] | None, limit: int
    ) -> list[tuple[str, str]]:
        """(shown name, entry id) pairs: prefix matches, then word prefixes, then fuzzy."""
        picked: dict[str, str] = {}

        def offer(indices: Iterable[int]) -> bool:
            for index in indices:
                entry = self.owners[index]
                if entry.id not in picked and wanted(entry, kinds):
                    picked[entry.id] = truncate(self._shown(index) if key else entry.name, 100)
                    if len(picked) >= limit:
                        return True
            return False

        def result() -> list[tuple[str, str]]:
            return [(name, entry_id) for entry_id, name in picked.items()]

        if not key:
            offer(range(len(self.labels)))
            return result()
        if offer(self._prefixed(self._sorted, self._sorted_at, key)):
            return result()
        first = key.partition(" ")[0]
        starts = self._prefixed(self._word_keys, self._word_at, first)
        if offer(i for i in starts if key in self.labels[i]) or len(key) < 3 or picked:
            return result()  # what matches as typed beats fuzzy guesses
        scores = self.fuzzy(key, kinds)
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        offer(self._spans[eid][0] for eid in ranked if scores[eid] >= SUGGEST)
        return result()

    def _shown(self, index: int) -> str:
        entry, text = self.owners[index], self._texts[index]
        if text is entry.name or self.labels[index] in normalise(entry.name):
            return entry.name
        return f"{entry.name} ({text})"

    @staticmethod
    def _prefixed(keys: list[str], at: array, prefix: str) -> Iterator[int]:
        """Label indices whose key starts with `prefix`, walking the sorted keys in place."""
        for position in range(bisect.bisect_left(keys, prefix), len(keys)):
            if not keys[position].startswith(prefix):
                return
            yield at[position]


def _grams(key: str) -> list[str]:
    padded = f" {key} "
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def _numbers(text: str) -> frozenset[str]:
    return frozenset(token for token in text.split() if token.isdigit())


def _coverage(query_words: list[str], label_words: list[str]) -> float:
    """The share of the query's words that the label has (allowing a typo or a prefix)."""
    found = sum(
        any(w == lw or lw.startswith(w) or fuzz.ratio(w, lw) >= 80 for lw in label_words)
        for w in query_words
    )
    return found / len(query_words)
