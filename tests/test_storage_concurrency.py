"""Storage under contention, with every interleaving forced by events (never by timing):
reads beside a held write lock, cancelled and failed transactions, writes that would have lost
each other's updates, and the settings cache; on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.daily import DailyScheduler
from bot.storage import Storage, StorageBusy
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, USER, Gate, record
from tests.study_clock import FakeWallClock

# Each wait is bounded, so a broken test fails instead of hanging; nothing here waits on time.
BOUND = 10.0
NOW = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Storage]:
    async with backend.opened(log_interval=0.01) as storage:
        yield storage


async def write_waiting_on_the_lock(store: Storage, backend: Backend) -> asyncio.Task[None]:
    """A write that has reached the database and waits there for the foreign lock."""
    await backend.watch_writes(store)
    task = asyncio.create_task(store.record_answer(GUILD, USER, "Ann", "q", "s", True, NOW.date()))
    await asyncio.wait_for(backend.writer_waiting(), BOUND)
    return task


async def transaction_open(store: Storage, backend: Backend) -> bool:
    if backend.name == "postgres":
        return await backend.open_transactions() > 0
    writer = store._engine._writer
    await writer.execute("SELECT 1")  # queued behind whatever the writer's thread still does
    return writer.in_transaction


# -- reads beside writes --------------------------------------------------------------------------


async def test_reads_never_wait_for_a_write_held_up_by_another_process(
    store: Storage, backend: Backend
) -> None:
    await store.record_answer(GUILD, USER, "Ann", "q1", "mandates", True, NOW.date())
    store.log(record("un charter"))
    assert await store.flush()
    async with backend.foreign_write_lock():
        pending = await write_waiting_on_the_lock(store, backend)
        reads = await asyncio.wait_for(
            asyncio.gather(
                store.get_settings(GUILD + 1),
                store.leaderboard(GUILD),
                store.progress(GUILD, USER),
                store.activity_dates(GUILD, USER),
                store.stats(guild_id=GUILD),
                store.due_daily_posts(NOW),
                store.next_daily_due(),
            ),
            BOUND,
        )
        assert not pending.done()  # the write still waits; every read has answered
        assert [row.answered for row in reads[1]] == [1]
        assert reads[4].total == 1
    await asyncio.wait_for(pending, BOUND)  # and once the lock is free, the write goes through
    assert [row.answered for row in await store.leaderboard(GUILD)] == [2]


async def test_a_long_write_of_our_own_delays_only_writes(store: Storage) -> None:
    hold = asyncio.Event()
    holding = asyncio.Event()

    async def long_write(conn) -> None:  # type: ignore[no-untyped-def]
        holding.set()
        await hold.wait()

    long = asyncio.create_task(store._engine.write(long_write))
    await asyncio.wait_for(holding.wait(), BOUND)
    second = asyncio.create_task(store.set_daily_problem(GUILD, "queued behind"))
    settings = await asyncio.wait_for(store.get_settings(GUILD), BOUND)
    assert settings.daily_problem is None and not second.done()
    hold.set()
    await asyncio.wait_for(asyncio.gather(long, second), BOUND)
    assert (await store.get_settings(GUILD)).daily_problem == "queued behind"


async def test_a_write_gives_up_with_storage_busy_after_the_busy_timeout(
    backend: Backend,
) -> None:
    async with backend.opened(busy_timeout_ms=100) as store:
        async with backend.foreign_write_lock():
            # The first waits on the file, the others on it: all give up within one timeout.
            results = await asyncio.gather(
                *(store.set_daily_problem(GUILD, f"try {i}") for i in range(3)),
                return_exceptions=True,
            )
            assert all(isinstance(result, StorageBusy) for result in results)
            assert (await store.get_settings(GUILD)).daily_problem is None
        await store.set_daily_problem(GUILD, "after")  # nothing is stuck
        assert (await store.get_settings(GUILD)).daily_problem == "after"


# -- cancellation ---------------------------------------------------------------------------------


async def test_a_write_cancelled_while_waiting_on_a_lock_leaves_the_storage_usable(
    store: Storage, backend: Backend
) -> None:
    async with backend.foreign_write_lock():
        pending = await write_waiting_on_the_lock(store, backend)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending  # returns at once, while the BEGIN still waits on the lock
        # Queued behind the clean-up, which holds the write lock until its ROLLBACK has run:
        # were it let in earlier, its BEGIN would land inside the cancelled one and fail.
        late = asyncio.create_task(store.set_daily_problem(GUILD, "queued"))
    await asyncio.wait_for(late, BOUND)
    assert (await store.get_settings(GUILD)).daily_problem == "queued"
    # The BEGIN went through on the writer's thread once the lock was free; it was rolled back.
    assert not await transaction_open(store, backend)
    await store.set_daily_problem(GUILD, "works")
    assert (await store.get_settings(GUILD)).daily_problem == "works"
    assert await store.leaderboard(GUILD) == []  # the cancelled answer was never stored


async def run(conn, backend: Backend, sql: str, *params: object) -> None:  # type: ignore[no-untyped-def]
    """One statement on an engine's connection, written with `?` placeholders."""
    if backend.name == "postgres":
        await conn.execute(backend.sql(sql), *params)
    else:
        await conn.execute(sql, params)


