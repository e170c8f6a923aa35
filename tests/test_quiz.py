"""The quiz state machine, driven by a fake clock and a recording presenter."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

import pytest

from bot.content import QuizQuestion, Source
from bot.quiz import (
    AnswerStatus,
    NoQuestions,
    Question,
    QuizAlreadyRunning,
    QuizRegistry,
    QuizSession,
    QuizState,
    Reveal,
    Scoreboard,
    pick_questions,
)
from tests.study_clock import FakeClock

ANN, BOB, CAT = 101, 202, 303


def make_question(n: int, answer: int = 1) -> Question:
    return Question(
        id=f"q-{n}",
        text=f"Question {n}?",
        choices=("A", "B", "C"),
        answer_index=answer,
        explanation=f"Because {n}.",
        section="mandates",
    )


class Recorder:
    """A presenter that records what would be shown and lets the test await each step."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.fail_on = fail_on

    async def show_question(self, session: QuizSession, index: int, question: Question) -> None:
        await self._record("question", index)

    async def show_reveal(self, session: QuizSession, reveal: Reveal) -> None:
        await self._record("reveal", reveal)

    async def show_scoreboard(self, session: QuizSession, scoreboard: Scoreboard) -> None:
        await self._record("scoreboard", scoreboard)

    async def offer_hint(self, session: QuizSession, index: int, question: Question) -> None:
        await self._record("hint", index)

    async def _record(self, kind: str, payload: Any) -> None:
        if kind == self.fail_on:
            raise RuntimeError("Discord said no")
        self.events.put_nowait((kind, payload))

    async def next(self, kind: str) -> Any:
        got, payload = await asyncio.wait_for(self.events.get(), timeout=5)
        assert got == kind, (got, payload)
        return payload


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def new_session(recorder: Recorder, clock: FakeClock, count: int = 2, **kwargs: Any) -> QuizSession:
    return QuizSession(
        [make_question(n) for n in range(count)],
        channel_id=kwargs.pop("channel_id", 555),
        starter_id=ANN,
        presenter=recorder,
        clock=clock,
        **kwargs,
    )


async def test_full_quiz_with_scoring_and_counts(recorder: Recorder, clock: FakeClock) -> None:
    session = new_session(recorder, clock)
    session.start()

    assert await recorder.next("question") == 0
    assert session.answer(ANN, "Ann", 0, 1).status is AnswerStatus.ACCEPTED
    assert session.answer(BOB, "Bob", 0, 2).correct is False
    assert session.answer(CAT, "Cat", 0, 1).correct is True
    await clock.advance_when_sleeping(30)
    reveal = await recorder.next("reveal")
    assert reveal.counts == (0, 2, 1)
    assert reveal.correct_names == ("Ann", "Cat")
    assert (reveal.index, reveal.total) == (0, 2)

    assert await recorder.next("question") == 1
    session.answer(ANN, "Ann", 1, 0)
    session.answer(BOB, "Bob", 1, 1)
    await clock.advance_when_sleeping(30)
    assert (await recorder.next("reveal")).counts == (1, 1, 0)

    board = await recorder.next("scoreboard")
    await session.wait()
    # Equal scores share a rank; fewer questions used to get there lists first.
    lines = [(line.rank, line.display_name, line.correct, line.answered) for line in board.lines]
    assert lines == [
        (1, "Cat", 1, 1),
        (1, "Ann", 1, 2),
        (1, "Bob", 1, 2),
    ]
    assert (board.asked, board.total, board.stopped_by) == (2, 2, None)
    assert not session.running


async def test_second_answer_is_refused_and_not_counted(
    recorder: Recorder, clock: FakeClock
) -> None:
    session = new_session(recorder, clock, count=1)
    session.start()
    await recorder.next("question")
    assert session.answer(BOB, "Bob", 0, 0).status is AnswerStatus.ACCEPTED
    again = session.answer(BOB, "Bob", 0, 1)
    assert again.status is AnswerStatus.ALREADY_ANSWERED
    assert again.correct is False  # tells them how their first answer went
    await clock.advance_when_sleeping(30)
    reveal = await recorder.next("reveal")
    assert reveal.counts == (1, 0, 0)
    board = await recorder.next("scoreboard")
    assert [(line.display_name, line.correct, line.answered) for line in board.lines] == [
        ("Bob", 0, 1)
    ]


