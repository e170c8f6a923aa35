"""Names and aliases: exact look-ups, fuzzy matching and autocomplete.

Everything is normalised once at build time. A fuzzy query scores only a short list of
candidates with rapidfuzz: the labels that share a rare word with it, a word a typo away, the
two words a merged word was made of ("kaluordalo") or the word two of its words make ("peace
keeping"). A label an edit or two from the whole query scores as the typo it is, and among
equal scores the label fewest edits away wins (optimal string alignment: a dropped, swapped or
replaced letter is one edit).
"""

from __future__ import annotations

import bisect
import math
import re
from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Iterator
from itertools import chain, compress, pairwise, repeat
from operator import ne

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.content import Entry, Library, Named
from bot.lookup._analysis import STEMS, keywords, tokens
from bot.lookup._spelling import Speller
from bot.text import normalise, truncate

SUGGEST = 60.0  # below this nothing is offered
CANDIDATES = 80  # labels scored per query
SAME_WORDS = 97.0  # the score of a label with the query's words in another order
REORDERED_SCAN = 256  # labels of the query's rarest word read for the same words reordered
TYPO_LENGTH = 4  # a query this long that is an edit or two from a label is a typo of it
CHUNK = 1 << 15  # labels split at a time while building
SPELLINGS = 12  # at most this many vocabulary words a typo away are followed per query word


def wanted(entry: Entry, kinds: Collection[str] | None) -> bool:
    return kinds is None or entry.kind in kinds


