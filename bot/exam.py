"""A private, timed exam for one member: questions one by one, no feedback until the end, then
the score with every right answer and its explanation, beside the member's earlier exams.

`ExamSession` owns its task like `bot.quiz.QuizSession`: it shows a question through an
`ExamPresenter` (the cog, with ephemeral messages; a fake in tests), waits for the answer or the
deadline, and shows the result once all questions are answered, time runs out or the member
stops. One deadline covers the whole exam; time comes from an injected `Clock`. The result is an
`ExamRecord` for the storage (`ExamStore`), kept apart from group-quiz answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.answers import Card, Field, paginate
from bot.quiz import Clock, MonotonicClock, NoQuestions, Question
from bot.review import parse_utc, utc_text
from bot.sessions import OnePerKey, TaskSession, sleep_or_wake
from bot.study_cards import LETTERS, question_text
from bot.text import truncate

log = logging.getLogger(__name__)

DEFAULT_EXAM_QUESTIONS = 10
MAX_EXAM_QUESTIONS = 20
SECONDS_PER_QUESTION = 40.0
# A slash command's interaction token lasts 15 minutes, and the score is sent through it.
MAX_EXAM_SECONDS = 14 * 60.0
HISTORY_LIMIT = 10
EXAM_COLOUR = 0x0891B2


class ExamError(Exception):
    """An exam problem a member can be told about."""


class ExamAlreadyRunning(ExamError):
    """The member is already taking an exam."""

    def __init__(self) -> None:
        super().__init__("you are already taking an exam; finish or stop it first")


def exam_time_limit(questions: int) -> float:
    return min(SECONDS_PER_QUESTION * questions, MAX_EXAM_SECONDS)


class ExamAnswerStatus(StrEnum):
    ACCEPTED = "accepted"
    ALREADY_ANSWERED = "already_answered"  # a button of a question already answered
    CLOSED = "closed"  # time is up, or the exam has ended
    INVALID = "invalid"  # no such question or choice


@dataclass(frozen=True, slots=True)
class ExamItem:
    question: Question
    chosen: int | None  # None: not answered in time

    @property
    def correct(self) -> bool:
        return self.chosen == self.question.answer_index


@dataclass(frozen=True, slots=True)
class ExamResult:
    items: tuple[ExamItem, ...]
    seconds: float  # time used
    time_limit: float
    timed_out: bool
    stopped: bool
    section: str | None

    @property
    def asked(self) -> int:
        return len(self.items)

    @property
    def answered(self) -> int:
        return sum(item.chosen is not None for item in self.items)

    @property
    def correct(self) -> int:
        return sum(item.correct for item in self.items)

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.asked if self.asked else 0.0

    def by_section(self) -> tuple[tuple[str, int, int], ...]:
        """(section id, asked, correct) for each section in the exam, for `/progress`."""
        asked = Counter(item.question.section for item in self.items)
        right = Counter(item.question.section for item in self.items if item.correct)
        return tuple((section, n, right[section]) for section, n in sorted(asked.items()))


class ExamState:
    """The synchronous rules: which question is open, what was chosen, the deadline."""

    def __init__(
        self,
        questions: Sequence[Question],
        time_limit: float,
        clock: Clock,
        section: str | None = None,
    ) -> None:
        if not questions:
            raise NoQuestions("an exam needs at least one question")
        if not 0 < time_limit <= MAX_EXAM_SECONDS:
            raise ValueError(f"the time limit must be between 0 and {MAX_EXAM_SECONDS:g} s")
        self.questions = tuple(questions)
        self.time_limit = time_limit
        self.section = section
        self._clock = clock
        self._chosen: list[int | None] = [None] * len(self.questions)
        self.index = 0
        self._started: float | None = None
        self._ended: float | None = None
        self.stopped = False

    def start(self) -> float:
        """Start the clock; returns the deadline."""
        if self._started is None:
            self._started = self._clock.now()
        return self.deadline

    @property
    def deadline(self) -> float:
        if self._started is None:
            raise ExamError("the exam has not started")
        return self._started + self.time_limit

    @property
    def expired(self) -> bool:
        return self._started is not None and self._clock.now() >= self.deadline

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.deadline - self._clock.now())

    @property
    def finished(self) -> bool:
        return self._ended is not None or self.index >= len(self.questions) or self.expired

    @property
    def current(self) -> Question | None:
        return None if self.finished else self.questions[self.index]

    def answer(self, index: int, choice: int) -> ExamAnswerStatus:
        if self._started is None or self.finished:
            return ExamAnswerStatus.CLOSED
        if not 0 <= index < len(self.questions):
            return ExamAnswerStatus.INVALID
        if index < self.index:
            return ExamAnswerStatus.ALREADY_ANSWERED
        if index > self.index or not 0 <= choice < len(self.questions[index].choices):
            return ExamAnswerStatus.INVALID
        self._chosen[index] = choice
        self.index += 1
        return ExamAnswerStatus.ACCEPTED

    def end(self, stopped: bool = False) -> ExamResult:
        """Close the exam (idempotent) and score it."""
        if self._started is None:
            raise ExamError("the exam has not started")
        if self._ended is None:
            self.stopped = stopped and self.index < len(self.questions) and not self.expired
            self._ended = min(self._clock.now(), self.deadline)
        items = tuple(ExamItem(q, c) for q, c in zip(self.questions, self._chosen, strict=True))
        timed_out = not self.stopped and any(chosen is None for chosen in self._chosen)
        return ExamResult(
            items=items,
            seconds=self._ended - self._started,
            time_limit=self.time_limit,
            timed_out=timed_out,
            stopped=self.stopped,
            section=self.section,
        )


class ExamPresenter(Protocol):
    async def show_question(self, session: ExamSession, index: int, question: Question) -> None: ...

    async def show_result(self, session: ExamSession, result: ExamResult) -> None: ...


class ExamSession(TaskSession):
    """One member's running exam. `start()` runs it; `stop()` ends it early with a score;
    `cancel()` ends it silently (shutdown). `result` is set once the score has been shown."""

    def __init__(
        self,
        questions: Sequence[Question],
        *,
        user_id: int,
        presenter: ExamPresenter,
        section: str | None = None,
        time_limit: float | None = None,
        clock: Clock | None = None,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.user_id = user_id
        self.token = secrets.token_hex(4)  # ties buttons to this exam
        self._clock = clock or MonotonicClock()
        self._wall = wall or (lambda: datetime.now(UTC))
        limit = time_limit if time_limit is not None else exam_time_limit(len(questions))
        self.state = ExamState(questions, limit, self._clock, section)
        self._presenter = presenter
        self._wake = asyncio.Event()
        self._stop = False
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.result: ExamResult | None = None
        self.failed = False

    def answer(self, index: int, choice: int) -> ExamAnswerStatus:
        if not self.running:
            return ExamAnswerStatus.CLOSED
        status = self.state.answer(index, choice)
        if status is ExamAnswerStatus.ACCEPTED:
            self._wake.set()
        return status

    def stop(self) -> None:
        self._stop = True
        self._wake.set()

    async def _run(self) -> None:
        try:
            self.started_at = self._wall()
            self.state.start()
            shown = -1
            while not self.state.finished and not self._stop:
                if self.state.index != shown:
                    shown = self.state.index
                    await self._presenter.show_question(self, shown, self.state.questions[shown])
                self._wake.clear()
                if self.state.index == shown and not self._stop:
                    await sleep_or_wake(self._clock, self.state.seconds_left, self._wake)
            self.result = self.state.end(stopped=self._stop)
            self.finished_at = self._wall()
            await self._presenter.show_result(self, self.result)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failed = True
            log.exception("exam %s ended by an error", self.token)


def exam_registry() -> OnePerKey[int, ExamSession]:
    """At most one exam per member; a finished exam removes itself."""
    return OnePerKey(
        key=lambda session: session.user_id,
        busy=ExamAlreadyRunning,
    )


# -- records and comparison -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExamRecord:
    """A finished exam as stored (table `exam_results`, keyed by an autoincrement id, indexed by
    `(user_hash, finished_at)`); `by_section` is JSON in its row."""

    user_hash: str
    section: str | None  # None: questions from every section
    started_at: datetime
    finished_at: datetime
    asked: int
    correct: int
    timed_out: bool
    by_section: tuple[tuple[str, int, int], ...] = ()

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.asked if self.asked else 0.0

    @classmethod
    def of(cls, session: ExamSession, user_hash: str) -> ExamRecord:
        result = session.result
        if result is None or session.started_at is None or session.finished_at is None:
            raise ExamError("the exam has not finished")
        return cls(
            user_hash=user_hash,
            section=result.section,
            started_at=session.started_at,
            finished_at=session.finished_at,
            asked=result.asked,
            correct=result.correct,
            timed_out=result.timed_out,
            by_section=result.by_section(),
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "user_hash": self.user_hash,
            "section": self.section,
            "started_at": utc_text(self.started_at),
            "finished_at": utc_text(self.finished_at),
            "asked": self.asked,
            "correct": self.correct,
            "timed_out": int(self.timed_out),
            "by_section": json.dumps([list(row) for row in self.by_section]),
        }

    @classmethod
    def from_row(cls, row: Any) -> ExamRecord:
        return cls(
            user_hash=row["user_hash"],
            section=row["section"],
            started_at=parse_utc(row["started_at"]),
            finished_at=parse_utc(row["finished_at"]),
            asked=int(row["asked"]),
            correct=int(row["correct"]),
            timed_out=bool(row["timed_out"]),
            by_section=tuple((s, int(n), int(c)) for s, n, c in json.loads(row["by_section"])),
        )


class ExamStore(Protocol):
    async def save_exam(self, record: ExamRecord) -> None:
        """Append one finished exam."""
        ...

    async def exam_history(
        self, user_hash: str, section: str | None, limit: int
    ) -> list[ExamRecord]:
        """The member's latest exams, newest first: of one section, or (None) of all exams."""
        ...

    async def forget_exams(self, user_hash: str) -> int:
        """Delete the member's exams (part of `Storage.forget_user`); return how many."""
        ...