async def test_answer_after_the_time_limit_is_closed(recorder: Recorder, clock: FakeClock) -> None:
    session = new_session(recorder, clock, count=1)
    session.start()
    await recorder.next("question")
    clock.advance(29.9)
    assert session.answer(ANN, "Ann", 0, 1).status is AnswerStatus.ACCEPTED
    await clock.advance_when_sleeping(0.1)
    # The deadline has passed even though the session has not processed it yet.
    assert session.answer(BOB, "Bob", 0, 1).status is AnswerStatus.CLOSED
    assert (await recorder.next("reveal")).counts == (0, 1, 0)


async def test_old_question_buttons_and_bad_choices(recorder: Recorder, clock: FakeClock) -> None:
    session = new_session(recorder, clock)
    session.start()
    await recorder.next("question")
    assert session.answer(ANN, "Ann", 0, 7).status is AnswerStatus.INVALID
    assert session.answer(ANN, "Ann", 1, 0).status is AnswerStatus.CLOSED  # not asked yet
    await clock.advance_when_sleeping(30)
    await recorder.next("reveal")
    await recorder.next("question")
    assert session.answer(ANN, "Ann", 0, 1).status is AnswerStatus.CLOSED  # already revealed


async def test_closes_early_once_everyone_present_answered(
    recorder: Recorder, clock: FakeClock
) -> None:
    session = new_session(recorder, clock, count=3)
    session.start()
    await recorder.next("question")
    # The first question stays open for its whole time: nobody knows yet who is playing.
    session.answer(ANN, "Ann", 0, 1)
    session.answer(BOB, "Bob", 0, 1)
    await clock.advance_when_sleeping(30)
    await recorder.next("reveal")
    await recorder.next("question")
    start = clock.now()
    session.answer(BOB, "Bob", 1, 1)
    assert session.answer(ANN, "Ann", 1, 0).status is AnswerStatus.ACCEPTED
    reveal = await recorder.next("reveal")  # no clock advance needed
    assert clock.now() == start
    assert reveal.counts == (1, 1, 0)
    # A newcomer on question 3 does not hold it open for the others, nor close it alone.
    await recorder.next("question")
    session.answer(CAT, "Cat", 2, 1)
    session.answer(ANN, "Ann", 2, 1)
    assert session.running and clock.sleeping == 1
    session.answer(BOB, "Bob", 2, 1)
    assert (await recorder.next("reveal")).counts == (0, 3, 0)
    board = await recorder.next("scoreboard")
    assert [(line.rank, line.display_name, line.correct) for line in board.lines] == [
        (1, "Bob", 3),
        (2, "Ann", 2),
        (3, "Cat", 1),
    ]


async def test_stop_reveals_open_question_then_scoreboard(
    recorder: Recorder, clock: FakeClock
) -> None:
    session = new_session(recorder, clock, count=5)
    session.start()
    await recorder.next("question")
    session.answer(BOB, "Bob", 0, 1)
    assert session.may_stop(ANN, is_moderator=False)
    assert not session.may_stop(BOB, is_moderator=False)
    assert session.may_stop(BOB, is_moderator=True)
    session.request_stop(BOB)
    reveal = await recorder.next("reveal")
    assert reveal.counts == (0, 1, 0)
    board = await recorder.next("scoreboard")
    await session.wait()
    assert (board.asked, board.total, board.stopped_by) == (1, 5, BOB)
    assert [(line.display_name, line.correct) for line in board.lines] == [("Bob", 1)]
    assert clock.sleeping == 0  # the timer was cancelled, nothing left behind


