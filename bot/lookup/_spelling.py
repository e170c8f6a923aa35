"""Typo-tolerant word look-up: the vocabulary words a mistyped word may have meant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

MIN_LENGTH = 4  # shorter words have too many neighbours one typo away to guess from
SPREAD = 2  # one typo changes a word's length by at most one; two allow for a doubled letter


class Speller:
    """Vocabulary words bucketed by first letter and length, and again by second letter.

    A typo in a word of length n is compared only with words of length n-2..n+2 that share its
    first letter (most typos) or whose second letter is its first or second letter (a typo
    that hit the first letter: dropped, swapped or replaced). Words with digits (alias codes,
    years, resolution numbers) are left out: a number is either right or a different number.
    """

    def __init__(self, words: Iterable[str], min_length: int = MIN_LENGTH) -> None:
        self._first: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._second: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._min_length = min_length
        for word in words:
            if len(word) >= min_length and word.isalpha():
                self._first[word[0], len(word)].append(word)
                self._second[word[1], len(word)].append(word)

    def similar(self, word: str, limit: int = 5, cutoff: float = 75.0) -> list[tuple[str, float]]:
        """Up to `limit` (word, score) pairs with rapidfuzz `ratio` >= `cutoff`; when more are
        that close, the fewest edits away."""
        if len(word) < self._min_length or not word.isalpha():
            return []
        if len(word) == 3:
            cutoff = min(cutoff, 66.0)  # "vij" is "vii": one replaced letter of three is 66.7
        choices: list[str] = []
        size = len(word)
        for length in range(size - SPREAD, size + SPREAD + 1):
            choices += self._first.get((word[0], length), ())
            if abs(length - size) <= 1:
                choices += self._second.get((word[0], length), ())  # first letter dropped/swapped
                if word[1] != word[0]:
                    choices += self._second.get((word[1], length), ())  # first letter replaced
        found = process.extract(word, choices, scorer=fuzz.ratio, limit=None,
                                score_cutoff=cutoff)  # fmt: skip
        best: dict[str, float] = {}
        for other, score, _ in found:
            if other != word:
                best.setdefault(other, score)
        if len(best) <= limit:
            return sorted(best.items(), key=lambda item: -item[1])
        # Too many: keep those fewest edits away (a dropped, swapped or replaced letter is one),
        # then by ratio: "baia" is "baka" (one edit, ratio 75) before "baiaro" (two, ratio 80).
        ranked = sorted(best.items(), key=lambda item: (OSA.distance(word, item[0]), -item[1]))
        return ranked[:limit]
