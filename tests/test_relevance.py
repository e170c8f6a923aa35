"""Relevance of the lookup engine on the shipped content: what students type -> what they meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lookup import LookupEngine

RELEVANCE = Path(__file__).parent / "data" / "relevance.tsv"


def relevance_set() -> list[tuple[str, str, str]]:
    rows = []
    for line in RELEVANCE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, expected, kind = line.split("\t")
            rows.append((query, expected, kind))
    return rows


def ranked_ids(engine: LookupEngine, query: str) -> list[str]:
    return [m.entry.id for m in engine.lookup(query, limit=5).matches]


def test_relevance_set_is_large_and_points_at_real_entries(library):
    rows = relevance_set()
    assert len(rows) >= 150
    assert len({q.casefold() for q, _, _ in rows}) == len(rows), "duplicate queries"
    unknown = [(q, e) for q, e, _ in rows if library.get(e) is None]
    assert not unknown
    kinds = {k for _, _, k in rows}
    assert {"typo", "acronym", "partial", "paraphrase", "order"} <= kinds


def test_top1_at_least_95_percent_and_top3_always(engine):
    rows = relevance_set()
    misses_top1 = []
    misses_top3 = []
    for query, expected, _ in rows:
        ids = ranked_ids(engine, query)
        if ids[:1] != [expected]:
            misses_top1.append((query, expected, ids[:3]))
        if expected not in ids[:3]:
            misses_top3.append((query, expected, ids[:3]))
    assert not misses_top3, misses_top3
    assert len(misses_top1) <= 0.05 * len(rows), misses_top1


def test_every_name_and_alias_resolves_to_its_entry(engine, library):
    wrong = []
    for entry in library.named():
        for label in (entry.name, *entry.aliases):
            best = engine.resolve(label).best
            if best is None or best.entry.id != entry.id:
                wrong.append((label, entry.id, best and best.entry.id))
    assert not wrong


@pytest.mark.parametrize("kind", ["term", "section"])
def test_names_resolve_within_their_own_command(engine, library, kind):
    table = library.terms if kind == "term" else library.sections
    for entry in table.values():
        assert engine.resolve(entry.name, kinds={kind}).best.entry.id == entry.id
