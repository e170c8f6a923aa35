"""A quiz in one channel as a state machine that owns its task, its timeouts and its stopping.

`QuizSession` asks its questions one by one through a `QuizPresenter` (the Discord cog; a fake in
tests). Each member answers each question once. A question closes when its time limit runs out
or, from the second question on, when everyone taking part has answered it: "everyone present"
means the members who answered an earlier question of this quiz, because a channel's audience
cannot be known without privileged intents and the first question must stay open for latecomers.
A question with a hint offers it (`QuizPresenter.offer_hint`) once half its time has passed.
Time comes from an injected `Clock`, so tests never really wait. The session also keeps the saves
of its answers (`track_save`) and shows the scoreboard only once every one has finished, so a
`/leaderboard` right after a quiz already counts it. `QuizRegistry` enforces one quiz per channel.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.sessions import OnePerKey, TaskSession, sleep_or_wake

if TYPE_CHECKING:
    from bot.content import QuizQuestion, Source

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 30.0
MAX_QUESTIONS = 20


class QuizError(Exception):
    """Base class for quiz problems a user can be told about."""


class QuizAlreadyRunning(QuizError):
    """The channel already has a quiz."""


class NoQuestions(QuizError):
    """There are no questions to ask (for that section)."""


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Question:
    """A question as asked: its choices in the (shuffled) order the buttons show them."""

    id: str
    text: str
    choices: tuple[str, ...]
    answer_index: int
    explanation: str
    section: str
    source: Source | None = None
    hint: str | None = None

    @property
    def answer(self) -> str:
        return self.choices[self.answer_index]

    @classmethod
    def from_entry(cls, entry: QuizQuestion, rng: random.Random | None = None) -> Question:
        """Shuffle the choices (with `rng`) so the right answer is not always in one place."""
        choices = list(entry.choices)
        if rng is not None:
            rng.shuffle(choices)
        return cls(
            id=entry.id,
            text=entry.question,
            choices=tuple(choices),
            answer_index=choices.index(entry.answer),
            explanation=entry.explanation,
            section=entry.section,
            source=entry.source,
            hint=entry.hint,
        )


def pick_questions(
    entries: Sequence[QuizQuestion], count: int, rng: random.Random, section: str | None = None
) -> list[Question]:
    """Up to `count` different questions (of one section if given), in random order."""
    pool = [entry for entry in entries if section is None or entry.section == section]
    if not pool:
        raise NoQuestions("there are no quiz questions" + (f" for {section}" if section else ""))
    count = max(1, min(count, MAX_QUESTIONS))
    return [Question.from_entry(entry, rng) for entry in rng.sample(pool, min(count, len(pool)))]


class AnswerStatus(StrEnum):
    ACCEPTED = "accepted"
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"  # that question is no longer (or not yet) open
    INVALID = "invalid"  # no such choice


@dataclass(frozen=True, slots=True)
class AnswerResult:
    status: AnswerStatus
    correct: bool | None = None
    question: Question | None = None


@dataclass(frozen=True, slots=True)
class Reveal:
    """A closed question: the right answer and how many chose each option."""

    index: int
    total: int
    question: Question
    counts: tuple[int, ...]
    correct_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoreLine:
    rank: int
    user_id: int
    display_name: str
    correct: int
    answered: int


@dataclass(frozen=True, slots=True)
class Scoreboard:
    lines: tuple[ScoreLine, ...]
    asked: int
    total: int
    stopped_by: int | None


@dataclass(slots=True)
class _Player:
    display_name: str
    correct: int = 0
    answered: int = 0
    first_seen: int = 0


class QuizState:
    """The synchronous rules: who answered what, counts, scores. No tasks, no waiting."""

    def __init__(self, questions: Sequence[Question], time_limit: float, clock: Clock) -> None:
        if not questions:
            raise NoQuestions("a quiz needs at least one question")
        if time_limit <= 0:
            raise ValueError("the time limit must be positive")
        self.questions = tuple(questions)
        self.time_limit = time_limit
        self._clock = clock
        self._players: dict[int, _Player] = {}
        self.index = -1
        self._open = False
        self._deadline: float | None = None
        self._choices: dict[int, int] = {}  # user id -> choice index, current question
        self.asked = 0

    @property
    def current(self) -> Question | None:
        return self.questions[self.index] if 0 <= self.index < len(self.questions) else None

    def open(self, index: int) -> Question:
        """Accept answers for question `index`; the clock starts with `start_timer`."""
        self.index = index
        self._open = True
        self._deadline = None
        self._choices = {}
        self.asked = max(self.asked, index + 1)
        return self.questions[index]

    def start_timer(self) -> float:
        """Start the time limit (once the question is visible); returns the deadline."""
        self._deadline = self._clock.now() + self.time_limit
        return self._deadline

    @property
    def seconds_left(self) -> float:
        """Time left for the open question (all of it before its timer starts)."""
        if self._deadline is None:
            return self.time_limit
        return max(0.0, self._deadline - self._clock.now())

    def answer(self, user_id: int, display_name: str, index: int, choice: int) -> AnswerResult:
        question = self.current
        if not self._open or question is None or index != self.index or self._expired():
            return AnswerResult(AnswerStatus.CLOSED)
        if not 0 <= choice < len(question.choices):
            return AnswerResult(AnswerStatus.INVALID, question=question)
        if user_id in self._choices:
            correct = self._choices[user_id] == question.answer_index
            return AnswerResult(AnswerStatus.ALREADY_ANSWERED, correct=correct, question=question)
        self._choices[user_id] = choice
        player = self._players.get(user_id)
        if player is None:
            player = self._players[user_id] = _Player(display_name, first_seen=self.index)
        player.display_name = display_name
        player.answered += 1
        correct = choice == question.answer_index
        player.correct += correct
        return AnswerResult(AnswerStatus.ACCEPTED, correct=correct, question=question)

    @property
    def everyone_answered(self) -> bool:
        """Everyone who answered an earlier question has answered this one."""
        present = {uid for uid, player in self._players.items() if player.first_seen < self.index}
        return bool(present) and present <= self._choices.keys()

    def close(self) -> Reveal:
        question = self.current
        if question is None:
            raise QuizError("no question is open")
        self._open = False
        counts = [0] * len(question.choices)
        for choice in self._choices.values():
            counts[choice] += 1
        names = tuple(
            self._players[uid].display_name
            for uid, choice in self._choices.items()
            if choice == question.answer_index
        )
        return Reveal(self.index, len(self.questions), question, tuple(counts), names)

    def scoreboard(self, stopped_by: int | None = None) -> Scoreboard:
        ordered = sorted(
            self._players.items(),
            key=lambda item: (-item[1].correct, item[1].answered, item[1].display_name.casefold()),
        )
        lines: list[ScoreLine] = []
        for position, (uid, player) in enumerate(ordered, start=1):
            tied = lines and lines[-1].correct == player.correct
            rank = lines[-1].rank if tied else position
            lines.append(ScoreLine(rank, uid, player.display_name, player.correct, player.answered))
        return Scoreboard(tuple(lines), self.asked, len(self.questions), stopped_by)

    def _expired(self) -> bool:
        return self._deadline is not None and self._clock.now() >= self._deadline


class QuizPresenter(Protocol):
    """Shows the quiz to people; the session calls these in order and awaits each."""

    async def show_question(self, session: QuizSession, index: int, question: Question) -> None: ...

    async def show_reveal(self, session: QuizSession, reveal: Reveal) -> None: ...

    async def show_scoreboard(self, session: QuizSession, scoreboard: Scoreboard) -> None: ...

    async def offer_hint(self, session: QuizSession, index: int, question: Question) -> None:
        """Half the question's time has passed and it has a hint: offer it."""
        ...