@dataclass(frozen=True, slots=True)
class ExamComparison:
    previous: int  # earlier exams compared with
    last_percent: float | None
    best_percent: float | None
    average_percent: float | None
    change: float | None  # percentage points against the last exam
    personal_best: bool


def compare(record: ExamRecord, history: Iterable[ExamRecord]) -> ExamComparison:
    """This exam against the member's earlier ones (`history`, newest first, without it)."""
    earlier = [r for r in history if r != record]
    if not earlier:
        return ExamComparison(0, None, None, None, None, personal_best=False)
    scores = [r.percent for r in earlier]
    return ExamComparison(
        previous=len(earlier),
        last_percent=scores[0],
        best_percent=max(scores),
        average_percent=sum(scores) / len(scores),
        change=record.percent - scores[0],
        personal_best=record.percent > max(scores),
    )


# -- cards ----------------------------------------------------------------------------------


def exam_question_card(question: Question, index: int, total: int, seconds_left: float) -> Card:
    minutes, seconds = divmod(int(seconds_left), 60)
    return Card(
        title=f"Exam · question {index + 1}/{total}",
        description=question_text(question),
        footer=f"{minutes}:{seconds:02d} left · answers are shown at the end",
        colour=EXAM_COLOUR,
    )


def _comparison_line(comparison: ExamComparison) -> str:
    if not comparison.previous:
        return "Your first exam here: the next one will be compared with it."
    change = comparison.change or 0.0
    trend = "the same as" if abs(change) < 0.5 else ("up" if change > 0 else "down")
    delta = "" if trend == "the same as" else f" {abs(change):.0f} points from"
    best = " · a personal best!" if comparison.personal_best else ""
    exams = f"{comparison.previous} earlier exam{'s' if comparison.previous != 1 else ''}"
    return (
        f"{trend.capitalize()}{delta} your last exam ({comparison.last_percent:.0f}%){best}\n"
        f"Best {comparison.best_percent:.0f}% · average {comparison.average_percent:.0f}% "
        f"over {exams}"
    )


