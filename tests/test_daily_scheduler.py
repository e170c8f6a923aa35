"""The daily-post scheduler against a real in-memory database, with an injected clock."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.storage import GuildSettings, Storage
from cogs.daily import DailyPostProblem, DailyScheduler

FACTS = [f"fact-{n}" for n in range(7)]
GUILD, OTHER = 1001, 2002


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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
async def storage() -> AsyncIterator[Storage]:
    storage = await Storage.open(":memory:")
    yield storage
    await storage.close()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def scheduler_for(
    storage: Storage, clock: Clock, sender: Sender, facts: list[str] | None = None
) -> DailyScheduler:
    content = FACTS if facts is None else facts
    return DailyScheduler(lambda: storage, lambda: content, sender, now=clock, rng=random.Random(4))


async def enable(
    storage: Storage, guild: int = GUILD, at: str = "09:00", zone: str = "Europe/London"
) -> None:
    await storage.save_settings(
        GuildSettings(
            guild_id=guild,
            daily_channel_id=555,
            daily_time=at,
            timezone=zone,
            daily_enabled=True,
        )
    )


async def test_sleeps_until_due_then_posts_once(storage: Storage) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 15, 8, 59)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    assert await scheduler.tick() == utc(2024, 1, 15, 9, 0)
    assert sender.sent == []
    clock.now = utc(2024, 1, 15, 9, 0, 1)
    assert await scheduler.tick() == utc(2024, 1, 16, 9, 0)
    assert len(sender.sent) == 1
    assert await scheduler.tick() == utc(2024, 1, 16, 9, 0)
    assert len(sender.sent) == 1
    deck = await storage.get_deck(GUILD)
    assert deck is not None and deck.last_posted_on == date(2024, 1, 15)


async def test_restart_after_posting_does_not_post_again(storage: Storage) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 15, 9, 0)), Sender()
    await scheduler_for(storage, clock, sender).tick()
    clock.now += timedelta(minutes=5)
    await scheduler_for(storage, clock, sender).tick()  # a new process, same database
    assert len(sender.sent) == 1


async def test_catch_up_once_after_downtime_never_per_missed_day(storage: Storage) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 10, 9, 0)), Sender()
    await scheduler_for(storage, clock, sender).tick()
    clock.now = utc(2024, 1, 15, 14, 30)  # down for five days, back in the afternoon
    scheduler = scheduler_for(storage, clock, sender)
    assert await scheduler.tick() == utc(2024, 1, 16, 9, 0)
    assert len(sender.sent) == 2
    await scheduler.tick()
    assert len(sender.sent) == 2


async def test_claim_is_saved_before_sending_so_a_crash_never_double_posts(
    storage: Storage,
) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 15, 9, 0)), Sender()
    sender.fail = RuntimeError("the process died mid-send")
    await scheduler_for(storage, clock, sender).tick()
    deck = await storage.get_deck(GUILD)
    assert deck is not None and deck.last_posted_on == date(2024, 1, 15)
    sender.fail = None
    await scheduler_for(storage, clock, sender).tick()
    assert sender.sent == []  # today's post is spent, not repeated
    assert "unexpectedly" in ((await storage.get_settings(GUILD)).daily_problem or "")


async def test_problem_is_stored_then_cleared_by_the_next_good_post(storage: Storage) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 15, 9, 0)), Sender()
    sender.fail = DailyPostProblem("The daily channel no longer exists.")
    scheduler = scheduler_for(storage, clock, sender)
    await scheduler.tick()
    settings = await storage.get_settings(GUILD)
    assert settings.daily_problem == "The daily channel no longer exists."
    assert settings.daily_enabled  # nothing is silently switched off
    sender.fail = None
    clock.now = utc(2024, 1, 16, 9, 0)
    await scheduler.tick()
    assert len(sender.sent) == 1
    assert (await storage.get_settings(GUILD)).daily_problem is None


async def test_a_month_of_posts_never_repeats_within_a_deck(storage: Storage) -> None:
    await enable(storage, zone="Australia/Lord_Howe")
    sender = Sender()
    clock = Clock(utc(2024, 9, 20, 0, 0))
    for day in range(len(FACTS) * 4):
        clock.now = utc(2024, 9, 20, 0, 0) + timedelta(days=day)
        # a restart every day: a new scheduler each time, only the database remembers
        await scheduler_for(storage, clock, sender).tick()
    facts = [fact for _, fact in sender.sent]
    assert len(facts) == len(FACTS) * 4
    for start in range(0, len(facts), len(FACTS)):
        assert sorted(facts[start : start + len(FACTS)]) == FACTS
    assert all(a != b for a, b in itertools.pairwise(facts))


async def test_spring_forward_gap_posts_when_clocks_jump(storage: Storage) -> None:
    # 2024-03-10 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens.
    await enable(storage, at="02:30", zone="America/New_York")
    clock, sender = Clock(utc(2024, 3, 10, 5, 0)), Sender()  # local midnight
    scheduler = scheduler_for(storage, clock, sender)
    assert await scheduler.tick() == utc(2024, 3, 10, 7, 0)  # 03:00 EDT, the jump
    clock.now = utc(2024, 3, 10, 6, 59, 59)
    await scheduler.tick()
    assert sender.sent == []
    clock.now = utc(2024, 3, 10, 7, 0)
    await scheduler.tick()
    assert len(sender.sent) == 1
    deck = await storage.get_deck(GUILD)
    assert deck is not None and deck.last_posted_on == date(2024, 3, 10)


async def test_each_server_on_its_own_clock(storage: Storage) -> None:
    await enable(storage, GUILD, "09:00", "Asia/Kolkata")
    await enable(storage, OTHER, "09:00", "America/New_York")
    clock, sender = Clock(utc(2024, 1, 15, 3, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    # Kolkata is 08:30, New York is 22:00 the day before (its post for the 14th is overdue).
    assert await scheduler.tick() == utc(2024, 1, 15, 3, 30)
    assert [guild for guild, _ in sender.sent] == [OTHER]
    clock.now = utc(2024, 1, 15, 3, 30)
    assert await scheduler.tick() == utc(2024, 1, 15, 14, 0)
    assert sorted(guild for guild, _ in sender.sent) == [GUILD, OTHER]
    # The two servers draw from their own decks.
    first, second = await storage.get_deck(GUILD), await storage.get_deck(OTHER)
    assert first is not None and second is not None and first.position == second.position == 1


async def test_disabled_servers_and_bad_settings(storage: Storage) -> None:
    await enable(storage, GUILD)
    await storage.save_settings(
        GuildSettings(guild_id=GUILD, daily_channel_id=555, daily_enabled=False)
    )
    await storage.save_settings(
        GuildSettings(
            guild_id=OTHER, daily_channel_id=555, timezone="Mars/Olympus", daily_enabled=True
        )
    )
    clock, sender = Clock(utc(2024, 1, 15, 12, 0)), Sender()
    assert await scheduler_for(storage, clock, sender).tick() is None
    assert sender.sent == []
    problem = (await storage.get_settings(OTHER)).daily_problem or ""
    assert "Mars/Olympus" in problem


async def test_post_now_advances_the_deck_but_not_the_day(storage: Storage) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 15, 8, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    settings = await storage.get_settings(GUILD)
    first = await scheduler.post_now(settings)
    clock.now = utc(2024, 1, 15, 9, 0)
    await scheduler.tick()
    assert sender.sent[0][1] == first
    assert len(sender.sent) == 2 and sender.sent[1][1] != first
    assert await scheduler.remaining_facts(GUILD) == len(FACTS) - 2


async def test_removed_facts_are_never_posted(storage: Storage) -> None:
    await enable(storage)
    sender = Sender()
    clock = Clock(utc(2024, 1, 1, 9, 0))
    await scheduler_for(storage, clock, sender).tick()
    shrunk = [fact for fact in FACTS if fact not in {"fact-3", "fact-4"}] + ["fact-new"]
    for day in range(1, len(shrunk)):
        clock.now = utc(2024, 1, 1, 9, 0) + timedelta(days=day)
        await scheduler_for(storage, clock, sender, facts=shrunk).tick()
    posted = [fact for _, fact in sender.sent]
    assert "fact-new" in posted
    assert not {"fact-3", "fact-4"} & set(posted[1:])
    assert len(set(posted)) == len(posted)


async def test_no_facts_is_reported_not_claimed(storage: Storage) -> None:
    await enable(storage)
    clock, sender = Clock(utc(2024, 1, 15, 9, 0)), Sender()
    await scheduler_for(storage, clock, sender, facts=[]).tick()
    assert sender.sent == []
    assert await storage.get_deck(GUILD) is None
    assert "Nothing to post" in ((await storage.get_settings(GUILD)).daily_problem or "")


async def test_the_task_sleeps_and_is_woken_by_a_settings_change(storage: Storage) -> None:
    clock, sender = Clock(utc(2024, 1, 15, 12, 0)), Sender()
    scheduler = scheduler_for(storage, clock, sender)
    scheduler.start()
    try:
        await asyncio.sleep(0)  # the task runs a pass: nothing enabled, it sleeps (up to 1 h)
        await enable(storage)  # 09:00 today has passed: a catch-up post is due at once
        scheduler.wake()
        await asyncio.wait_for(sender.posted.wait(), timeout=5)
        assert len(sender.sent) == 1
    finally:
        await scheduler.stop()