async def test_a_write_cancelled_mid_transaction_is_rolled_back(
    store: Storage, backend: Backend
) -> None:
    inside = asyncio.Event()

    async def half_done(conn) -> None:  # type: ignore[no-untyped-def]
        await run(conn, backend, "UPDATE guild_settings SET daily_problem = 'half' WHERE 1")
        await run(
            conn,
            backend,
            "INSERT INTO guild_settings (guild_id, daily_problem) VALUES (?, 'half')",
            GUILD,
        )
        inside.set()
        await asyncio.Event().wait()  # never finishes by itself

    task = asyncio.create_task(store._engine.write(half_done))
    await asyncio.wait_for(inside.wait(), BOUND)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await transaction_open(store, backend)
    assert (await store.get_settings(GUILD)).daily_problem is None
    await store.set_daily_problem(GUILD, "next write")
    assert (await store.get_settings(GUILD)).daily_problem == "next write"


async def test_a_failed_transaction_is_rolled_back_and_the_next_one_works(
    store: Storage, backend: Backend
) -> None:
    async def broken(conn) -> None:  # type: ignore[no-untyped-def]
        await run(
            conn,
            backend,
            "INSERT INTO guild_settings (guild_id, daily_problem) VALUES (?, 'x')",
            GUILD,
        )
        await run(conn, backend, "INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(Exception, match="no_such_table"):
        await store._engine.write(broken)
    assert not await transaction_open(store, backend)
    assert (await store.get_settings(GUILD)).daily_problem is None
    await store.set_daily_problem(GUILD, "fine")
    assert (await store.get_settings(GUILD)).daily_problem == "fine"


# -- writes that used to lose each other's updates ------------------------------------------------


def scheduler(store: Storage) -> DailyScheduler:
    async def deliver(settings, fact_id) -> None:  # type: ignore[no-untyped-def]
        return None

    return DailyScheduler(lambda: store, lambda: ["f1", "f2"], deliver, clock=FakeWallClock(NOW))


async def held_write(store: Storage, action) -> tuple[asyncio.Task, Gate]:  # type: ignore[no-untyped-def]
    """Start `action` and hold it at its first write."""
    gate = Gate(store, "write")
    task = asyncio.create_task(action)
    await asyncio.wait_for(gate.reached.wait(), BOUND)
    return task, gate


async def test_a_problem_report_racing_daily_set_keeps_the_new_channel(store: Storage) -> None:
    daily = scheduler(store)
    await daily.configure(GUILD, 111, "09:00", "UTC", False)
    # The old code read the whole row, then wrote it back: a /daily set in between was undone.
    report, gate = await held_write(store, store.set_daily_problem(GUILD, "old channel gone"))
    await daily.configure(GUILD, 222, "10:00", "Europe/Oslo", True)
    gate.release()
    await asyncio.wait_for(report, BOUND)
    settings = await store.get_settings(GUILD)
    assert (settings.daily_channel_id, settings.daily_time, settings.timezone) == (
        222,
        "10:00",
        "Europe/Oslo",
    )
    assert settings.daily_enabled and settings.daily_discussion


async def test_daily_set_racing_a_problem_report_keeps_both(store: Storage) -> None:
    daily = scheduler(store)
    await daily.configure(GUILD, 111, "09:00", "UTC", False)
    # /daily set has read the settings (for the date to post next) and waits to write.
    setting, gate = await held_write(store, daily.configure(GUILD, 222, "09:00", "UTC", False))
    await store.set_daily_problem(GUILD, "reported meanwhile")
    gate.release()
    await asyncio.wait_for(setting, BOUND)
    settings = await store.get_settings(GUILD)
    assert settings.daily_channel_id == 222 and settings.daily_enabled
    assert settings.daily_problem is None  # turning posts on clears it, and it was written last


async def test_a_problem_report_racing_daily_off_never_turns_posts_back_on(
    store: Storage,
) -> None:
    daily = scheduler(store)
    await daily.configure(GUILD, 111, "09:00", "UTC", False)
    report, gate = await held_write(store, store.set_daily_problem(GUILD, "post failed"))
    await daily.turn_off(GUILD)
    gate.release()
    await asyncio.wait_for(report, BOUND)
    settings = await store.get_settings(GUILD)
    assert not settings.daily_enabled and settings.daily_next_at is None
    assert await store.due_daily_posts(datetime(2030, 1, 1, tzinfo=UTC)) == []


async def test_concurrent_daily_now_draws_never_lose_a_deck_step(store: Storage) -> None:
    daily = scheduler(store)
    await daily.configure(GUILD, 111, "09:00", "UTC", False)
    settings = await store.get_settings(GUILD)
    # Hold the first draw's save: the second draw reads the same deck and saves first.
    first, gate = await held_write(store, daily.post_now(settings))
    second = await daily.post_now(settings)
    gate.release()
    other = await asyncio.wait_for(first, BOUND)
    deck = await store.get_deck(GUILD)
    assert deck is not None and deck.position == 2  # both steps kept: the loser redrew
    assert {other, second} == {"f1", "f2"}


# -- the settings cache ---------------------------------------------------------------------------


async def test_settings_are_read_from_disk_once_and_every_write_invalidates(
    store: Storage,
) -> None:
    cache = store.settings_cache
    await store.get_settings(GUILD)
    misses = cache.misses
    for _ in range(5):
        await store.get_settings(GUILD)
    assert cache.misses == misses  # served from memory
    await store.set_daily_problem(GUILD, "changed")
    assert (await store.get_settings(GUILD)).daily_problem == "changed"  # write-through
    await scheduler(store).configure(GUILD, 111, "09:00", "UTC", False)
    assert (await store.get_settings(GUILD)).daily_channel_id == 111
    await store.disable_daily(GUILD)
    assert not (await store.get_settings(GUILD)).daily_enabled


async def test_a_read_that_raced_a_write_is_not_cached(store: Storage) -> None:
    # The read has fetched the old row and not yet returned when the write commits.
    gate = Gate(store, "read", after=True)
    reading = asyncio.create_task(store.get_settings(GUILD))
    await asyncio.wait_for(gate.reached.wait(), BOUND)
    await store.set_daily_problem(GUILD, "newer")
    gate.release()
    assert (await asyncio.wait_for(reading, BOUND)).daily_problem is None  # what it read
    assert (await store.get_settings(GUILD)).daily_problem == "newer"  # never cached stale


async def test_a_change_by_another_process_shows_after_the_cache_ttl(backend: Backend) -> None:
    async with backend.opened(settings_ttl=0.0) as one, backend.opened() as two:
        assert (await one.get_settings(GUILD)).daily_problem is None
        await two.set_daily_problem(GUILD, "from the other process")
        assert (await one.get_settings(GUILD)).daily_problem == "from the other process"


async def test_the_cache_is_bounded(backend: Backend) -> None:
    async with backend.opened() as store:
        store.settings_cache.limit = 50
        for guild in range(200):
            await store.get_settings(guild)
        assert len(store.settings_cache) == 50


async def test_claims_invalidate_the_cached_queue_entry(store: Storage) -> None:
    daily = scheduler(store)
    await daily.configure(GUILD, 111, "08:00", "UTC", False)
    assert (await store.get_settings(GUILD)).daily_next_on is None
    await daily.wake_up()
    await daily.settle()
    assert (await store.get_settings(GUILD)).daily_next_on == date(2024, 5, 7)


async def test_a_claim_that_commits_and_then_fails_leaves_no_stale_settings(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    daily = scheduler(store)
    await daily.configure(GUILD, 111, "08:00", "UTC", False)
    assert (await store.get_settings(GUILD)).daily_next_on is None  # now cached
    write, claim = store._write, store._sql.daily.claim

    async def claim_commits_then_fails(work):  # type: ignore[no-untyped-def]
        result = await write(work)
        if getattr(work, "func", None) is claim:
            raise StorageBusy("the connection dropped after the commit")
        return result

    monkeypatch.setattr(store, "_write", claim_commits_then_fails)
    await daily.wake_up()  # the scheduler takes the claim as failed and will look again
    monkeypatch.undo()
    assert (await store.get_settings(GUILD)).daily_next_on == date(2024, 5, 7)
