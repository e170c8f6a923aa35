"""End to end: a private exam runs to its score; hints after half the time; start cooldowns."""

from __future__ import annotations

import sys

import pytest

from bot.content import Library
from bot.cooldowns import StartLimits
from bot.quiz import Question
from tests.fake_discord import BotHarness, MessageRecord, Response
from tests.fake_discord.fixtures import StartPeacebot
from tests.study_clock import FakeClock

pytestmark = pytest.mark.e2e


def question_shown(shown: Response, library: Library):  # type: ignore[no-untyped-def]
    text = shown.embed["description"].split("\n")[0]
    return next(q for q in library.quiz.values() if q.question == text)


def button_for(shown: Response, choice: str) -> str:
    label = next(b for b in shown.buttons if b["label"][3:] == choice)
    return label["custom_id"]


async def answer_and_wait(
    harness: BotHarness, command: int, shown: Response, choice: str, seen: int
) -> Response:
    """Click `choice`; the click is only acknowledged, and the next screen replaces the
    command's private reply (its `seen`+1-th response)."""
    click = await harness.dispatch_click(button_for(shown, choice), shown, user="alice")
    ack = await harness.fake.wait_for_response(click.id)
    assert ack.callback_type == 6 and not ack.data  # no feedback on the way
    responses = await harness.fake.wait_for_responses(command, seen + 1)
    return responses[seen]


async def test_an_exam_runs_privately_to_its_score_and_is_compared_next_time(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    desk = harness.bot.get_cog("Quiz").exams  # type: ignore[union-attr]
    desk.clock = FakeClock()
    posted_before = len(harness.messages)

    command = await harness.dispatch_slash("quiz exam", {"questions": 2}, user="alice")
    deferred = await harness.fake.wait_for_response(command.id)
    assert deferred.callback_type == 5 and deferred.ephemeral  # private from the first moment
    first = await harness.fake.wait_for_answer(command.id)
    assert first.ephemeral and first.embed["title"] == "Exam · question 1/2"
    assert "answers are shown at the end" in first.embed["footer"]["text"]
    q1 = question_shown(first, library)
    wrong = next(c for c in q1.choices if c != q1.answer)

    second = await answer_and_wait(harness, command.id, first, wrong, 2)
    assert second.embed["title"] == "Exam · question 2/2"
    q2 = question_shown(second, library)
    result = await answer_and_wait(harness, command.id, second, q2.answer, 3)

    assert result.ephemeral and result.embed["title"].startswith("Exam results")
    text = result.text()
    assert "**1/2** right (50%)" in text and "first exam" in text
    assert "Right: **" in text and q1.explanation[:60] in text  # answers explained at the end
    assert "(yours: " in text and not result.buttons  # the buttons are gone
    assert len(harness.messages) == posted_before  # nothing was posted in the channel

    (record,) = await harness.bot.storage.exam_history(
        harness.bot.storage.user_hash(harness.world.users["alice"].id), None, 10
    )
    assert (record.asked, record.correct) == (2, 1)
    progress = await harness.slash("progress", user="alice")
    exams = {f["name"]: f["value"] for f in progress.embed["fields"]}["Exams"]
    assert exams.startswith("Last 50%")
    assert "**0** right of **0**" in progress.embed["description"]  # apart from group quizzes

    # A second exam, stopped at once, is compared with the first.
    command = await harness.dispatch_slash("quiz exam", {"questions": 3}, user="alice")
    shown = await harness.fake.wait_for_answer(command.id)
    stop = next(b for b in shown.buttons if b["label"] == "Stop and score")
    await harness.dispatch_click(stop["custom_id"], shown, user="alice")
    responses = await harness.fake.wait_for_responses(command.id, 3)
    assert "stopped early" in responses[2].text()
    assert "your last exam (50%)" in responses[2].text()


async def test_a_hint_button_appears_after_half_the_time(
    start_peacebot: StartPeacebot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    clock = FakeClock()
    quiz.clock, quiz.pause = clock, 0  # type: ignore[union-attr]
    hinted = next(q for q in library.quiz.values() if q.hint)
    # The extension's own module (discord.py loads each extension as a fresh module).
    quiz_module = sys.modules[type(quiz).__module__]
    monkeypatch.setattr(quiz_module, "pick_questions", lambda *args: [Question.from_entry(hinted)])
    await harness.slash("quiz start", {"questions": 1}, user="alice")
    posted = await harness.wait_for_message(
        lambda m: bool(m.buttons), channel_id=harness.channel.id
    )
    assert "Hint" not in [b["label"] for b in posted.buttons]

    await clock.wait_for_sleeper(lambda: clock.deadlines == [clock.now() + 15])
    clock.advance(15)  # half of the 30 s
    await harness.fake.message_log.wait_until(lambda m: m.id == posted.id and has_hint(m))
    now = MessageRecord(message=harness.fake.snapshot(posted.id) or {}, body={})
    hint = await harness.click(now.button("Hint")["custom_id"], now, user="mod")
    assert hint.ephemeral and hint.content == f"💡 Hint: {hinted.hint}"
    assert all(b.get("disabled") is not True for b in now.buttons)  # answering goes on


def has_hint(record: MessageRecord) -> bool:
    """Whether an edit of the posted question has added the Hint button."""
    edits = [MessageRecord(message=edit, body={}) for edit in record.edits]
    return any("Hint" in [b.get("label") for b in edit.buttons] for edit in edits)


async def test_starting_quizzes_is_limited_through_the_error_handler(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    now = [0.0]
    quiz.clock = FakeClock()  # type: ignore[union-attr]
    quiz.limits = StartLimits(lambda: now[0])  # type: ignore[union-attr]

    async def start_and_stop(channel: str) -> None:
        started = await harness.slash("quiz start", {"questions": 2}, user="alice", channel=channel)
        assert "2 questions" in started.content
        where = harness.world.channels[channel].id
        await harness.wait_for_message(lambda m: bool(m.buttons), channel_id=where)
        await harness.slash("quiz stop", user="alice", channel=channel)
        await harness.wait_for_message(
            lambda m: bool(m.embeds) and m.embed.get("title") == "Quiz results", channel_id=where
        )

    await start_and_stop("general")
    again = await harness.slash("quiz start", {}, user="mod")  # the same channel at once
    assert again.ephemeral
    assert again.content == (
        "A quiz was started here a moment ago. Slow down a little: try again in 30 s."
    )
    await start_and_stop("study")  # elsewhere is fine: two start/stop cycles now
    now[0] += 60
    cycles = await harness.slash("quiz start", {}, user="alice")
    assert cycles.ephemeral and cycles.content.startswith(
        "You have started and stopped quizzes several times in a short time."
    )
    assert "try again in 540 s" in cycles.content
    other = await harness.slash("quiz start", {"questions": 1}, user="mod")  # only alice waits
    assert "1 question" in other.content
