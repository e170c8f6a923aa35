"""The shipped content: complete, consistent, and mapped onto the article it teaches."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from bot.content import Library
from tests.fingerprint import FINGERPRINT, line_hash

# Each heading of the source article, and the section that teaches it.
ARTICLE_HEADINGS = {
    "Historical Development of Multinational Peace Enforcement Missions": "historical-development",
    "Legal and Political Foundations of Peace Enforcement Operations": (
        "legal-political-foundations"
    ),
    "International Laws Governing Peace Missions": "international-law",
    "Mandates from the United Nations and Regional Organizations": "mandates",
    "Strategic Objectives of Multinational Peace Enforcement Missions": "strategic-objectives",
    "Stabilizing Conflicted Regions": "stabilizing-regions",
    "Protecting Civilians and Humanitarian Efforts": "protecting-civilians",
    "Key Military Alliances Facilitating Peace Enforcement": "military-alliances",
    "Challenges Faced in Multinational Peace Enforcement Missions": "challenges",
    "Successes and Case Studies in Peace Enforcement": "successes-case-studies",
    "Lessons Learned and Best Practices": "lessons-learned",
    "The Future of Multinational Peace Enforcement Missions": "future",
    "Impact on Military Alliances & Pacts and Regional Stability": "impact-alliances-stability",
    "Critical Analysis of Multinational Peace Enforcement Strategies": "critical-analysis",
}
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def sentences(text: str) -> int:
    # "e.g." / "U.N." / "No. 1" are not sentence ends
    cleaned = re.sub(r"\b(?:e\.g|i\.e|etc|vs|art|arts|res|para|paras)\.", "x", text, flags=re.I)
    cleaned = re.sub(r"\bNo\.(?=\s*\d)", "x", cleaned)
    cleaned = re.sub(r"\b(?:[A-Z]\.){2,}", "X", cleaned)
    return len(_SENTENCE_END.findall(cleaned))


def test_counts_meet_the_brief(library: Library):
    counts = library.counts()
    assert counts["sections"] == 15
    assert counts["terms"] >= 200
    assert counts["facts"] >= 220
    assert counts["quiz"] >= 150
    assert counts["prompts"] >= 40


def test_every_section_has_at_least_six_quiz_questions(library: Library):
    per_section = Counter(question.section for question in library.quiz.values())
    assert set(library.sections) <= set(per_section)
    assert min(per_section.values()) >= 6, per_section.most_common()[-3:]


def test_every_article_heading_is_in_the_article_and_maps_to_its_section(engine):
    article_lines = set(json.loads(FINGERPRINT.read_text(encoding="utf-8"))["lines"])
    for heading, section_id in ARTICLE_HEADINGS.items():
        assert line_hash(heading) in article_lines, heading
        best = engine.resolve(heading, kinds={"section"}).best
        assert best is not None and best.entry.id == section_id, heading


def test_sections_have_summary_key_points_aliases_terms_and_sources(library: Library):
    for section in library.sections.values():
        assert 2 <= sentences(section.summary) <= 4, section.id
        assert 3 <= len(section.key_points) <= 6, section.id
        assert section.aliases, section.id
        assert section.related_terms, section.id
        assert all(s.title for s in section.sources), section.id


def test_terms_are_short_precise_and_sourced(library: Library):
    for term in library.terms.values():
        assert 1 <= sentences(term.definition) <= 3, (term.id, term.definition)
        assert term.sources, term.id


@pytest.mark.parametrize("table", ["facts", "quiz", "prompts"])
def test_every_section_has_facts_questions_and_prompts(library: Library, table):
    spread = Counter(entry.section for entry in getattr(library, table).values())
    assert set(spread) == set(library.sections), set(library.sections) - set(spread)


def test_facts_are_single_sentences(library: Library):
    for fact in library.facts.values():
        assert sentences(fact.text) == 1, (fact.id, fact.text)


def test_quiz_questions_are_answerable(library: Library):
    for question in library.quiz.values():
        assert 2 <= len(question.choices) <= 5
        assert len(set(question.choices)) == len(question.choices)
        assert question.choices[question.answer_index] == question.answer
        assert question.explanation
    positions = Counter(q.answer_index for q in library.quiz.values())
    assert len(positions) >= 3, "the right answer should not always sit in the same place"


def test_a_good_share_of_quiz_questions_carry_a_hint(library: Library):
    hinted = [q for q in library.quiz.values() if q.hint]
    assert len(hinted) >= 30
    for question in hinted:  # one sentence that nudges: never a choice, never the question
        assert question.hint.endswith(".") and question.hint.count(". ") == 0, question.id
        assert question.hint not in question.choices and question.hint != question.question


def test_discussion_prompts_are_open_questions(library: Library):
    closed = re.compile(r"^(is|are|do|does|did|can|should|was|were|has|have|will|would|could)\b",
                        re.I)  # fmt: skip
    for prompt in library.prompts.values():
        assert not closed.match(prompt.prompt), (prompt.id, prompt.prompt)


@pytest.mark.parametrize(
    ("entry_id", "must_mention"),
    [
        ("unmil", ["Accra"]),  # the article credits UNMIL with ending the war in 2003
        ("nato", ["Article 5"]),  # "under its collective defense framework"
        ("unamsil", ["UNAMSIL"]),  # the invented "Sierra Leone Civil War Peacekeeping Operation"
    ],
)
def test_article_errors_carry_a_correcting_note(library: Library, entry_id, must_mention):
    note = library.get(entry_id).note
    assert note, f"{entry_id} needs a note on what the article got wrong"
    for word in must_mention:
        assert word in note


def test_every_quiz_question_and_fact_names_a_source(library: Library):
    for entry in [*library.facts.values(), *library.quiz.values()]:
        assert entry.source.title.strip(), entry.id
