"""Cooldowns on an injected clock: windows, quiz start limits and bounded memory."""

from __future__ import annotations

import pytest

from bot.cooldowns import StartLimits, Window


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_rate_then_says_how_long_to_wait() -> None:
    clock = Clock()
    window = Window(2, 60, clock)
    assert window.retry_after("a") == 0
    window.record("a")
    clock.now += 10
    window.record("a")
    assert window.retry_after("a") == 50  # the first event leaves the window at 160
    assert window.retry_after("b") == 0  # per key
    clock.now += 50
    assert window.retry_after("a") == 0
    with pytest.raises(ValueError):
        Window(0, 60, clock)


def test_keys_with_no_events_left_are_dropped() -> None:
    clock = Clock()
    window = Window(1, 5, clock)
    for key in range(1001):
        window.record(key)
    clock.now += 10
    window.record("fresh")  # over 1000 keys: a sweep drops every expired one
    assert len(window) == 1


def test_quiz_starts_are_limited_per_channel_member_and_cycle() -> None:
    clock = Clock()
    limits = StartLimits(clock)
    assert limits.check(1, 7) is None
    limits.started(1, 7)
    refusal = limits.check(1, 8)  # another member, same channel
    assert refusal is not None and (refusal.limit, refusal.retry_after) == ("channel", 30)
    assert limits.check(2, 7) is None  # the same member elsewhere
    limits.started(2, 7)
    limits.started(3, 7)
    refusal = limits.check(4, 7)
    assert refusal is not None and refusal.limit == "member" and refusal.retry_after == 300
    clock.now += 301
    assert limits.check(4, 7) is None

    # Start/stop cycles: two early stops within ten minutes hold further starts back.
    limits.stopped_early(7)
    assert limits.check(5, 7) is None
    limits.stopped_early(7)
    refusal = limits.check(5, 7)
    assert refusal is not None and refusal.limit == "cycles" and refusal.retry_after == 600
    assert limits.check(5, 8) is None  # only that member
    clock.now += 600
    assert limits.check(5, 7) is None
