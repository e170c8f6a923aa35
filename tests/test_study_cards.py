"""Cards for quizzes, leaderboards, progress and discussions: content, limits, safe names."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.answers import EMBED_MAX
from bot.content import Library, Source
from bot.loader import load_library
from bot.quiz import Question, Reveal, Scoreboard, ScoreLine
from bot.streaks import Streak
from bot.study_cards import (
    LeaderboardLine,
    choice_label,
    is_discussion_thread,
    leaderboard_card,
    member_name,
    pick_prompt,
    progress_card,
    prompt_card,
    question_card,
    reveal_card,
    scoreboard_card,
    thread_name,
)

LIBRARY = Path(__file__).parent / "data" / "library"


@pytest.fixture(scope="module")
def small() -> Library:
    return load_library(LIBRARY)


QUESTION = Question(
    id="q-1",
    text="Which article covers sanctions?",
    choices=("Article 41", "Article 42", "Article 51"),
    answer_index=0,
    explanation="Article 41 lists measures short of force.",
    section="international-law",
    source=Source("Charter of the United Nations", "https://www.un.org/en/about-us/un-charter"),
)


def test_question_card_letters_every_choice() -> None:
    card = question_card(QUESTION, 0, 5, 30)
    assert card.title == "Question 1/5"
    assert "**A.** Article 41" in card.description and "**C.** Article 51" in card.description
    assert "30 s" in (card.footer or "")


def test_reveal_card_marks_the_answer_and_counts() -> None:
    reveal = Reveal(0, 5, QUESTION, (2, 1, 0), ("Ann", "@everyone"))
    card = reveal_card(reveal, "International law")
    assert card.title.endswith("A is right")
    assert "✅ **A.** Article 41 — 2 people" in card.description
    assert "▫️ **B.** Article 42 — 1 person" in card.description
    assert "0 people" in card.description
    fields = {field.name: field.value for field in card.fields}
    assert fields["Why"] == QUESTION.explanation
    assert "@\u200beveryone" in fields["Right"]  # names are inert
    assert fields["Source"].startswith("[Charter of the United Nations](https://")
    assert card.footer == "3 answered · International law"


def test_scoreboard_card_ranks_and_empty_case() -> None:
    board = Scoreboard(
        (
            ScoreLine(1, 1, "Ann", 3, 3),
            ScoreLine(1, 2, "**Bob**", 3, 4),
            ScoreLine(3, 3, "C", 0, 1),
        ),
        asked=4,
        total=5,
        stopped_by=1,
    )
    card = scoreboard_card(board)
    lines = card.description.splitlines()
    assert lines[0] == "🥇 **Ann**: 3/3 right"
    assert lines[1] == "🥇 **\\*\\*Bob\\*\\***: 3/4 right"
    assert lines[2].startswith("🥉")
    assert "stopped early" in (card.footer or "") and "4 of 5" in (card.footer or "")
    assert "Nobody answered" in scoreboard_card(Scoreboard((), 1, 1, None)).description


def test_leaderboard_card_shows_accuracy_streaks_and_period() -> None:
    lines = [
        LeaderboardLine("Ann", 10, 8, Streak(3, 5)),
        LeaderboardLine("Bob", 10, 8, Streak(0, 2)),
        LeaderboardLine("Cat", 4, 1, None),
    ]
    card = leaderboard_card(lines, "Mandates", "March 2024")
    assert card.title == "Leaderboard: Mandates, March 2024"
    rows = card.description.splitlines()
    assert rows[0] == "🥇 **Ann**: 8 right of 10 (80%) · 🔥 3 days"
    assert rows[1] == "🥇 **Bob**: 8 right of 10 (80%)"
    assert rows[2] == "🥉 **Cat**: 1 right of 4 (25%)"
    empty = leaderboard_card([], None, None)
    assert empty.title == "Leaderboard: all sections, all time"
    assert "/quiz" in empty.description


def test_progress_card_per_section_weakest_first() -> None:
    titles = {"mandates": "Mandates", "future": "The Future"}
    card = progress_card([("mandates", 4, 4), ("future", 4, 1)], Streak(2, 6), titles)
    text = card.description
    assert "**5** right of **8** (62%)" in text
    assert "Study streak: **2** days (best 6)" in text
    assert text.index("The Future: 1/4 (25%)") < text.index("Mandates: 4/4 (100%)")
    assert "No quiz answers yet" in progress_card([], Streak(0, 0), titles).description


def test_prompts_by_section_with_fallback(small: Library) -> None:
    prompt = pick_prompt(small, "international-law", random.Random(0))
    assert prompt is not None and prompt.id == "p-force"
    # A section without prompts still gets one rather than nothing.
    assert pick_prompt(small, "successes-case-studies", random.Random(0)) is not None
    card = prompt_card(small, prompt)
    assert card.description == prompt.prompt
    assert card.fields[0].value == small.sections["international-law"].title
    assert prompt_card(small, prompt, note="No threads here.").footer == "No threads here."


def test_thread_names_fit_and_are_recognised() -> None:
    name = thread_name("x" * 300)
    assert len(name) <= 100 and is_discussion_thread(name)
    assert is_discussion_thread(thread_name(None))
    assert not is_discussion_thread("general chat")


def test_labels_and_names_stay_within_limits() -> None:
    assert len(choice_label(4, "y" * 200)) <= 80
    assert choice_label(1, "Article 42") == "B. Article 42"
    assert member_name("") == "someone"
    assert len(member_name("n" * 500)) <= 64


def test_cards_fit_discord_limits() -> None:
    long_question = Question("q", "w " * 500, tuple("c" * 80 for _ in range(5)), 0, "e " * 500, "s")
    reveal = Reveal(0, 20, long_question, (9, 9, 9, 9, 9), tuple(f"name{i}" for i in range(200)))
    for card in (question_card(long_question, 0, 20, 30), reveal_card(reveal, "t" * 100)):
        assert card.size() <= EMBED_MAX
        assert all(len(field.value) <= 1024 for field in card.fields)
