"""Fact rotation: each server works through its own shuffled deck of fact ids.

No fact repeats until the deck is used up; the next shuffle never starts with the fact just
posted. The deck follows content edits: facts removed from the content are skipped, new ones are
shuffled into the part of the deck still to come. The deck is plain data so the storage layer can
keep it between restarts; `rng` is passed in so tests are deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


class DeckError(LookupError):
    """There is no fact to draw."""


@dataclass(frozen=True, slots=True)
class Deck:
    """`order[:position]` has been posted this round, `order[position:]` is still to come."""

    order: tuple[str, ...]
    position: int
    last_fact_id: str | None = None

    @property
    def upcoming(self) -> tuple[str, ...]:
        return self.order[self.position :]


def shuffled(fact_ids: Sequence[str], rng: random.Random, avoid_first: str | None = None) -> Deck:
    """A fresh deck of every fact, not starting with `avoid_first` (when there is a choice)."""
    order = list(dict.fromkeys(fact_ids))
    if not order:
        raise DeckError("there are no facts in the content")
    rng.shuffle(order)
    if len(order) > 1 and order[0] == avoid_first:
        swap = rng.randrange(1, len(order))
        order[0], order[swap] = order[swap], order[0]
    return Deck(order=tuple(order), position=0, last_fact_id=avoid_first)


def reconcile(deck: Deck, fact_ids: Sequence[str], rng: random.Random) -> Deck:
    """The deck brought in line with the current content (removed facts out, new facts in)."""
    current = dict.fromkeys(fact_ids)
    seen = set(deck.order)
    posted = [fact for fact in deck.order[: deck.position] if fact in current]
    upcoming = [fact for fact in deck.upcoming if fact in current]
    for fact in (fact for fact in current if fact not in seen):
        upcoming.insert(rng.randrange(len(upcoming) + 1), fact)
    return Deck(
        order=tuple(posted + upcoming), position=len(posted), last_fact_id=deck.last_fact_id
    )


def draw(deck: Deck | None, fact_ids: Sequence[str], rng: random.Random) -> tuple[str, Deck]:
    """The next fact id and the deck after it; starts a new shuffle when the deck is used up."""
    if deck is None:
        deck = shuffled(fact_ids, rng)
    else:
        deck = reconcile(deck, fact_ids, rng)
        if not deck.upcoming:
            deck = shuffled(fact_ids, rng, avoid_first=deck.last_fact_id)
    fact_id = deck.order[deck.position]
    return fact_id, Deck(order=deck.order, position=deck.position + 1, last_fact_id=fact_id)


def facts_left(deck: Deck | None, fact_ids: Sequence[str]) -> int:
    """How many facts are still to come before the next shuffle."""
    if deck is None:
        return len(set(fact_ids))
    current = set(fact_ids)
    seen = set(deck.order)
    upcoming = {fact for fact in deck.upcoming if fact in current}
    return len(upcoming) + len(current - seen)
