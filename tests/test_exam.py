"""The private exam: no feedback until the end, one deadline, the score and the comparison."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.exam import (
    MAX_EXAM_SECONDS,
    ExamAlreadyRunning,
    ExamAnswerStatus,
    ExamRecord,
    ExamResult,
    ExamSession,
    ExamState,
    compare,
    exam_question_card,
    exam_registry,
    exam_time_limit,
    result_cards,
)
from bot.quiz import NoQuestions, Question
from tests.review_fake import FakeReviewStore
from tests.study_clock import FakeClock
from tests.test_quiz import make_question

ANN = 101
WALL = datetime(2024, 3, 15, 8, tzinfo=UTC)


def question(n: int, answer: int = 1, section: str = "mandates") -> Question:
    return replace(make_question(n, answer), section=section)


class Recorder:
    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def show_question(self, session: ExamSession, index: int, q: Question) -> None:
        self.events.put_nowait(("question", index))

    async def show_result(self, session: ExamSession, result: ExamResult) -> None:
        self.events.put_nowait(("result", result))

    async def next(self, kind: str) -> Any:
        got, payload = await asyncio.wait_for(self.events.get(), timeout=5)
        assert got == kind, (got, payload)
        return payload


def new_exam(count: int = 3, **kwargs: Any) -> tuple[ExamSession, Recorder, FakeClock]:
    clock, recorder = FakeClock(), Recorder()
    wall = iter(WALL + timedelta(seconds=n) for n in range(0, 10_000, 30))
    session = ExamSession(
        [question(n, section="law" if n % 2 else "mandates") for n in range(count)],
        user_id=ANN,
        presenter=recorder,
        clock=clock,
        wall=lambda: next(wall),
        **kwargs,
    )
    return session, recorder, clock


async def test_an_exam_runs_privately_to_its_score_without_feedback_on_the_way() -> None:
    session, recorder, clock = new_exam(3)
    session.start()
    assert await recorder.next("question") == 0
    # An answer says only that it was taken: no right or wrong before the end.
    assert session.answer(0, 1) is ExamAnswerStatus.ACCEPTED
    assert await recorder.next("question") == 1
    assert session.answer(0, 2) is ExamAnswerStatus.ALREADY_ANSWERED
    assert session.answer(2, 0) is ExamAnswerStatus.INVALID  # not shown yet
    clock.advance(10)
    assert session.answer(1, 0) is ExamAnswerStatus.ACCEPTED
    assert await recorder.next("question") == 2
    assert session.answer(2, 1) is ExamAnswerStatus.ACCEPTED
    result: ExamResult = await recorder.next("result")
    await session.wait()
    assert (result.correct, result.asked, result.answered) == (2, 3, 3)
    assert not result.timed_out and not result.stopped
    assert result.seconds == 10
    assert [item.correct for item in result.items] == [True, False, True]
    assert result.by_section() == (("law", 1, 0), ("mandates", 2, 2))
    assert session.answer(2, 1) is ExamAnswerStatus.CLOSED


async def test_time_running_out_ends_the_exam_with_unanswered_questions_wrong() -> None:
    session, recorder, clock = new_exam(3, time_limit=60)
    session.start()
    await recorder.next("question")
    session.answer(0, 1)
    await recorder.next("question")
    await clock.advance_when_sleeping(60)
    result: ExamResult = await recorder.next("result")
    assert result.timed_out and result.answered == 1 and result.correct == 1
    assert result.items[2].chosen is None and not result.items[2].correct
    assert result.seconds == 60


async def test_stopping_scores_what_was_answered() -> None:
    session, recorder, _clock = new_exam(4)
    session.start()
    await recorder.next("question")
    session.answer(0, 1)
    await recorder.next("question")
    session.stop()
    result: ExamResult = await recorder.next("result")
    assert result.stopped and not result.timed_out and result.asked == 4


def test_time_limits_stay_inside_the_interaction_token() -> None:
    assert exam_time_limit(5) == 200
    assert exam_time_limit(100) == MAX_EXAM_SECONDS < 15 * 60
    with pytest.raises(ValueError):
        ExamState([question(0)], MAX_EXAM_SECONDS + 1, FakeClock())
    with pytest.raises(NoQuestions):
        ExamState([], 60, FakeClock())


async def test_one_exam_per_member() -> None:
    registry = exam_registry()
    first, recorder, _ = new_exam(1)
    registry.start(first)
    second, _, _ = new_exam(1)
    with pytest.raises(ExamAlreadyRunning):
        registry.start(second)
    await recorder.next("question")
    first.answer(0, 1)
    await recorder.next("result")
    await first.wait()
    await asyncio.sleep(0)  # the done callback runs on the next loop iteration
    assert registry.get(ANN) is None and len(registry) == 0


async def test_records_round_trip_and_compare_with_earlier_exams() -> None:
    store = FakeReviewStore()
    scores = [(3, 5), (4, 5), (2, 5)]
    for n, (correct, asked) in enumerate(scores):
        start = WALL + timedelta(days=n)
        sections = (("law", asked, correct),)
        record = ExamRecord("u" * 32, None, start, start + timedelta(minutes=3), asked, correct,
                            False, sections)  # fmt: skip
        await store.save_exam(record)
    history = await store.exam_history("u" * 32, None, 10)
    assert [r.correct for r in history] == [2, 4, 3]  # newest first
    assert ExamRecord.from_row(history[0].to_row()) == history[0]
    latest = ExamRecord("u" * 32, None, WALL, WALL + timedelta(days=9), 5, 5, False)
    comparison = compare(latest, history)
    assert comparison.previous == 3 and comparison.last_percent == 40
    assert comparison.best_percent == 80 and comparison.change == 60
    assert comparison.average_percent == pytest.approx(60)
    assert comparison.personal_best
    assert compare(latest, []).previous == 0


async def test_a_finished_session_makes_its_record_and_cards() -> None:
    session, recorder, _clock = new_exam(2)
    session.start()
    await recorder.next("question")
    session.answer(0, 0)
    await recorder.next("question")
    session.answer(1, 1)
    result = await recorder.next("result")
    await session.wait()
    record = ExamRecord.of(session, "u" * 32)
    assert record.asked == 2 and record.correct == 1 and record.started_at == WALL
    assert record.finished_at > record.started_at
    cards = result_cards(result, compare(record, []), "Mandates")
    text = "\n".join(card.description for card in cards)
    assert "1/2" in text and "Because 0." in text and "Right: **B. B** (yours: A)" in text
    assert "first exam" in text
    card = exam_question_card(question(0), 0, 2, 75)
    assert card.title == "Exam · question 1/2" and "1:15 left" in (card.footer or "")
    assert "**A.** A" in card.description
