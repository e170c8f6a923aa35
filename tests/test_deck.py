"""Fact rotation: no repeats within a deck, none across reshuffles, content edits followed."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.deck import Deck, DeckError, draw, facts_left, reconcile, shuffled

FACTS = [f"fact-{n:02d}" for n in range(12)]


def draw_many(count: int, facts: list[str], seed: int = 1, deck: Deck | None = None):
    rng = random.Random(seed)
    drawn: list[str] = []
    for _ in range(count):
        fact, deck = draw(deck, facts, rng)
        drawn.append(fact)
    return drawn, deck


def test_a_full_deck_has_every_fact_once() -> None:
    drawn, deck = draw_many(len(FACTS), FACTS)
    assert sorted(drawn) == FACTS
    assert facts_left(deck, FACTS) == 0


@pytest.mark.parametrize("seed", range(40))
def test_no_repeat_across_reshuffles(seed: int) -> None:
    drawn, _ = draw_many(len(FACTS) * 5, FACTS, seed=seed)
    for round_start in range(0, len(drawn), len(FACTS)):
        assert sorted(drawn[round_start : round_start + len(FACTS)]) == FACTS
    # The fact that ends one deck never opens the next, so no fact is posted twice in a row.
    assert all(a != b for a, b in itertools.pairwise(drawn))


def test_reshuffle_avoids_last_fact_even_when_rng_puts_it_first() -> None:
    for seed in range(200):
        deck = shuffled(FACTS, random.Random(seed), avoid_first="fact-03")
        assert deck.order[0] != "fact-03"
        assert sorted(deck.order) == FACTS


def test_single_fact_repeats_because_it_must() -> None:
    drawn, _ = draw_many(3, ["only"])
    assert drawn == ["only", "only", "only"]


def test_deck_survives_a_restart_as_plain_data() -> None:
    first, deck = draw_many(5, FACTS, seed=7)
    assert deck is not None
    restored = Deck(order=tuple(deck.order), position=deck.position, last_fact_id=deck.last_fact_id)
    rest, _ = draw_many(len(FACTS) - 5, FACTS, seed=99, deck=restored)
    assert sorted(first + rest) == FACTS


def test_removed_facts_are_skipped() -> None:
    drawn, deck = draw_many(3, FACTS)
    remaining = [fact for fact in FACTS if fact not in drawn]
    removed = set(remaining[:4])
    content = [fact for fact in FACTS if fact not in removed]
    assert facts_left(deck, content) == len(FACTS) - 3 - 4
    rest, deck = draw_many(len(FACTS) - 3 - 4, content, deck=deck)
    assert not removed & set(rest)
    assert sorted(drawn + rest) == sorted(content)
    assert facts_left(deck, content) == 0


def test_new_facts_join_the_current_deck() -> None:
    drawn, deck = draw_many(4, FACTS)
    content = [*FACTS, "new-a", "new-b"]
    assert facts_left(deck, content) == len(FACTS) - 4 + 2
    rest, deck = draw_many(len(FACTS) - 4 + 2, content, deck=deck, seed=3)
    assert {"new-a", "new-b"} <= set(rest)
    assert sorted(drawn + rest) == sorted(content)
    assert facts_left(deck, content) == 0


def test_reconcile_keeps_the_posted_part_and_drops_unknown_ids() -> None:
    deck = Deck(order=("a", "b", "c", "d"), position=2, last_fact_id="b")
    fixed = reconcile(deck, ["a", "c", "d", "e"], random.Random(0))
    assert fixed.order[: fixed.position] == ("a",)
    assert sorted(fixed.upcoming) == ["c", "d", "e"]
    assert fixed.last_fact_id == "b"


def test_no_facts_is_an_error() -> None:
    with pytest.raises(DeckError):
        draw(None, [], random.Random(0))
    with pytest.raises(DeckError):
        draw(Deck(order=("gone",), position=1, last_fact_id="gone"), [], random.Random(0))


def test_facts_left_for_a_new_server_is_the_whole_content() -> None:
    assert facts_left(None, FACTS) == len(FACTS)