async def test_cancel_is_silent_and_frees_the_channel(recorder: Recorder, clock: FakeClock) -> None:
    registry = QuizRegistry()
    session = new_session(recorder, clock)
    registry.start(session)
    await recorder.next("question")
    registry.cancel_all()
    await session.wait()
    assert recorder.events.empty()
    assert registry.get(555) is None
    assert session.answer(ANN, "Ann", 0, 1).status is AnswerStatus.CLOSED


async def test_registry_allows_one_quiz_per_channel(recorder: Recorder, clock: FakeClock) -> None:
    registry = QuizRegistry()
    first = new_session(recorder, clock, count=1)
    registry.start(first)
    with pytest.raises(QuizAlreadyRunning):
        registry.start(new_session(recorder, clock, count=1))
    other = new_session(Recorder(), clock, count=1, channel_id=777)
    registry.start(other)
    assert len(registry) == 2
    assert registry.get(555) is first
    await recorder.next("question")
    first.request_stop(ANN)
    await first.wait()
    await asyncio.sleep(0)  # let the done-callback run
    assert registry.get(555) is None
    registry.start(new_session(recorder, clock, count=1))  # the channel is free again
    registry.cancel_all()


async def test_presenter_failure_ends_the_quiz_and_frees_the_channel(clock: FakeClock) -> None:
    registry = QuizRegistry()
    session = new_session(Recorder(fail_on="question"), clock)
    registry.start(session)
    await session.wait()
    await asyncio.sleep(0)
    assert session.failed
    assert registry.get(555) is None


async def test_start_twice_is_refused(recorder: Recorder, clock: FakeClock) -> None:
    session = new_session(recorder, clock, count=1)
    session.start()
    with pytest.raises(Exception, match="already"):
        session.start()
    session.cancel()
    await session.wait()


def test_state_scoreboard_ranks_ties_together(clock: FakeClock) -> None:
    state = QuizState([make_question(0), make_question(1)], 30, clock)
    state.open(0)
    state.answer(ANN, "Ann", 0, 1)
    state.answer(BOB, "Bob", 0, 1)
    state.answer(CAT, "Cat", 0, 0)
    state.close()
    state.open(1)
    state.answer(BOB, "Bob", 1, 1)
    state.close()
    board = state.scoreboard()
    assert [(line.rank, line.display_name, line.correct) for line in board.lines] == [
        (1, "Bob", 2),
        (2, "Ann", 1),
        (3, "Cat", 0),
    ]


def test_state_rejects_bad_setup(clock: FakeClock) -> None:
    with pytest.raises(NoQuestions):
        QuizState([], 30, clock)
    with pytest.raises(ValueError):
        QuizState([make_question(0)], 0, clock)


def entry(n: int, section: str = "mandates") -> QuizQuestion:
    return QuizQuestion(
        id=f"q-{n}",
        question=f"Question {n}?",
        choices=("right", "wrong one", "wrong two", "wrong three"),
        answer="right",
        explanation="Because.",
        section=section,
        source=Source("Charter of the United Nations"),
    )


def test_from_entry_shuffles_choices_but_keeps_the_answer() -> None:
    positions = set()
    for seed in range(30):
        question = Question.from_entry(entry(1), random.Random(seed))
        assert question.answer == "right"
        assert sorted(question.choices) == sorted(entry(1).choices)
        positions.add(question.answer_index)
    assert len(positions) > 1


def test_pick_questions_by_section_and_count() -> None:
    entries = [entry(n, "mandates" if n % 2 else "future") for n in range(10)]
    picked = pick_questions(entries, 3, random.Random(1), section="mandates")
    assert len(picked) == 3 and len({q.id for q in picked}) == 3
    assert all(q.section == "mandates" for q in picked)
    assert len(pick_questions(entries, 50, random.Random(1))) == 10
    assert len(pick_questions(entries, 0, random.Random(1))) == 1
    with pytest.raises(NoQuestions):
        pick_questions(entries, 3, random.Random(1), section="no-such")


