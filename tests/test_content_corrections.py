"""Claims a subject-matter audit found wrong or imprecise (issue 14) stay corrected everywhere.

Each test scans every text field of every entry, so a wrong claim cannot come back through a
new fact, a quiz explanation or a note, not only through the entry that was fixed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest

from bot.content import Entry, Library
from tests.fingerprint import split_sentences

ARTICLE_TITLE = "Understanding the Role and Impact of Multinational Peace Enforcement Missions"


def prose(entry: Entry) -> Iterator[tuple[str, str]]:
    """``(field, text)`` for every text field of an entry, list items one by one."""
    for field in dataclasses.fields(entry):
        if field.name in ("id", "section", "related_terms", "tags", "sources", "source"):
            continue
        value = getattr(entry, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, str):
                yield field.name, item


def all_entries(library: Library) -> list[Entry]:
    tables = (library.sections, library.terms, library.facts, library.quiz, library.prompts)
    return [entry for table in tables for entry in table.values()]


def sentences_matching(library: Library, *patterns: str) -> list[str]:
    """Every sentence, anywhere in the library, that matches all of ``patterns``."""
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    hits = []
    for entry in all_entries(library):
        for field, text in prose(entry):
            for sentence in split_sentences(text):
                if all(p.search(sentence) for p in compiled):
                    hits.append(f"{entry.id}.{field}: {sentence}")
    return hits


def test_sentence_scan_finds_what_it_looks_for(library: Library):
    # the scanner itself must see definitions, facts and quiz explanations
    assert sentences_matching(library, r"\bDayton\b")
    assert sentences_matching(library, r"\bresolution 1509\b", r"\bUNMIL\b")


# ---------------------------------------------------------------- hard errors


def test_no_entry_starts_the_dayton_ceasefire_on_14_october(library: Library):
    # agreed on 5 October 1995, in force from 00:01 on 12 October (facts-2.md B1)
    wrong = sentences_matching(library, r"cease-?fire", r"\b14 October\b")
    assert not wrong, wrong
    dayton = library.terms["dayton-agreement"].definition
    assert "5 October" in dayton and "12 October" in dayton


def test_ecomog_is_not_said_to_have_left_liberia_in_1998(library: Library):
    # the mission formally ended in early 1998, the last troops left in late October 1999
    assert not sentences_matching(library, r"until early 1998"), "ECOMOG stayed until 1999"
    assert not sentences_matching(library, r"ECOMOG", r"(remained|stayed) in Liberia until 1998")
    assert "1999" in library.terms["ecomog"].definition


def test_no_entry_says_the_oas_has_35_members(library: Library):
    present_tense = r"(\bwith|\bhas|\bhave|\bof) 35 (member states|members|states)|35 states belong"
    assert not sentences_matching(library, present_tense)
    oas = library.terms["oas"].definition
    assert "Nicaragua" in oas and "2023" in oas


# ---------------------------------------------------------------- imprecise claims


def test_inter_american_peace_force_is_not_given_a_1967_end(library: Library):
    # the troops left in the second half of 1966; no dissolution date is confirmed
    for name in (r"Inter-American Peace Force|\bIAPF\b", r"\bOAS\b"):
        wrong = sentences_matching(library, name, r"1967|65[-–]67")
        assert not wrong, wrong
    assert "1966" in library.terms["inter-american-peace-force"].definition


def test_force_intervention_brigade_is_not_called_the_first_offensive_force(library: Library):
    # ONUC fought in the Congo in 1961-63; resolution 2098 set the brigade up as exceptional
    first_offensive = r"first\W+(UN\W+)?offensive\W+combat\W+(force|brigade|unit)"
    wrong = sentences_matching(library, first_offensive)
    wrong += sentences_matching(library, r"UN's first\W+offensive")
    assert not wrong, wrong
    for term_id in ("force-intervention-brigade", "resolution-2098"):
        assert "exceptional basis" in library.terms[term_id].definition, term_id


def test_unef_is_the_first_armed_peacekeeping_force_not_the_first_armed_force(library: Library):
    # the US-led unified command in Korea (1950) came before UNEF I (1956)
    wrong = sentences_matching(library, r"first armed (UN )?force")
    assert not wrong, wrong


def test_chapter_vii_force_supply_is_articles_43_to_45(library: Library):
    # Articles 46-47 are planning and the Military Staff Committee
    assert not sentences_matching(library, r"\b43\s*[-–]\s*47\b")
    assert "43-45" in library.terms["chapter-vii"].definition


def test_tcc_study_is_not_presented_as_the_five_largest_contributors(library: Library):
    text = library.facts["tcc-five-largest-contributors"].text
    assert "study" in text
    assert re.search(r"\bnot\b[^.;]*\branking\b", text), "say how the figure differs from a ranking"
    for match in re.finditer(r"largest", text):
        assert "not" in text[max(0, match.start() - 40) : match.start()].split(), text
    assert not sentences_matching(library, r"five largest (contributors|troop)")


def test_atmis_drawdown_figure_adds_up(library: Library):
    # "7,000 drawn down" must come with the ceilings it is the difference of
    definition = library.terms["atmis"].definition
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\b\d{1,2},\d{3}\b", definition)}
    if 7000 in numbers:
        assert any(high - low == 7000 for high in numbers for low in numbers), definition
    sources = " ".join(s.url or "" for s in library.terms["atmis"].sources)
    assert "press.un.org" in sources


# ---------------------------------------------------------------- quiz items


def test_arab_deterrent_force_answer_is_not_given_away_by_its_name(library: Library):
    question = library.quiz["q-arab-deterrent-force"]
    with_arab = [c for c in question.choices if "Arab" in c]
    assert question.answer in with_arab and len(with_arab) >= 2, question.choices


@pytest.mark.parametrize(
    "quiz_id",
    [
        "q-nato-peace-support-basis",
        "q-cold-war-enforcement",
        "q-oas-arab-league-nature",
        "q-council-voting-rule",
        "q-drones-and-ai-claim",
        "q-poc-not-new",
    ],
)
def test_question_premise_does_not_rule_out_the_tempting_choice(library: Library, quiz_id):
    # "The article says X. What is actually true?" tells the student X is the wrong answer
    question = library.quiz[quiz_id].question
    assert not re.search(r"\bactually\b|\breally\b|\bthe (checked )?sources\b", question)
    assert not re.match(r"The (source )?article says", question)


def test_peacekeeping_principle_on_force_is_stated_exactly(library: Library):
    # the principle is no force except in self-defence and defence of the mandate
    assert not sentences_matching(library, r"minimal (use of )?force")


def test_liberia_question_asks_which_agreement_ended_the_war(library: Library):
    question = library.quiz["q-liberia-war-end-2003"]
    assert "agreement" in question.question.lower()
    assert all("agreement" in choice.lower() for choice in question.choices), question.choices
    assert "Accra" in question.answer


def test_sierra_leone_question_has_one_right_answer(library: Library):
    # UNIOSIL was also a UN mission in Sierra Leone, but not a peacekeeping one, and came in 2006
    question = library.quiz["q-sierra-leone-mission-name"]
    assert "peacekeeping mission" in question.question
    assert "1999" in question.question and "2005" in question.question
    assert question.answer == "UNAMSIL"


def test_questions_and_prompts_name_the_source_article(library: Library):
    mentions = re.compile(r"\b(the|this) (source )?article\b", re.IGNORECASE)
    asked = [q.question for q in library.quiz.values()] + [
        p.prompt for p in library.prompts.values()
    ]
    unnamed = [text[:80] for text in asked if mentions.search(text) and ARTICLE_TITLE not in text]
    assert not unnamed, unnamed