def result_cards(
    result: ExamResult, comparison: ExamComparison, section_title: str | None = None
) -> tuple[Card, ...]:
    """The score, the comparison, then each question with the right answer and why; several
    pages when 20 explanations do not fit one embed."""
    how = "time ran out" if result.timed_out else ("stopped early" if result.stopped else "")
    minutes, seconds = divmod(round(result.seconds), 60)
    summary = (
        f"**{result.correct}/{result.asked}** right ({result.percent:.0f}%) in "
        f"{minutes}:{seconds:02d}" + (f" · {how}" if how else "")
    )
    blocks = [summary, _comparison_line(comparison), ""]
    for number, item in enumerate(result.items, start=1):
        question = item.question
        mark = "✅" if item.correct else "❌"
        yours = "no answer" if item.chosen is None else LETTERS[item.chosen]
        blocks.append(
            f"{mark} **{number}.** {truncate(question.text, 300)}\n"
            f"Right: **{LETTERS[question.answer_index]}. {question.answer}** (yours: {yours})\n"
            f"{truncate(question.explanation, 400)}"
        )
    title = f"Exam results: {section_title or 'all sections'}"
    fields = (Field("Recorded", "Counts in /progress, apart from group quizzes"),)
    return paginate(title, blocks, fields, None, EXAM_COLOUR)
