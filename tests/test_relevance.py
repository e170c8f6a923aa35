"""Relevance of the lookup engine on the shipped content: what students type -> what they meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lookup import LookupEngine

RELEVANCE = Path(__file__).parent / "data" / "relevance.tsv"
QUESTIONS = Path(__file__).parent / "data" / "questions.tsv"


def relevance_set() -> list[tuple[str, str, str]]:
    rows = []
    for line in RELEVANCE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, expected, kind = line.split("\t")
            rows.append((query, expected, kind))
    return rows


def question_set() -> list[tuple[str, frozenset[str]]]:
    rows = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            question, acceptable = line.split("\t")
            rows.append((question, frozenset(acceptable.split())))
    return rows


def ranked_ids(engine: LookupEngine, query: str) -> list[str]:
    """The ranking of the one answer path that every command, the console and the CLI use."""
    return [m.entry.id for m in engine.answer(query, limit=5).matches]


def test_relevance_set_is_large_and_points_at_real_entries(library):
    rows = relevance_set()
    assert len(rows) >= 150
    assert len({q.casefold() for q, _, _ in rows}) == len(rows), "duplicate queries"
    unknown = [(q, e) for q, e, _ in rows if library.get(e) is None]
    assert not unknown
    kinds = {k for _, _, k in rows}
    assert {"typo", "acronym", "partial", "paraphrase", "order"} <= kinds


def test_names_top1_at_least_98_percent_and_top3_always(engine):
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
    assert len(misses_top1) <= 0.02 * len(rows), misses_top1


def test_question_set_is_large_and_points_at_real_entries(library):
    rows = question_set()
    assert len(rows) >= 150
    assert len({q.casefold() for q, _ in rows}) == len(rows), "duplicate questions"
    unknown = [(q, i) for q, ids in rows for i in ids if library.get(i) is None]
    assert not unknown


def test_questions_top1_at_least_85_percent_and_top3_at_least_95(engine):
    rows = question_set()
    ranked = [(q, ok, ranked_ids(engine, q)) for q, ok in rows]
    misses_top1 = [(q, ids[:3]) for q, ok, ids in ranked if not ids[:1] or ids[0] not in ok]
    misses_top3 = [(q, ids[:3]) for q, ok, ids in ranked if not ok & set(ids[:3])]
    assert len(misses_top3) <= 0.05 * len(rows), misses_top3
    assert len(misses_top1) <= 0.15 * len(rows), misses_top1


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
