"""Review reminders: the member's own time and zone, daylight saving, claiming each day once, and
the reminder queue on the one timer-queue scheduler (on SQLite storage, one and two processes)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.review import (
    DMS_CLOSED,
    TERM,
    Deck,
    Flashcard,
    Rating,
    ReminderScheduler,
    ReminderUndeliverable,
    ReviewScheduler,
    ReviewService,
    ReviewSettings,
    card_id,
    first_reminder,
    plan_reminder,
    reminder_text,
    validate_reminder,
)
from bot.schedule import ScheduleError
from bot.timers import RETRY_SECONDS
from tests.review_fake import FakeReviewStore
from tests.storage_backends import Backend
from tests.storage_helpers import opened
from tests.study_clock import FakeWallClock

ANN = "a" * 32


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def reminding(zone: str, time: str = "08:00", last: date | None = None) -> ReviewSettings:
    return ReviewSettings(ANN, timezone=zone, remind=True, remind_time=time, last_reminded_on=last)


@pytest.mark.parametrize(
    ("zone", "now", "expected_utc", "local_day"),
    [
        # 08:00 in Tokyo (UTC+9) is 23:00 UTC the evening before.
        ("Asia/Tokyo", at(2024, 3, 14, 12), at(2024, 3, 14, 23), date(2024, 3, 15)),
        # 08:00 in Kolkata (UTC+5:30) is 02:30 UTC.
        ("Asia/Kolkata", at(2024, 3, 15, 1), at(2024, 3, 15, 2, 30), date(2024, 3, 15)),
        # Los Angeles switched to daylight time on 10 March 2024: UTC-7 afterwards.
        ("America/Los_Angeles", at(2024, 3, 9, 12), at(2024, 3, 9, 16), date(2024, 3, 9)),
        ("America/Los_Angeles", at(2024, 3, 11, 12), at(2024, 3, 11, 15), date(2024, 3, 11)),
    ],
)
def test_first_reminder_is_at_the_member_s_local_time(
    zone: str, now: datetime, expected_utc: datetime, local_day: date
) -> None:
    due = first_reminder("08:00", zone, None, now)
    assert (due.at, due.local_date) == (expected_utc, local_day)


def test_turning_reminders_on_after_today_s_time_starts_tomorrow() -> None:
    due = first_reminder("08:00", "Europe/London", None, at(2024, 6, 1, 9))
    assert due.local_date == date(2024, 6, 2) and due.at == at(2024, 6, 2, 7)  # BST, UTC+1


def test_a_time_the_clocks_skip_reminds_when_they_jump() -> None:
    # New York skipped 02:00-03:00 on 10 March 2024; 02:30 happens at the jump, 07:00 UTC.
    due = first_reminder("02:30", "America/New_York", None, at(2024, 3, 10, 5))
    assert due.at == at(2024, 3, 10, 7)


def test_plan_waits_sends_and_skips_quietly() -> None:
    settings = reminding("Asia/Tokyo")
    assert plan_reminder(settings, 5, at(2024, 3, 14, 22, 59)) is None
    plan = plan_reminder(settings, 5, at(2024, 3, 14, 23, 0))
    assert plan is not None and plan.send
    assert plan.local_date == date(2024, 3, 15) and plan.next_at == at(2024, 3, 15, 23)
    quiet = plan_reminder(settings, 0, at(2024, 3, 14, 23, 0))
    assert quiet is not None and not quiet.send and quiet.local_date == date(2024, 3, 15)
    off = ReviewSettings(ANN, timezone="Asia/Tokyo")
    assert plan_reminder(off, 5, at(2024, 3, 14, 23)) is None


def test_a_day_already_reminded_is_not_reminded_again_but_a_missed_one_catches_up() -> None:
    done = reminding("UTC", last=date(2024, 3, 15))
    assert plan_reminder(done, 3, at(2024, 3, 15, 20)) is None
    missed = reminding("UTC", last=date(2024, 3, 14))
    plan = plan_reminder(missed, 3, at(2024, 3, 15, 20))  # the bot was down at 08:00
    assert plan is not None and plan.send and plan.local_date == date(2024, 3, 15)


def test_validation_names_the_problem() -> None:
    assert validate_reminder("7:05", "Europe/Paris") == "07:05"
    with pytest.raises(ScheduleError, match="HH:MM"):
        validate_reminder("25:00", "UTC")
    with pytest.raises(ScheduleError, match="time zone"):
        validate_reminder("08:00", "Mars/Olympus")


def test_reminder_text_counts() -> None:
    assert "1 card due" in reminder_text(1, 0)
    assert "12 cards due for review and 3 new" in reminder_text(12, 3)


async def test_reminders_are_claimed_once_per_day_and_the_store_finds_them_by_time() -> None:
    store = FakeReviewStore()
    now = at(2024, 3, 14, 12)
    due = first_reminder("08:00", "Asia/Tokyo", None, now)
    await store.set_review_timezone(ANN, "Asia/Tokyo", None)
    await store.set_reminder(ANN, dm_user_id=42, remind_time="08:00", next_at=due.at)
    assert await store.next_reminder_at() == due.at
    assert await store.due_reminders(due.at - timedelta(seconds=1), 10) == []
    [settings] = await store.due_reminders(due.at, 10)
    plan = plan_reminder(settings, 2, due.at)
    assert plan is not None
    claims = [await store.claim_reminder(ANN, plan.local_date, plan.next_at) for _ in range(2)]
    assert claims == [True, False]  # a second process (or a retry) cannot claim the day again
    assert await store.next_reminder_at() == plan.next_at
    assert await store.due_reminders(due.at, 10) == []
    await store.clear_reminder(ANN)
    cleared = await store.review_settings(ANN)
    assert not cleared.remind and cleared.dm_user_id is None
    assert await store.next_reminder_at() is None


# -- the reminder queue ----------------------------------------------------------------------


class Inbox:
    """Direct messages the scheduler sent; `closed` makes the next ones undeliverable."""

    def __init__(self) -> None:
        self.sent: list[tuple[int | None, str]] = []
        self.closed = False
        self.arrived = asyncio.Event()

    async def deliver(self, settings: ReviewSettings, text: str) -> None:
        if self.closed:
            raise ReminderUndeliverable("Cannot send messages to this user")
        self.sent.append((settings.dm_user_id, text))
        self.arrived.set()


TERMS = Deck(
    [
        Flashcard(card_id(TERM, f"t{n}"), TERM, f"t{n}", "s1", f"Term {n}", "It means.")
        for n in range(3)
    ]
)


def reminders_for(
    store: Any, clock: FakeWallClock, inbox: Inbox, max_sleep: float = 3600.0
) -> ReminderScheduler:
    service = ReviewService(store, TERMS, ReviewScheduler(), clock=clock.now)
    return ReminderScheduler(lambda: service, inbox.deliver, clock=clock, max_sleep=max_sleep)


async def tick(scheduler: ReminderScheduler) -> datetime | None:
    upcoming = await scheduler.wake_up()
    await scheduler.settle()
    return upcoming


async def rate_first_card(scheduler: ReminderScheduler, rating: Rating, now: datetime) -> None:
    session = await scheduler._service().start(ANN, now=now)
    assert session.current is not None
    await session.rate(session.current.id, rating, now)


async def test_a_due_card_brings_one_reminder_a_day(tmp_path: Path) -> None:
    async with opened(tmp_path / "remind.sqlite3") as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()  # 21:00 in Tokyo
        reminders = reminders_for(store, clock, inbox)
        await reminders._service().set_timezone(ANN, "Asia/Tokyo")
        await rate_first_card(reminders, Rating.Again, clock.now())  # due in 10 minutes
        due = await reminders.turn_on(ANN, 42, "8:00")
        assert due.at == at(2024, 3, 14, 23) and due.local_date == date(2024, 3, 15)
        assert await tick(reminders) == due.at  # nothing yet: asleep until 08:00 Tokyo

        clock.set(due.at)
        assert await tick(reminders) == at(2024, 3, 15, 23)  # tomorrow's
        assert inbox.sent == [(42, reminder_text(1, 0))]
        await tick(reminders)  # woken again the same day (a settings change, a restart)
        assert len(inbox.sent) == 1
        clock.set(at(2024, 3, 15, 23))
        await tick(reminders)
        assert len(inbox.sent) == 2


async def test_a_day_with_nothing_due_is_claimed_without_a_message(tmp_path: Path) -> None:
    async with opened(tmp_path / "quiet.sqlite3") as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        reminders = reminders_for(store, clock, inbox)
        await rate_first_card(reminders, Rating.Good, clock.now())  # due in days
        due = await reminders.turn_on(ANN, 42, "18:00")
        clock.set(due.at)
        assert await tick(reminders) == due.at + timedelta(days=1)
        assert inbox.sent == []
        assert (await store.review_settings(ANN)).last_reminded_on == date(2024, 3, 14)


async def test_closed_dms_switch_reminders_off_with_a_notice(tmp_path: Path) -> None:
    async with opened(tmp_path / "closed.sqlite3") as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        reminders = reminders_for(store, clock, inbox)
        await rate_first_card(reminders, Rating.Again, clock.now())
        due = await reminders.turn_on(ANN, 42, "18:00")
        inbox.closed = True
        clock.set(due.at)
        await tick(reminders)
        assert await store.next_reminder_at() is None  # out of the queue
        settings = await store.review_settings(ANN)
        assert not settings.remind and settings.dm_user_id is None
        assert settings.reminder_notice == DMS_CLOSED
        clock.set(due.at + timedelta(days=1))
        await tick(reminders)
        assert inbox.sent == []


async def test_two_processes_send_one_reminder(backend: Backend) -> None:
    """Two bots on one database (two storages, each with its own connections and scheduler),
    woken together at the same moment, three times over: the claim row lets exactly one of them
    send."""
    async with backend.opened() as first, backend.opened() as second:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        one, two = reminders_for(first, clock, inbox), reminders_for(second, clock, inbox)
        await rate_first_card(one, Rating.Again, clock.now())
        due = await one.turn_on(ANN, 42, "18:00")
        clock.set(due.at)
        for _ in range(3):
            await asyncio.gather(tick(one), tick(two))
        assert inbox.sent == [(42, reminder_text(1, 0))]
        assert await tick(two) == due.at + timedelta(days=1)
        assert len(inbox.sent) == 1


async def test_a_reminder_set_in_another_process_wakes_the_one_that_sends(
    postgres: Backend,
) -> None:
    """With PostgreSQL, `/review remind on` may be handled by any process; the one running the
    reminder queue hears of it (an event through the database) and sleeps until it is due."""
    async with postgres.opened() as sender_store, postgres.opened() as other_store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        sender = reminders_for(sender_store, clock, inbox, max_sleep=86400.0)
        other = reminders_for(other_store, clock, inbox)
        unsubscribe = sender_store.subscribe(sender.on_event)
        assert await sender_store.listening(within=10)
        sender.start()
        try:
            await clock.wait_until_sleeping()  # nothing queued: asleep for a day
            await rate_first_card(other, Rating.Again, clock.now())
            due = await other.turn_on(ANN, 42, "18:00")  # `other` wakes only itself
            await clock.wait_for_sleeper(due.at)  # the sender heard and looked again
            clock.set(due.at)
            await asyncio.wait_for(inbox.arrived.wait(), timeout=10)
            assert inbox.sent == [(42, reminder_text(1, 0))]
        finally:
            unsubscribe()
            await sender.stop()


async def test_an_early_queue_entry_moves_to_the_real_time(tmp_path: Path) -> None:
    async with opened(tmp_path / "early.sqlite3") as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        reminders = reminders_for(store, clock, inbox)
        await rate_first_card(reminders, Rating.Again, clock.now())
        await reminders.turn_on(ANN, 42, "18:00")
        await store.move_reminder(ANN, at(2024, 3, 14, 12))  # a stale entry: 12:00, not 18:00
        assert await tick(reminders) == at(2024, 3, 14, 18)
        assert inbox.sent == [] and (await store.review_settings(ANN)).last_reminded_on is None


async def test_a_new_time_zone_moves_the_reminder_to_its_wall_clock_time(tmp_path: Path) -> None:
    async with opened(tmp_path / "zone.sqlite3") as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        reminders = reminders_for(store, clock, inbox)
        await reminders.turn_on(ANN, 42, "18:00")
        assert await store.next_reminder_at() == at(2024, 3, 14, 18)
        assert await reminders._service().set_timezone(ANN, "America/New_York") == (
            "America/New_York"
        )
        assert await store.next_reminder_at() == at(2024, 3, 14, 22)  # 18:00 EDT
        await reminders.turn_off(ANN)
        assert await store.next_reminder_at() is None


async def test_the_task_sleeps_until_the_reminder_and_wakes_on_a_change(tmp_path: Path) -> None:
    async with opened(tmp_path / "task.sqlite3") as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        reminders = reminders_for(store, clock, inbox, max_sleep=86400.0)
        await rate_first_card(reminders, Rating.Again, clock.now())
        reminders.start()
        try:
            await clock.wait_until_sleeping()
            due = await reminders.turn_on(ANN, 42, "18:00")  # wakes the task
            await clock.wait_for_sleeper(due.at)
            clock.set(due.at)
            await asyncio.wait_for(inbox.arrived.wait(), timeout=5)
            assert inbox.sent == [(42, reminder_text(1, 0))]
        finally:
            await reminders.stop()
        assert not reminders.running


async def test_a_claim_the_database_refuses_is_retried_and_sent_once(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    async with opened(path, busy_timeout_ms=50) as store:
        clock, inbox = FakeWallClock(at(2024, 3, 14, 12)), Inbox()
        reminders = reminders_for(store, clock, inbox)
        await rate_first_card(reminders, Rating.Again, clock.now())
        due = await reminders.turn_on(ANN, 42, "18:00")
        clock.set(due.at)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            assert await tick(reminders) == due.at + timedelta(seconds=RETRY_SECONDS)
            assert inbox.sent == []
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        clock.set(due.at + timedelta(seconds=RETRY_SECONDS))
        await tick(reminders)
        await tick(reminders)
        assert len(inbox.sent) == 1
