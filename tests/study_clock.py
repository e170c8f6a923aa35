"""Clocks for tests: time moves only when the test says so, so nothing really waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []
        self._changed = asyncio.Event()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + seconds, future)
        self._sleepers.append(entry)
        self._changed.set()
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        return len(self.deadlines)

    @property
    def deadlines(self) -> list[float]:
        return [deadline for deadline, future in self._sleepers if not future.done()]

    async def wait_for_sleeper(self, condition: Callable[[], bool]) -> None:
        """Wait (on events, not time) until `condition()` holds about the sleepers."""
        while not condition():
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), timeout=5)

    def advance(self, seconds: float) -> None:
        self._now += seconds
        for deadline, future in self._sleepers:
            if deadline <= self._now and not future.done():
                future.set_result(None)

    async def advance_when_sleeping(self, seconds: float) -> None:
        """Wait (on events, not time) until something sleeps on this clock, then advance."""
        await self.wait_for_sleeper(lambda: bool(self.sleeping))
        self.advance(seconds)


class FakeWallClock:
    """A UTC wall clock for the daily scheduler, on a `FakeClock`: `now()` moves only when the
    test says so, and `sleep()` returns once the clock has been moved past its end."""

    def __init__(self, now: datetime) -> None:
        self._start = now
        self._clock = FakeClock(start=0.0)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._clock.now())

    def set(self, moment: datetime) -> None:
        self._clock.advance((moment - self.now()).total_seconds())

    def advance(self, delta: timedelta) -> None:
        self._clock.advance(delta.total_seconds())

    async def sleep(self, seconds: float) -> None:
        await self._clock.sleep(seconds)

    @property
    def sleeping_until(self) -> list[datetime]:
        return sorted(self._start + timedelta(seconds=at) for at in self._clock.deadlines)

    async def wait_until_sleeping(self) -> None:
        """Wait (on events, not time) until something sleeps on this clock."""
        await self._clock.wait_for_sleeper(lambda: bool(self._clock.deadlines))

    async def wait_for_sleeper(self, until: datetime, count: int = 1) -> None:
        """Wait (on events) until `count` tasks sleep on this clock until `until`."""
        await self._clock.wait_for_sleeper(lambda: self.sleeping_until.count(until) >= count)


class ShiftedClock:
    """The real clock moved by `shift`: real sleeps, a chosen time of day (end-to-end tests)."""

    def __init__(self, shift: timedelta) -> None:
        self.shift = shift

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
