"""The lookup engine on the small test library: order of resolution, robustness, autocomplete."""

from __future__ import annotations

import pytest

from bot.lookup import LookupEngine, Outcome, stem


@pytest.fixture(scope="module")
def small(small_library) -> LookupEngine:
    return LookupEngine(small_library)


@pytest.mark.parametrize(
    ("query", "outcome", "entry_id"),
    [
        ("Rules of engagement", Outcome.EXACT, "roe"),
        ("  RULES   of ENGAGEMENT!! ", Outcome.EXACT, "roe"),
        ("ROE", Outcome.ALIAS, "roe"),
        ("r.o.e.", Outcome.ALIAS, "roe"),
        ("what is ROE?", Outcome.ALIAS, "roe"),
        ("define rules of engagement", Outcome.EXACT, "roe"),
        ("rules of engagment", Outcome.FUZZY, "roe"),
        ("engagement rules", Outcome.FUZZY, "roe"),
        ("Chapter 7", Outcome.ALIAS, "chapter-vii"),
        ("chapter vii", Outcome.ALIAS, "chapter-vii"),
        ("art. 42", Outcome.ALIAS, "article-42"),
        ("Art 41", Outcome.ALIAS, "article-41"),
        ("unmill", Outcome.FUZZY, "unmil"),
        ("No-fly zone", Outcome.EXACT, "no-fly-zone"),
        ("no fly zone", Outcome.EXACT, "no-fly-zone"),
        ("Nö-flý zöne", Outcome.EXACT, "no-fly-zone"),
    ],
)
def test_resolve(small, query, outcome, entry_id):
    resolution = small.resolve(query)
    assert resolution.outcome is outcome
    assert resolution.best is not None
    assert resolution.best.entry.id == entry_id


def test_exact_beats_alias_beats_fuzzy(small):
    assert small.resolve("Kosovo Force").outcome is Outcome.EXACT
    assert small.resolve("KFOR").outcome is Outcome.ALIAS
    assert small.resolve("Kosovo Forc").outcome is Outcome.FUZZY


def test_close_candidates_become_suggestions(small):
    resolution = small.resolve("article 4")
    assert resolution.outcome is Outcome.SUGGESTIONS
    assert resolution.best is None
    assert {m.entry.id for m in resolution.matches} == {"article-41", "article-42"}


def test_kinds_restrict_the_answer(small):
    assert small.resolve("international law", kinds={"term"}).outcome is not Outcome.ALIAS
    section = small.resolve("international law", kinds={"section"})
    assert section.best.entry.id == "international-law"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "x" * 10_000,
        "rules of engagement " * 500,
        "\x00\x01\x1b[31m\x7f",
        "🙂🙂🙂",
        "שלום עולם",
        "\u202eesrever",
        "**bold** `code` [link](http://example.com)",
        "@everyone",
        "<@123456789012345678>",
        "'; DROP TABLE queries; --",
        "\ud800",
    ],
)
def test_any_input_is_answered_without_exception(small, query):
    for kinds in (None, {"term"}, {"section"}):
        resolution = small.resolve(query, kinds=kinds)
        assert resolution.outcome in set(Outcome)
        assert len(resolution.query) <= 300
        small.autocomplete(query, kinds=kinds)
    small.search(query)
    small.lookup(query)


def test_nonsense_is_a_clear_no_match(small):
    for query in ("@everyone", "zzzzqqq", "🙂", ""):
        resolution = small.resolve(query)
        assert resolution.outcome is Outcome.NONE
        assert resolution.matches == ()


def test_autocomplete_prefix_matches_first(small):
    choices = small.autocomplete("art")
    assert [c.value for c in choices] == ["article-41", "article-42"]
    assert choices[0].name == "Article 41 of the UN Charter"


def test_autocomplete_shows_the_alias_that_matched(small):
    (choice,) = small.autocomplete("kfo")
    assert choice == choice.__class__("Kosovo Force (KFOR)", "kfor")


def test_autocomplete_word_and_typo_matches(small):
    assert [c.value for c in small.autocomplete("engagement")] == ["roe"]
    assert "kfor" in [c.value for c in small.autocomplete("kosvo")]


def test_autocomplete_limits(small):
    everything = small.autocomplete("")
    assert len(everything) == 9  # 2 sections + 7 terms, each once
    assert len(small.autocomplete("", limit=3)) == 3
    assert len(small.autocomplete("", limit=100)) <= 25
    assert all(len(c.name) <= 100 for c in everything)
    assert {c.value for c in small.autocomplete("", kinds={"section"})} == {
        "international-law", "successes-case-studies",
    }  # fmt: skip


def test_search_answers_questions(small):
    liberia = small.search("what happened in liberia")
    assert liberia.outcome is Outcome.SUGGESTIONS
    assert {m.entry.id for m in liberia.matches[:2]} == {"unmil-1509", "unmil"}
    assert small.search("sanctions").matches[0].entry.id == "article-41"
    assert small.search("liberai").matches, "a typo in a search word is corrected"
    assert small.search("the of and").outcome is Outcome.NONE


def test_lookup_falls_back_to_search(small):
    assert small.lookup("ROE").outcome is Outcome.ALIAS
    fallback = small.lookup("cutting off communications and sanctions")
    assert fallback.outcome is Outcome.SUGGESTIONS
    assert fallback.matches[0].entry.id == "article-41"


def test_stem_unifies_word_forms():
    assert stem("protecting") == stem("protection") == stem("protects") == "protect"
    assert stem("authorises") == stem("authorizes")
    assert stem("defence") == stem("defense")
    assert stem("un") == "un"
