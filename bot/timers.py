"""The one timer-queue scheduler: a task that sleeps until the next due time the database holds,
wakes, hands out what is due, and sleeps again.

A queue keeps its next due times in an indexed column (daily posts in `guild_settings`, review
reminders in `review_settings`), so a wake-up reads only what is due and the earliest time after
it. A subclass says what one wake-up does (`wake_up`, returning when to look again); this class
owns the task, the sleep (on an injected `WallClock`, so tests never wait), the early wake when
settings change, and the sends it hands out, which run in tasks of their own (at most
`max_sending` at once) so a slow Discord never holds up the queue. Used by
`bot.daily.DailyScheduler` and `bot.review.ReminderScheduler`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.sessions import sleep_or_wake

log = logging.getLogger(__name__)

MAX_SLEEP = 3600.0  # re-read the wall clock at least hourly (suspend, clock changes)
SHARED_MAX_SLEEP = 300.0  # with other processes changing schedules: at least every 5 minutes
RETRY_SECONDS = 30.0  # after a wake-up failed on the database
MAX_SENDING = 20  # sends at once; discord.py queues the rest behind its rate limits
STOP_WAIT = 5.0  # seconds sends in flight may take to finish when the scheduler stops


class WallClock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def next_look(
    upcoming: datetime | None, now: datetime, retry: float | None, again: float
) -> datetime | None:
    """When to look again after a pass: the queue's earliest time (`upcoming`); if that is due
    already (entries left over from this pass), `retry` or else `again` seconds from now; and
    never later than a `retry` the pass asked for (None: nothing queued)."""
    if upcoming is not None and upcoming <= now:
        upcoming = now + timedelta(seconds=retry if retry is not None else again)
    if retry is not None:
        soon = now + timedelta(seconds=retry)
        upcoming = soon if upcoming is None else min(upcoming, soon)
    return upcoming


class TimerQueue:
    """Runs `wake_up` whenever the queue's next time comes (or `wake()` is called)."""

    what = "timer queue"  # for the log: "daily posts", "review reminders"

    def __init__(
        self,
        *,
        clock: WallClock | None = None,
        max_sleep: float = MAX_SLEEP,
        max_sending: int = MAX_SENDING,
    ) -> None:
        self.clock: WallClock = clock or SystemClock()
        self.max_sleep = max_sleep  # the longest nap, so a changed wall clock is noticed
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._send_slots = asyncio.Semaphore(max_sending)

    async def wake_up(self) -> datetime | None:
        """Handle everything due now; return when to look again (None: nothing queued)."""
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, before: Callable[[], Awaitable[Any]] | None = None) -> None:
        """Start the task; it awaits `before()` (e.g. the bot being ready) first."""
        if self._task is None or self._task.done():
            name = self.what.replace(" ", "-")
            self._task = asyncio.create_task(self._run(before), name=name)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop waking up; sends in flight get `STOP_WAIT` seconds to finish."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._sending:
            _done, late = await asyncio.wait(set(self._sending), timeout=STOP_WAIT)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def wake(self) -> None:
        """Settings changed: look at the queue again now."""
        self._wake.set()

    async def settle(self) -> None:
        """Wait until everything handed out so far has been sent (or has failed)."""
        while self._sending:
            await asyncio.gather(*set(self._sending), return_exceptions=True)

    @property
    def sending(self) -> int:
        return len(self._sending)

    def hand_out(self, send: Callable[[], Awaitable[None]], name: str) -> None:
        """Run `send()` in a task of its own, within the limit of sends at once. `send` handles
        its own failures; anything it lets through is logged here."""
        task = asyncio.create_task(self._bounded(send), name=name)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _bounded(self, send: Callable[[], Awaitable[None]]) -> None:
        async with self._send_slots:
            try:
                await send()
            except Exception:
                log.exception("%s: a send failed", self.what)

    async def _run(self, before: Callable[[], Awaitable[Any]] | None) -> None:
        if before is not None:
            await before()
        while True:
            self._wake.clear()
            try:
                upcoming = await self.wake_up()
                delay = self.max_sleep
                if upcoming is not None:
                    delay = (upcoming - self.clock.now()).total_seconds()
            except Exception:
                log.exception("%s: could not check what is due; retrying", self.what)
                delay = RETRY_SECONDS
            await sleep_or_wake(self.clock, min(max(delay, 0.0), self.max_sleep), self._wake)
