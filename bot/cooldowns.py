"""Limits on how often something may happen: sliding windows per key, on an injected clock.

`StartLimits` is the rule for starting group quizzes: a cooldown per channel and per member on
starting, and a longer one for a member who keeps starting quizzes and stopping them early
(start/stop cycles flood a channel as surely as starts do). Memory stays bounded: a key's
events are dropped once they leave its window, and keys with none left go with them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


class Window:
    """At most `rate` events per `per` seconds for each key."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("a window needs a rate of at least 1 and a positive length")
        self.rate = rate
        self.per = per
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def retry_after(self, key: Hashable) -> float:
        """Seconds until one more event is allowed for `key` (0: allowed now)."""
        events = self._current(key)
        if len(events) < self.rate:
            return 0.0
        return max(0.0, events[-self.rate] + self.per - self._clock())

    def record(self, key: Hashable) -> None:
        self._current(key).append(self._clock())
        if len(self._events) > 1000:  # an occasional sweep of keys whose events have all expired
            for stale in [k for k, events in self._events.items() if not self._trim(events)]:
                del self._events[stale]

    def __len__(self) -> int:
        return len(self._events)

    def _current(self, key: Hashable) -> deque[float]:
        events = self._events.setdefault(key, deque())
        self._trim(events)
        return events

    def _trim(self, events: deque[float]) -> deque[float]:
        horizon = self._clock() - self.per
        while events and events[0] <= horizon:
            events.popleft()
        return events


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a start is refused: which limit (`channel`, `member` or `cycles`) and for how long."""

    limit: str
    retry_after: float
    rate: int
    per: float


class StartLimits:
    """Starting quizzes: per channel, per member, and start/stop cycles per member."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        channel: tuple[int, float] = (1, 30.0),
        member: tuple[int, float] = (3, 300.0),
        cycles: tuple[int, float] = (2, 600.0),
    ) -> None:
        self.windows = {
            "channel": Window(*channel, clock=clock),
            "member": Window(*member, clock=clock),
            "cycles": Window(*cycles, clock=clock),
        }

    def check(self, channel_id: int, member_id: int) -> Refusal | None:
        """None when a quiz may start now; otherwise the limit that waits longest."""
        keys = {"channel": channel_id, "member": member_id, "cycles": member_id}
        waits = [
            Refusal(name, window.retry_after(keys[name]), window.rate, window.per)
            for name, window in self.windows.items()
        ]
        longest = max(waits, key=lambda refusal: refusal.retry_after)
        return longest if longest.retry_after > 0 else None

    def started(self, channel_id: int, member_id: int) -> None:
        self.windows["channel"].record(channel_id)
        self.windows["member"].record(member_id)

    def stopped_early(self, member_id: int) -> None:
        """The member stopped a quiz they had started before its end: one start/stop cycle."""
        self.windows["cycles"].record(member_id)
