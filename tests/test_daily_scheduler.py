"""The daily-post scheduler (bot.daily) against a real database of each engine, with an
injected wall clock: the queue, claims before sends, DST, restarts, catch-up, a full deck, the
task's sleep, and several processes (shards, and two processes serving the same shards)."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.daily import RETRY_SECONDS, DailyPostProblem, DailyScheduler
from bot.storage import GuildSettings, Shards, Storage
from tests.storage_backends import Backend
from tests.storage_helpers import opened
from tests.study_clock import FakeWallClock

FACTS = [f"fact-{n}" for n in range(7)]
GUILD, OTHER = 1001, 2002


class Sender:
    """Records posts; can be told to fail like Discord would."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail: Exception | None = None
        self.posted = asyncio.Event()

    async def __call__(self, settings: GuildSettings, fact_id: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((settings.guild_id, fact_id))
        self.posted.set()


@pytest.fixture
async def storage(backend: Backend) -> AsyncIterator[Storage]:
    async with backend.opened() as store:
        yield store


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def scheduler_for(
    storage: Storage, clock: FakeWallClock, sender: Sender, facts: list[str] | None = None
) -> DailyScheduler:
    content = FACTS if facts is None else facts
    return DailyScheduler(
        lambda: storage, lambda: content, sender, clock=clock, rng=random.Random(4)
    )


async def tick(scheduler: DailyScheduler) -> datetime | None:
    """One wake-up, and the sends it handed out."""
    upcoming = await scheduler.wake_up()
    await scheduler.settle()
    return upcoming


async def enable(
    scheduler: DailyScheduler, guild: int = GUILD, at: str = "09:00", zone: str = "Europe/London"
) -> None:
    await scheduler.configure(guild, 555, at, zone, False)


async def test_sleeps_until_due_then_posts_once(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 8, 59)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler)
    assert await tick(scheduler) == utc(2024, 1, 15, 9, 0)
    assert sender.sent == []
    clock.set(utc(2024, 1, 15, 9, 0, 1))
    assert await tick(scheduler) == utc(2024, 1, 16, 9, 0)
    assert len(sender.sent) == 1
    assert await tick(scheduler) == utc(2024, 1, 16, 9, 0)
    assert len(sender.sent) == 1
    assert await storage.last_daily_claim(GUILD) == date(2024, 1, 15)
    assert (await storage.get_settings(GUILD)).daily_next_on == date(2024, 1, 16)


async def test_restart_after_posting_does_not_post_again(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    first = scheduler_for(storage, clock, sender)
    await enable(first)
    await tick(first)
    clock.advance(timedelta(minutes=5))
    await tick(scheduler_for(storage, clock, sender))  # a new process, same database
    assert len(sender.sent) == 1


async def test_catch_up_once_after_downtime_never_per_missed_day(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 10, 9, 0)), Sender()
    first = scheduler_for(storage, clock, sender)
    await enable(first)
    await tick(first)
    clock.set(utc(2024, 1, 15, 14, 30))  # down for five days, back in the afternoon
    scheduler = scheduler_for(storage, clock, sender)
    assert await tick(scheduler) == utc(2024, 1, 16, 9, 0)
    assert len(sender.sent) == 2  # today's post, caught up; the missed days are not made up
    await tick(scheduler)
    assert len(sender.sent) == 2
    assert await storage.last_daily_claim(GUILD) == date(2024, 1, 15)


async def test_claim_is_saved_before_sending_so_a_crash_never_double_posts(
    storage: Storage,
) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    sender.fail = RuntimeError("the process died mid-send")
    first = scheduler_for(storage, clock, sender)
    await enable(first)
    await tick(first)
    assert await storage.last_daily_claim(GUILD) == date(2024, 1, 15)
    sender.fail = None
    await tick(scheduler_for(storage, clock, sender))
    assert sender.sent == []  # today's post is spent, not repeated
    assert "unexpectedly" in ((await storage.get_settings(GUILD)).daily_problem or "")


