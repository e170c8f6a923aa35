"""Answers as plain data: every card fits Discord, user text is inert, renderers agree."""

from __future__ import annotations

import random

import pytest

from bot.answers import (
    DESCRIPTION_MAX,
    EMBED_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    LABEL_MAX,
    TITLE_MAX,
    Answer,
    Field,
    Librarian,
    paginate,
)
from bot.lookup import Outcome
from bot.render_text import render_text


@pytest.fixture(scope="module")
def librarian(library) -> Librarian:
    return Librarian(library)


def assert_fits_discord(answer: Answer) -> None:
    assert answer.pages
    for card in answer.pages:
        assert 0 < len(card.title) <= TITLE_MAX
        assert 0 < len(card.description) <= DESCRIPTION_MAX
        assert len(card.fields) <= FIELDS_MAX
        assert all(0 < len(f.value) <= FIELD_VALUE_MAX for f in card.fields)
        assert card.size() <= EMBED_MAX
    for link in (*answer.suggestions, *answer.related):
        assert 0 < len(link.label) <= LABEL_MAX


def test_every_entry_answer_fits_discord(librarian, library):
    for entry in [*library.named(), *library.facts.values()]:
        answer = librarian.open(entry.id)
        assert answer.entry_id == entry.id
        assert_fits_discord(answer)


def test_term_answer_has_definition_section_sources_and_related(librarian, library):
    answer = librarian.define("rules of engagment")
    term = library.terms["roe"]
    assert answer.outcome is Outcome.FUZZY
    card = answer.pages[0]
    assert card.title == term.name
    assert term.definition in card.description
    names = {f.name for f in card.fields}
    assert {"Section", "Sources"} <= names
    assert answer.related[0].entry_id == term.section
    assert {link.entry_id for link in answer.related[1:]} <= set(term.related_terms)


def test_a_correction_note_is_shown(librarian, library):
    noted = next(t for t in library.terms.values() if t.note)
    fields = librarian.open(noted.id).pages[0].fields
    assert any(f.value.startswith(noted.note[:50]) for f in fields)


def test_define_only_answers_terms_and_section_only_sections(librarian):
    assert librarian.define("case studies").entry_id != "successes-case-studies"
    assert librarian.section("case studies").entry_id == "successes-case-studies"


def test_uncertain_queries_offer_did_you_mean(librarian):
    answer = librarian.define("article 2")  # 2(1), 2(4) or 2(7)
    assert answer.outcome is Outcome.SUGGESTIONS
    assert 2 <= len(answer.suggestions) <= 5
    assert_fits_discord(answer)


def test_no_match_echoes_the_query_inertly(librarian):
    answer = librarian.define("@everyone <@&1234> **zzqx**")
    assert answer.outcome is Outcome.NONE
    text = answer.pages[0].description
    assert "@everyone" not in text
    assert "<@&1234>" not in text
    assert "**zzqx**" not in text
    assert "/search" in text


def test_search_answer_lists_hits_and_links_named_ones(librarian):
    answer = librarian.search("what happened in liberia")
    assert answer.outcome is Outcome.SUGGESTIONS
    assert "Liberia" in answer.pages[0].description
    assert answer.suggestions
    assert_fits_discord(answer)


def test_fact_answer_links_its_section_and_mentioned_terms(librarian, library):
    fact = next(f for f in library.facts.values() if "UNMIL" in f.text)
    answer = librarian.fact_answer(fact)
    assert answer.related[0].entry_id == fact.section
    assert "unmil" in {link.entry_id for link in answer.related}
    assert_fits_discord(answer)


def test_fact_for_a_section_stays_in_that_section(librarian):
    rng = random.Random(3)
    for _ in range(10):
        answer = librarian.fact("international-law", rng)
        assert answer.entry_id in {
            f.id for f in librarian.library.facts.values() if f.section == "international-law"
        }


def test_long_text_is_paged_within_limits():
    blocks = [f"Paragraph {i}. " + "word " * 300 for i in range(12)]
    fields = [Field(f"field {i}", "v" * 2000) for i in range(30)]
    pages = paginate("t" * 400, blocks, fields, None, 0)
    assert len(pages) > 1
    assert 0 < len(pages[0].fields) < FIELDS_MAX  # what fits in 6000 characters
    assert all(len(p.title) <= TITLE_MAX for p in pages)
    assert all(p.size() <= EMBED_MAX for p in pages)
    assert pages[-1].footer == f"Page {len(pages)}/{len(pages)}"
    text = " ".join(p.description for p in pages)
    assert "Paragraph 0." in text and "Paragraph 11." in text


def test_text_renderer_strips_markdown_but_keeps_user_text(librarian):
    text = render_text(librarian.define("rules of engagement"))
    assert "Rules of engagement" in text and "**" not in text
    literal = render_text(librarian.define("**zzqx**"))
    assert "**zzqx**" in literal


def test_about_counts_the_library(librarian, library):
    answer = librarian.about()
    assert f"**{len(library.terms)}** glossary terms" in answer.pages[0].description
    assert library.version in answer.pages[0].footer


def test_search_results_fit_one_page_however_long_the_hits(librarian, library):
    for query in ("peace", "security council resolution", "un mission force civilians"):
        answer = librarian.search(query)
        assert len(answer.pages) == 1, query
        assert_fits_discord(answer)