class NameIndex:
    def __init__(self, library: Library) -> None:
        # Every step is a pass of C code over all labels (`map`, `chain`, comprehensions), not
        # a loop of Python statements per label or per word.
        self.library = library
        written = [
            (entry, text) for entry in library.named() for text in (entry.name, *entry.aliases)
        ]
        keys = list(map(normalise, [text for _, text in written]))
        kept = [i for i, key in enumerate(keys) if key]
        self.labels: list[str] = [keys[i] for i in kept]  # normalised names and aliases...
        self.owners: list[Named] = [written[i][0] for i in kept]  # ...their entries...
        self._texts: list[str] = [written[i][1] for i in kept]  # ...and the labels as written
        del written, keys, kept
        labelled = list(zip(self.labels, self.owners, self._texts, strict=True))
        # The first entry to use a key keeps it: reversed, so the first is written last.
        self.names: dict[str, Named] = {k: e for k, e, t in reversed(labelled) if t is e.name}
        self.aliases: dict[str, Named] = {k: e for k, e, t in reversed(labelled) if t is not e.name}
        # Entry id -> its labels' index range (an entry's labels are next to each other).
        owners, size = self.owners, len(self.labels)
        starts = [i for i in range(size) if not i or owners[i] is not owners[i - 1]]
        ends = [*starts[1:], size]
        self._spans: dict[str, tuple[int, int]] = {
            owners[start].id: (start, end) for start, end in zip(starts, ends, strict=True)
        }
        # "chapter vii" as written, beside "chapter 7": typos are typos of what users see.
        self._plain: dict[int, str] = {}  # label index -> the label as written, where it differs
        for index, (key, _, text) in enumerate(labelled):
            if text.lower() != key and (plain := " ".join(tokens(text))) != key:
                self._plain[index] = plain
        del labelled
        self._words = self._index_words()
        self._vocabulary = sorted(self._words)
        self._speller = Speller(self._vocabulary, min_length=3)
        order = sorted(range(len(self.labels)), key=self.labels.__getitem__)
        self._sorted = list(map(self.labels.__getitem__, order))
        self._sorted_at = array("I", order)

    def _index_words(self) -> dict[str, list[int]]:
        """Word (as written, and its stem) -> the labels that have it, in label order. Built
        a chunk at a time, so the split words of 200k labels never all exist at once."""
        words: defaultdict[str, list[int]] = defaultdict(list)
        self._sizes = array("B")  # label index -> its number of words (up to 255)
        append, word_list, stemmed = list.append, words.__getitem__, STEMS.__getitem__
        for first in range(0, len(self.labels), CHUNK):
            split = [key.split() for key in self.labels[first : first + CHUNK]]
            for index, plain in self._plain.items():
                if first <= index < first + CHUNK:
                    split[index - first] += plain.split()
            labels = range(first, first + len(split))
            self._sizes.extend(map(len, split))
            numbers = list(chain.from_iterable(map(repeat, labels, map(len, split))))
            flat = list(chain.from_iterable(split))
            deque(map(append, map(word_list, flat), numbers), 0)
            stems = list(map(stemmed, flat))
            differs = list(map(ne, stems, flat))  # a word that is its own stem is listed once
            deque(
                map(append, map(word_list, compress(stems, differs)), compress(numbers, differs)), 0
            )
        words.pop("", None)  # the stem of stop words
        for listed in words.values():
            if len(listed) > 1:  # in label order, once ("peace for peace", "protect protecting")
                listed[:] = sorted(set(listed))
        return dict(words)

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

    def edits(self, key: str, entry: Named) -> int:
        """The fewest edits (letters dropped, added, replaced or swapped) from `key` to one of
        `entry`'s labels."""
        start, end = self._spans.get(entry.id, (0, 0))
        labels = [self.labels[i] for i in range(start, end)]
        labels += [self._plain[i] for i in range(start, end) if i in self._plain]
        return min((OSA.distance(key, label) for label in labels), default=99)

    # -- fuzzy -----------------------------------------------------------------------------
    def reordered(self, key: str, kinds: Collection[str] | None) -> tuple[Named, float] | None:
        """The one entry with a label of the query's words (their stems) in another order or
        form ("security council peace" for "Peace Security Council"), and its score; None when
        no entry or several have one. Found among the labels of the query's rarest word, so
        it costs a few comparisons and no index of its own."""
        stems = keywords(key)
        if len(stems) < 2:
            return None
        lists = [self._words.get(stem) for stem in set(stems)]
        if not all(lists):
            return None  # a word no label has (a typo): no label has all of them
        rarest = min(lists, key=len)
        if len(rarest) > REORDERED_SCAN:
            return None  # only common words: nothing to tell the labels apart by
        others = [postings for postings in lists if postings is not rarest]
        shape = sorted(stems)
        found: Named | None = None
        score = SAME_WORDS
        for index in rarest:
            if not all(_listed(postings, index) for postings in others):
                continue
            for form in (self.labels[index], self._plain.get(index, "")):
                if sorted(keywords(form)) != shape:
                    continue
                owner = self.owners[index]
                if found is not owner and wanted(owner, kinds):
                    if found is not None:
                        return None  # two entries have these words: which is meant is a guess
                    found = owner
                if owner is found:  # the same order with a typo the stems hide ("engagment")
                    typo = _as_typo(key, OSA.distance(key, form))
                    score = max(score, typo, _scorer(key)(key, form))
        return (found, score) if found is not None else None

    def fuzzy(
        self, key: str, kinds: Collection[str] | None, limit: int = 25
    ) -> list[tuple[Named, float]]:
        """The `limit` best candidate entries and the best score (0-100) of their labels
        against `key`, best first (among equal scores, the fewest edits first)."""
        scorer = _scorer(key)
        query_words = keywords(key)
        several = len(query_words) > 1
        every_word = (1 << len(query_words)) - 1
        picked, covered = self._candidates(key, query_words)
        labels, owners, plain = self.labels, self.owners, self._plain
        if kinds is not None:
            picked = [i for i in picked if owners[i].kind in kinds]
        # label index -> (score, the form that got it); one C call per form
        best = {
            picked[at]: (score, label)
            for label, score, at in process.extract(
                key, [labels[i] for i in picked], scorer=scorer, score_cutoff=SUGGEST - 10,
                limit=None,
            )
        }  # fmt: skip
        written = [i for i in picked if i in plain] if plain else ()
        if written:
            for label, score, at in process.extract(
                key, [plain[i] for i in written], scorer=scorer, score_cutoff=SUGGEST - 10,
                limit=None,
            ):  # fmt: skip
                if score > best.get(written[at], (0.0, ""))[0]:
                    best[written[at]] = (score, label)
        rough: list[tuple[float, int, int, str]] = []  # (score before the checks, -edits, ...)
        for index, (score, label) in best.items():
            edits = OSA.distance(key, label)
            # A typo or two of the whole label beats a part of the query that is a whole label
            # ("neteeluda" is "Nete Luda", not "Luda").
            rough.append((max(score, _as_typo(key, edits)), -edits, index, label))
        # The checks below only lower a score, so the candidates are checked best first until
        # no unchecked one can still reach the best `limit`.
        rough.sort(reverse=True)
        ranked: dict[str, tuple[float, int]] = {}  # entry id -> (score, -edits) of its best
        numbers = _numbers(key) if _DIGIT.search(key) else None
        kth = 0.0  # the `limit`-th best score so far, once there are that many
        for score, edits, index, label in rough:
            if score < kth:
                break
            found_by = covered.get(index, 0)
            if several and found_by != every_word:
                # WRatio rewards a short name found inside a longer query; a name that covers
                # one word of two ("molu" for "baia molu") is not what was meant.
                score *= 0.55 + 0.45 * _coverage(query_words, found_by, label)
            if numbers and numbers != _numbers(label):
                score = min(score, 80.0)  # "article 4" is neither Article 41 nor 42
            mark = (score, edits)
            eid = owners[index].id
            if mark > ranked.get(eid, (0.0, 0)):
                ranked[eid] = mark
                if len(ranked) >= limit and score > kth:  # (only a better one moves it)
                    kth = sorted(ranked.values(), reverse=True)[limit - 1][0]
        order = sorted(ranked, key=ranked.__getitem__, reverse=True)[:limit]
        spans = self._spans
        return [(owners[spans[eid][0]], ranked[eid][0]) for eid in order]

    def _candidates(self, key: str, query_words: list[str]) -> tuple[list[int], dict[int, int]]:
        """Label indices worth scoring: those sharing the query's rarer words or near-words,
        or a word two of its words make together; and for a query of several words, per
        label the query words (bit i: `query_words[i]`) it was found by."""
        known = self._words
        total = len(self.labels) or 1
        common = max(64, total // 20)
        raw = key.split()
        bit: dict[str, int] = defaultdict(int)  # query word -> its bits
        for position, word in enumerate(query_words):
            bit[word] |= 1 << position
        words = dict(bit)  # a word -> the bits it stands for
        words.update((word, bit.get(STEMS[word], 0)) for word in raw)
        # "peace keeping": the query's neighbours joined may be one word of a label.
        words.update(
            (a + b, bit.get(STEMS[a], 0) | bit.get(STEMS[b], 0))
            for a, b in pairwise(raw)
            if a + b in known
        )
        several = len(query_words) > 1
        alone = len(raw) == 1  # one word that names nothing may be a typo of a real word
        followed: list[tuple[list[int], float, int]] = []  # (postings, weight, bits)
        for word, mask in words.items():
            # (a known word stands for itself: no look-up of its neighbours)
            similar = ((word, 1.0),) if word in known and not alone else None
            for other, closeness in similar or self._similar_words(word, alone):
                postings = known[other]
                if len(postings) > common and len(words) > 1:
                    continue  # "peace" alone says little; the rarer words pick the candidates
                followed.append((postings, math.log(1 + total / len(postings)) * closeness, mask))
        covered: dict[int, int] = defaultdict(int)
        if several:
            for postings, _, mask in followed:
                if mask:
                    for index in postings:
                        covered[index] |= mask
        found = set().union(*[postings for postings, _, _ in followed])
        if len(found) <= CANDIDATES:  # every one is scored: their order does not matter
            return list(found), covered
        weights: dict[int, float] = defaultdict(float)
        for postings, weight, _ in followed:
            for index in postings:
                weights[index] += weight
        # A label with as many words as the query is likelier than a longer one that shares
        # the same words ("lba": the name "Loba" before "Loba Tekepe").
        size, sizes = len(raw), self._sizes
        for index, weight in weights.items():
            weights[index] = weight / (1 + 0.25 * abs(sizes[index] - size))
        picked = sorted(weights, key=weights.__getitem__, reverse=True)[:CANDIDATES]
        return picked, covered

    def _similar_words(self, word: str, alone: bool = False) -> Iterable[tuple[str, float]]:
        """Vocabulary words equal to, starting with, or a typo away from `word`, and the two
        words it may have merged ("kaluordalo": "kalu" + "ordalo"). A known word stands for
        itself, unless it is `alone`: the whole query, which names nothing, so it may be a
        typo that made another real word ("futero" for "Fupero")."""
        found: dict[str, float] = {}
        if word in self._words:
            found[word] = 1.0
            if not alone:
                return found.items()
        if len(word) >= 3:
            start = bisect.bisect_left(self._vocabulary, word)
            for other in self._vocabulary[start : start + 8]:
                if not other.startswith(word):
                    break
                found.setdefault(other, 0.8)
        for other, score in self._speller.similar(word, limit=SPELLINGS, cutoff=75):
            found.setdefault(other, score / 100 * 0.9)
        for left, right in self._halves(word):
            found.setdefault(left, 0.9)
            found.setdefault(right, 0.9)
        return found.items()

    def _halves(self, word: str) -> Iterator[tuple[str, str]]:
        """Known word pairs that `word` is, with the space between them dropped or typed as a
        letter."""
        for cut in range(2, len(word) - 1):
            left = word[:cut]
            if left in self._words:
                for right in (word[cut:], word[cut + 1 :]):
                    if len(right) >= 2 and right in self._words:
                        yield left, right

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
        if offer(self._prefixed(key)):
            return result()
        if offer(i for i in self._word_prefixed(key.partition(" ")[0]) if key in self.labels[i]):
            return result()
        if len(key) < 3 or picked:
            return result()  # what matches as typed beats fuzzy guesses
        scored = self.fuzzy(key, kinds, limit)
        offer(self._spans[entry.id][0] for entry, score in scored if score >= SUGGEST)
        return result()

    def _shown(self, index: int) -> str:
        entry, text = self.owners[index], self._texts[index]
        if text is entry.name or self.labels[index] in normalise(entry.name):
            return entry.name
        return f"{entry.name} ({text})"

    def _prefixed(self, prefix: str) -> Iterator[int]:
        """Label indices whose label starts with `prefix`, walking the sorted labels in place."""
        keys = self._sorted
        for position in range(bisect.bisect_left(keys, prefix), len(keys)):
            if not keys[position].startswith(prefix):
                return
            yield self._sorted_at[position]

    def _word_prefixed(self, prefix: str) -> Iterator[int]:
        """Label indices with a word (or a word's stem) that starts with `prefix`."""
        words = self._vocabulary
        for position in range(bisect.bisect_left(words, prefix), len(words)):
            if not words[position].startswith(prefix):
                return
            yield from self._words[words[position]]


_DIGIT = re.compile(r"\d")


def _scorer(key: str) -> Callable[..., float]:
    return fuzz.ratio if len(key) <= 3 else fuzz.WRatio  # "un": no partial matches


def _as_typo(key: str, edits: int) -> float:
    """The score of a label `edits` edits from `key` as a typo of it; 0 when it is too far
    (more than one edit per ten letters, and one more) or `key` too short to tell."""
    if len(key) < TYPO_LENGTH or edits > 1 + len(key) // 10:
        return 0.0
    return 100 - 50 * edits / len(key)


def _listed(postings: list[int], index: int) -> bool:
    """Whether sorted `postings` hold `index`."""
    at = bisect.bisect_left(postings, index)
    return at < len(postings) and postings[at] == index


def _numbers(text: str) -> frozenset[str]:
    return frozenset(token for token in text.split() if token.isdigit())


def _coverage(query_words: list[str], found_by: int, label: str) -> float:
    """The share of the query's words that the label has: those that found it (the word or a
    word a typo away), and those it has a word starting with (a common word, "peace")."""
    found = found_by.bit_count()
    if found < len(query_words):
        spaced = f" {label}"
        found += sum(
            not found_by >> position & 1 and f" {word}" in spaced
            for position, word in enumerate(query_words)
        )
    return found / len(query_words)