class QuizSession(TaskSession):
    """One running quiz: started with `start()`, ended by running out of questions, by
    `request_stop()` (reveals the open question, then the scoreboard) or by `cancel()` (silent,
    for shutdown)."""

    def __init__(
        self,
        questions: Sequence[Question],
        *,
        channel_id: int,
        starter_id: int,
        presenter: QuizPresenter,
        time_limit: float = DEFAULT_TIME_LIMIT,
        clock: Clock | None = None,
        guild_id: int | None = None,
        pause: float = 0.0,
    ) -> None:
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.starter_id = starter_id
        self.token = secrets.token_hex(4)  # ties buttons to this run of the quiz
        self._clock = clock or MonotonicClock()
        self.state = QuizState(questions, time_limit, self._clock)
        self._presenter = presenter
        self.pause = pause  # seconds between a reveal and the next question, to read it
        self._wake = asyncio.Event()
        self._stopped_by: int | None = None
        self._stop_requested = False
        self._saves: set[asyncio.Future[object]] = set()
        self.hints_offered: set[int] = set()  # questions whose hint may be shown
        self.failed = False

    def _task_name(self) -> str:
        return f"quiz-{self.channel_id}"

    def _already_started(self) -> Exception:
        return QuizError("this quiz has already been started")

    def answer(self, user_id: int, display_name: str, index: int, choice: int) -> AnswerResult:
        if not self.running:
            return AnswerResult(AnswerStatus.CLOSED)
        result = self.state.answer(user_id, display_name, index, choice)
        if result.status is AnswerStatus.ACCEPTED and self.state.everyone_answered:
            self._wake.set()
        return result

    def track_save(self, save: Awaitable[object]) -> None:
        """An answer being saved: the scoreboard waits for it. Start it before any reply."""
        future = asyncio.ensure_future(save)
        self._saves.add(future)
        future.add_done_callback(self._saves.discard)

    async def settle_saves(self) -> None:
        """Wait until every answer tracked so far has been saved (or has failed)."""
        while self._saves:
            await asyncio.gather(*set(self._saves), return_exceptions=True)

    def may_stop(self, user_id: int, is_moderator: bool) -> bool:
        return is_moderator or user_id == self.starter_id

    def request_stop(self, by_user_id: int) -> None:
        """End after revealing the open question; `wait()` returns once the scoreboard is out."""
        if self._stop_requested:
            return
        self._stop_requested = True
        self._stopped_by = by_user_id
        self._wake.set()

    async def _run(self) -> None:
        try:
            for index in range(len(self.state.questions)):
                if index and self.pause > 0 and not self._stop_requested:
                    self._wake.clear()
                    await self._nap(self.pause)  # only a stop request cuts it short
                if self._stop_requested:
                    break
                self._wake.clear()
                question = self.state.open(index)
                await self._presenter.show_question(self, index, question)
                self.state.start_timer()
                if not self._stop_requested:
                    await self._answer_time(index, question)
                await self._presenter.show_reveal(self, self.state.close())
            await self.settle_saves()
            await self._presenter.show_scoreboard(self, self.state.scoreboard(self._stopped_by))
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failed = True
            log.exception("quiz in channel %s ended by an error", self.channel_id)

    async def _answer_time(self, index: int, question: Question) -> None:
        """The question's time; a question with a hint offers it once half has passed (unless
        everyone has answered or the quiz is stopping by then)."""
        if question.hint is None:
            await self._nap(self.state.time_limit)
            return
        await self._nap(self.state.time_limit / 2)
        if self._wake.is_set() or self._stop_requested:
            return
        self.hints_offered.add(index)
        await self._presenter.offer_hint(self, index, question)
        await self._nap(self.state.seconds_left)  # offering it took some of the time

    def hint(self, index: int) -> str | None:
        """The hint of question `index` while that question is open and its hint offered."""
        question = self.state.current
        if not self.running or index != self.state.index or index not in self.hints_offered:
            return None
        return question.hint if question is not None and self.state.seconds_left > 0 else None

    async def _nap(self, seconds: float) -> None:
        """Sleep on the clock until `seconds` pass or `_wake` is set."""
        await sleep_or_wake(self._clock, seconds, self._wake)


class QuizRegistry(OnePerKey[int, QuizSession]):
    """At most one quiz per channel; a finished quiz removes itself."""

    def __init__(self) -> None:
        super().__init__(
            key=lambda session: session.channel_id,
            busy=lambda: QuizAlreadyRunning("a quiz is already running in this channel"),
        )

    def cancel_guild(self, guild_id: int) -> list[QuizSession]:
        """Cancel the quizzes of a server the bot has left."""
        sessions = [s for s in self._sessions.values() if s.guild_id == guild_id]
        for session in sessions:
            session.cancel()
            self._forget(session.channel_id, session)
        return sessions
