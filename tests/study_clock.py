"""Clocks for tests: time moves only when the test says so, so nothing really waits."""

from __future__ import annotations

import asyncio
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
        return sum(1 for _, future in self._sleepers if not future.done())

    def advance(self, seconds: float) -> None:
        self._now += seconds
        for deadline, future in self._sleepers:
            if deadline <= self._now and not future.done():
                future.set_result(None)

    async def advance_when_sleeping(self, seconds: float) -> None:
        """Wait (on events, not time) until something sleeps on this clock, then advance."""
        while not self.sleeping:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), timeout=5)
        self.advance(seconds)


class FakeWallClock:
    """A UTC wall clock for the daily scheduler: `now()` moves only when the test says so, and
    `sleep()` returns once the clock has been advanced past its end."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment
        for deadline, future in self._sleepers:
            if deadline <= moment and not future.done():
                future.set_result(None)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + timedelta(seconds=seconds), future)
        self._sleepers.append(entry)
        self._changed.set()
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    @property
    def sleeping_until(self) -> list[datetime]:
        return sorted(deadline for deadline, future in self._sleepers if not future.done())

    async def wait_until_sleeping(self) -> None:
        """Wait (on events, not time) until something sleeps on this clock."""
        while not self.sleeping_until:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), timeout=5)

    async def wait_for_sleeper(self, until: datetime) -> None:
        """Wait (on events) until something sleeps on this clock until `until`."""
        while until not in self.sleeping_until:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), timeout=5)


class ShiftedClock:
    """The real clock moved by `shift`: real sleeps, a chosen time of day (end-to-end tests)."""

    def __init__(self, shift: timedelta) -> None:
        self.shift = shift

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
