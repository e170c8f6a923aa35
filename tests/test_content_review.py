"""Findings of the round-2 subject-matter review that a test can hold.

Quiz wording must not give the answer away, and missions that are over must not appear on a
timeline as still running.
"""

from __future__ import annotations

import re

import pytest

from bot.content import Library

# An answer this many characters longer than every distractor stands out on the buttons.
LENGTH_TELL = 12
_STOPWORDS = frozenset(
    re.findall(
        r"[a-z]+",
        "the a an of in on and or to for by with which what who whose when how why did does was "
        "were is are be it its that this from as at under than into their his her after before "
        "about between",
    )
)


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2} - _STOPWORDS


def test_no_answer_is_the_clearly_longest_choice(library: Library):
    tells = []
    for question in library.quiz.values():
        longest_distractor = max(len(c) for c in question.choices if c != question.answer)
        if len(question.answer) - longest_distractor >= LENGTH_TELL:
            tells.append((question.id, question.answer))
    assert not tells, tells


def test_no_answer_is_the_only_choice_echoing_the_question(library: Library):
    tells = []
    for question in library.quiz.values():
        asked = content_words(question.question)
        echoes = {c for c in question.choices if content_words(c) & asked}
        if echoes == {question.answer}:
            tells.append((question.id, sorted(content_words(question.answer) & asked)))
    assert not tells, tells


def test_the_tell_checks_catch_a_giveaway():
    assert content_words("Which force did the Arab League send?") & content_words("Arab force")
    assert not content_words("In which year was it?") & content_words("In 1999")


@pytest.mark.parametrize(
    ("term_id", "why"),
    [
        ("korea-1950", "the armistice of 27 July 1953 ended the fighting"),
        ("ecomog", "it left Liberia in 1999 and handed Sierra Leone to UNAMSIL in 2000"),
        ("mss-haiti", "resolution 2793 turned it into the Gang Suppression Force in 2025"),
        ("operation-turquoise", "the French-led force left Rwanda on 21 August 1994"),
    ],
)
def test_missions_that_are_over_have_an_end(library: Library, term_id, why):
    term = library.terms[term_id]
    assert term.ended, f"{term_id} shows as still active, but {why}"


def test_multinational_forces_under_one_lead_are_coalitions(library: Library):
    # README: "coalition" for a multinational force under one state's lead authorized by the
    # Council; "state" only for one country's own operation
    for term_id in ("operation-turquoise", "interfet", "unitaf", "mss-haiti"):
        assert library.terms[term_id].led_by == "coalition", term_id