async def test_a_failed_send_is_the_days_problem_then_cleared_by_a_good_post(
    storage: Storage,
) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    sender.fail = DailyPostProblem("The daily channel no longer exists.")
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler)
    await tick(scheduler)
    settings = await storage.get_settings(GUILD)
    assert settings.daily_problem == "The daily channel no longer exists."
    assert settings.daily_enabled  # nothing is silently switched off
    sender.fail = None
    clock.set(utc(2024, 1, 16, 9, 0))
    await tick(scheduler)
    assert len(sender.sent) == 1
    assert (await storage.get_settings(GUILD)).daily_problem is None


async def test_a_failed_claim_is_retried_and_posts_once(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    async with opened(path, busy_timeout_ms=50) as storage:
        clock, sender = FakeWallClock(utc(2024, 1, 15, 8, 0)), Sender()
        scheduler = scheduler_for(storage, clock, sender)
        await enable(scheduler)
        clock.set(utc(2024, 1, 15, 9, 0))
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            retry_at = await tick(scheduler)
            assert retry_at == clock.now() + timedelta(seconds=RETRY_SECONDS)
            assert sender.sent == []
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        clock.set(retry_at)
        assert await tick(scheduler) == utc(2024, 1, 16, 9, 0)
        assert len(sender.sent) == 1
        await tick(scheduler)
        assert len(sender.sent) == 1


async def test_a_month_of_posts_never_repeats_within_a_deck(storage: Storage) -> None:
    sender = Sender()
    clock = FakeWallClock(utc(2024, 9, 20, 0, 0))
    await enable(scheduler_for(storage, clock, sender), zone="Australia/Lord_Howe")
    for day in range(len(FACTS) * 4):
        clock.set(utc(2024, 9, 20, 0, 0) + timedelta(days=day))
        # a restart every day: a new scheduler each time, only the database remembers
        await tick(scheduler_for(storage, clock, sender))
    facts = [fact for _, fact in sender.sent]
    assert len(facts) == len(FACTS) * 4  # the deck is used up and reshuffled, four times
    for start in range(0, len(facts), len(FACTS)):
        assert sorted(facts[start : start + len(FACTS)]) == FACTS
    assert all(a != b for a, b in itertools.pairwise(facts))


async def test_spring_forward_gap_posts_when_clocks_jump(storage: Storage) -> None:
    # 2024-03-10 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens.
    clock, sender = FakeWallClock(utc(2024, 3, 10, 5, 0)), Sender()  # local midnight
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler, at="02:30", zone="America/New_York")
    assert await tick(scheduler) == utc(2024, 3, 10, 7, 0)  # 03:00 EDT, the jump
    clock.set(utc(2024, 3, 10, 6, 59, 59))
    await tick(scheduler)
    assert sender.sent == []
    clock.set(utc(2024, 3, 10, 7, 0))
    await tick(scheduler)
    assert len(sender.sent) == 1
    assert await storage.last_daily_claim(GUILD) == date(2024, 3, 10)


async def test_fall_back_repeated_time_posts_once_at_the_first(storage: Storage) -> None:
    # 2024-11-03 in New York: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    clock, sender = FakeWallClock(utc(2024, 11, 3, 4, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler, at="01:30", zone="America/New_York")
    assert await tick(scheduler) == utc(2024, 11, 3, 5, 30)
    clock.set(utc(2024, 11, 3, 5, 30))
    assert await tick(scheduler) == utc(2024, 11, 4, 6, 30)  # tomorrow, 01:30 EST
    clock.set(utc(2024, 11, 3, 6, 30))
    await tick(scheduler)
    assert len(sender.sent) == 1


async def test_each_server_on_its_own_clock(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 3, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler, GUILD, "09:00", "Asia/Kolkata")
    await enable(scheduler, OTHER, "09:00", "America/New_York")
    # Kolkata is 08:30, New York is 22:00 the day before (its post for the 14th is overdue).
    assert await tick(scheduler) == utc(2024, 1, 15, 3, 30)
    assert [guild for guild, _ in sender.sent] == [OTHER]
    clock.set(utc(2024, 1, 15, 3, 30))
    assert await tick(scheduler) == utc(2024, 1, 15, 14, 0)
    assert sorted(guild for guild, _ in sender.sent) == [GUILD, OTHER]
    # The two servers draw from their own decks.
    first, second = await storage.get_deck(GUILD), await storage.get_deck(OTHER)
    assert first is not None and second is not None and first.position == second.position == 1