async def test_pause_between_questions_and_stop_during_it(
    recorder: Recorder, clock: FakeClock
) -> None:
    session = new_session(recorder, clock, count=3, pause=4)
    session.start()
    await recorder.next("question")
    await clock.advance_when_sleeping(30)
    await recorder.next("reveal")
    await clock.advance_when_sleeping(3.9)
    assert recorder.events.empty() and clock.sleeping == 1  # still pausing
    await clock.advance_when_sleeping(0.1)
    assert await recorder.next("question") == 1
    await clock.advance_when_sleeping(30)
    await recorder.next("reveal")
    session.request_stop(ANN)  # during the pause: no third question
    board = await recorder.next("scoreboard")
    assert (board.asked, board.stopped_by) == (2, ANN)


async def test_the_scoreboard_waits_for_every_answer_being_saved(
    recorder: Recorder, clock: FakeClock
) -> None:
    session = new_session(recorder, clock, count=1)
    session.start()
    await recorder.next("question")
    saved = asyncio.Event()
    assert session.answer(ANN, "Ann", 0, 1).status is AnswerStatus.ACCEPTED
    session.track_save(saved.wait())  # the save is still being written...
    await clock.advance_when_sleeping(30)
    await recorder.next("reveal")
    # The session went straight on after the reveal (its presenter never suspends): had it not
    # waited for the save, the scoreboard would be queued by now.
    assert recorder.events.empty()
    saved.set()
    board = await recorder.next("scoreboard")
    assert [line.display_name for line in board.lines] == ["Ann"]


async def test_a_server_leaving_cancels_only_its_quizzes(
    recorder: Recorder, clock: FakeClock
) -> None:
    registry = QuizRegistry()
    here = new_session(recorder, clock, guild_id=1, channel_id=1)
    there = new_session(Recorder(), clock, guild_id=2, channel_id=2)
    registry.start(here)
    registry.start(there)
    assert registry.cancel_guild(1) == [here]
    await here.wait()
    assert registry.get(1) is None and registry.get(2) is there
    registry.cancel_all()


async def test_a_hint_is_offered_after_half_the_time(recorder: Recorder, clock: FakeClock) -> None:
    hinted = replace(make_question(0), hint="Think of Chapter VII.")
    session = QuizSession([hinted, make_question(1)], channel_id=555, starter_id=ANN,
                          presenter=recorder, clock=clock)  # fmt: skip
    session.start()
    assert await recorder.next("question") == 0
    assert session.hint(0) is None  # not before half the time
    await clock.advance_when_sleeping(14.9)
    assert recorder.events.empty() and session.hint(0) is None
    clock.advance(0.1)
    assert await recorder.next("hint") == 0
    assert session.hint(0) == "Think of Chapter VII."
    assert session.answer(ANN, "Ann", 0, 1).status is AnswerStatus.ACCEPTED  # still open
    await clock.wait_for_sleeper(lambda: clock.deadlines == [clock.now() + 15])
    clock.advance(15)  # the second half, not a whole time limit more
    await recorder.next("reveal")
    assert session.hint(0) is None  # closed
    assert await recorder.next("question") == 1
    await clock.advance_when_sleeping(30)  # no hint: nothing at half time
    await recorder.next("reveal")
    await recorder.next("scoreboard")


async def test_no_hint_once_everyone_has_answered(recorder: Recorder, clock: FakeClock) -> None:
    questions = [make_question(0), replace(make_question(1), hint="A nudge.")]
    session = QuizSession(questions, channel_id=555, starter_id=ANN, presenter=recorder,
                          clock=clock)  # fmt: skip
    session.start()
    await recorder.next("question")
    session.answer(ANN, "Ann", 0, 1)
    await clock.advance_when_sleeping(30)
    await recorder.next("reveal")
    assert await recorder.next("question") == 1
    session.answer(ANN, "Ann", 1, 1)  # everyone present has answered: it closes at once
    await recorder.next("reveal")
    await recorder.next("scoreboard")
    assert session.hints_offered == set()