async def test_switched_off_servers_and_bad_settings(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 12, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler, GUILD)
    await scheduler.turn_off(GUILD)
    # A zone that no longer loads (the tz database changed): the server leaves the queue.
    await storage.enable_daily(
        OTHER,
        channel_id=555,
        daily_time="09:00",
        timezone="Mars/Olympus",
        discussion=False,
        next_at=clock.now(),
    )
    assert await tick(scheduler) is None
    assert sender.sent == []
    problem = (await storage.get_settings(OTHER)).daily_problem or ""
    assert "Mars/Olympus" in problem
    assert await storage.next_daily_due() is None


async def test_a_wake_up_reads_only_the_servers_that_are_due(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    for guild in range(500):
        await enable(scheduler, 10_000 + guild, at="21:00", zone="UTC")
    await enable(scheduler, GUILD, at="09:00", zone="UTC")
    read: list[int] = []
    due_daily_posts = storage.due_daily_posts

    async def spy(now: datetime, limit: int = 500, shards=None):  # type: ignore[no-untyped-def]
        rows = await due_daily_posts(now, limit, shards)
        read.extend(row.settings.guild_id for row in rows)
        return rows

    storage.due_daily_posts = spy  # type: ignore[method-assign]
    assert await tick(scheduler) == utc(2024, 1, 15, 21, 0)
    assert read == [GUILD] and sender.sent[0][0] == GUILD


async def test_two_processes_waking_together_post_once(backend: Backend) -> None:
    async with backend.opened() as one, backend.opened() as two:
        clock, sender = FakeWallClock(utc(2024, 1, 15, 8, 0)), Sender()
        first, second = scheduler_for(one, clock, sender), scheduler_for(two, clock, sender)
        for guild in range(20):
            await enable(first, GUILD + guild)
        clock.set(utc(2024, 1, 15, 9, 0))
        await asyncio.gather(tick(first), tick(second), tick(first), tick(second))
        assert sorted(guild for guild, _ in sender.sent) == [GUILD + g for g in range(20)]


def sharded(storage: Storage, clock: FakeWallClock, sender: Sender, *ids: int) -> DailyScheduler:
    shards = Shards(2, frozenset(ids))
    return DailyScheduler(
        lambda: storage, lambda: FACTS, sender, clock=clock, shards=lambda: shards
    )


async def test_each_process_posts_only_its_shards_and_overlapping_ones_post_once(
    backend: Backend,
) -> None:
    """Shards 0 and 1 of 2 in two processes, and a third also serving shard 0 (a rolling
    deploy): every server's post comes once, from a process that serves its shard."""
    stores = [await backend.open() for _ in range(3)]
    clock = FakeWallClock(utc(2024, 1, 15, 8, 0))
    senders = [Sender() for _ in stores]
    zero, one, zero_again = (
        sharded(store, clock, sender, shard)
        for store, sender, shard in zip(stores, senders, (0, 1, 0), strict=True)
    )
    guilds = [((n << 1 | n % 2) << 22) + 7 for n in range(12)]  # shards 0, 1, 0, 1, ...
    for guild in guilds:
        await enable(zero, guild)
    clock.set(utc(2024, 1, 15, 9, 0))
    await asyncio.gather(*(tick(s) for s in (zero, one, zero_again, one, zero_again, zero)))
    posted = [guild for sender in senders for guild, _ in sender.sent]
    assert sorted(posted) == sorted(guilds)  # each once
    assert {g for g, _ in senders[1].sent} == {g for g in guilds if (g >> 22) % 2 == 1}
    assert all((g >> 22) % 2 == 0 for sender in (senders[0], senders[2]) for g, _ in sender.sent)


async def test_a_schedule_changed_elsewhere_wakes_the_process_of_its_shard(
    backend: Backend,
) -> None:
    store = await backend.open()
    clock = FakeWallClock(utc(2024, 1, 15, 8, 0))
    mine = sharded(store, clock, Sender(), 1)
    woken = []
    mine.wake = lambda: woken.append(True)  # type: ignore[method-assign]
    mine.on_event({"kind": "daily", "guild": (2 << 22) + 5})  # shard 0: not this process's
    assert woken == []
    mine.on_event({"kind": "daily", "guild": (3 << 22) + 5})
    mine.on_event({"kind": "listener-reconnected"})  # events may have been missed
    assert woken == [True, True]


async def test_a_claim_never_switches_posts_back_on_after_daily_off(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler)
    due = await storage.due_daily_posts(clock.now())  # the scheduler has read the row...
    await scheduler.turn_off(GUILD)  # ...when /daily off comes in
    storage.due_daily_posts = lambda now, limit=500, shards=None: _returning(due)  # type: ignore[method-assign]
    await tick(scheduler)
    assert sender.sent == []
    settings = await storage.get_settings(GUILD)
    assert not settings.daily_enabled and settings.daily_next_at is None


async def _returning(value):  # type: ignore[no-untyped-def]
    return value


async def test_post_now_advances_the_deck_but_not_the_day(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 8, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler)
    first = await scheduler.post_now(await storage.get_settings(GUILD))
    clock.set(utc(2024, 1, 15, 9, 0))
    await tick(scheduler)
    assert sender.sent[0][1] == first
    assert len(sender.sent) == 2 and sender.sent[1][1] != first
    assert await scheduler.remaining_facts(GUILD) == len(FACTS) - 2


async def test_removed_facts_are_never_posted(storage: Storage) -> None:
    sender = Sender()
    clock = FakeWallClock(utc(2024, 1, 1, 9, 0))
    first = scheduler_for(storage, clock, sender)
    await enable(first)
    await tick(first)
    shrunk = [fact for fact in FACTS if fact not in {"fact-3", "fact-4"}] + ["fact-new"]
    for day in range(1, len(shrunk)):
        clock.set(utc(2024, 1, 1, 9, 0) + timedelta(days=day))
        await tick(scheduler_for(storage, clock, sender, facts=shrunk))
    posted = [fact for _, fact in sender.sent]
    assert "fact-new" in posted
    assert not {"fact-3", "fact-4"} & set(posted[1:])
    assert len(set(posted)) == len(posted)


async def test_no_facts_is_reported_not_claimed(storage: Storage) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender, facts=[])
    await enable(scheduler)
    assert await tick(scheduler) == utc(2024, 1, 16, 9, 0)  # tried again tomorrow
    assert sender.sent == []
    assert await storage.get_deck(GUILD) is None
    assert await storage.last_daily_claim(GUILD) is None
    assert "Nothing to post" in ((await storage.get_settings(GUILD)).daily_problem or "")


async def test_the_task_sleeps_until_due_and_is_woken_by_a_settings_change(
    storage: Storage,
) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 12, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    scheduler.start()
    try:
        await clock.wait_until_sleeping()  # nothing is on: it sleeps for the longest nap
        assert clock.sleeping_until == [utc(2024, 1, 15, 13, 0)]
        await enable(scheduler, at="12:30", zone="UTC")  # wakes the task
        await clock.wait_for_sleeper(utc(2024, 1, 15, 12, 30))
        clock.set(utc(2024, 1, 15, 12, 30))
        await asyncio.wait_for(sender.posted.wait(), timeout=5)
        assert len(sender.sent) == 1
    finally:
        await scheduler.stop()


async def test_a_queue_entry_of_a_server_with_posts_off_leaves_the_queue(
    storage: Storage, backend: Backend
) -> None:
    clock, sender = FakeWallClock(utc(2024, 1, 15, 9, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    await enable(scheduler)
    # Switched off behind the queue's back (daily_next_at left set).
    await backend.execute(
        "UPDATE guild_settings SET daily_enabled = ? WHERE guild_id = ?", False, GUILD
    )
    assert await tick(scheduler) is None
    assert sender.sent == [] and await storage.next_daily_due() is None
