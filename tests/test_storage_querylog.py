"""The query-log writer: batching, cleaning, and riding out a locked, read-only or full database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.storage import GuildSettings, QueryRecord, Storage
from bot.text import clean
from tests.storage_backends import Backend
from tests.storage_helpers import USER, record

# Short back-off and busy timeout so a test waits little once the database recovers.
FAST = {"log_interval": 0.01, "log_backoff_max": 0.02, "busy_timeout_ms": 50}


async def until(condition, what: str) -> None:
    """Wait for something that must happen; the deadline only stops a broken test hanging."""
    for _ in range(30_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def open_store():
    """`await open_store(path, **options)`; every store is closed after the test, pass or fail."""
    stores: list[Storage] = []

    async def open_(path: Path, **options: object) -> Storage:
        store = await Storage.open(path, **options)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield open_
    for store in stores:
        await store.close()


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM query_log").fetchone()[0]


def queries(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [q for (q,) in conn.execute("SELECT query FROM query_log ORDER BY id")]


async def stored_count(backend: Backend) -> int:
    return (await backend.rows("SELECT COUNT(*) FROM query_log"))[0][0]


async def stored_queries(backend: Backend) -> list[str]:
    return [q for (q,) in await backend.rows("SELECT query FROM query_log ORDER BY id")]


# -- batching -------------------------------------------------------------------------------------


async def test_rows_are_written_many_per_transaction(open_store, tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite3"
    store = await open_store(path, log_batch_size=250, log_interval=3600)
    statements: list[str] = []
    await store._writer.sink.connection.set_trace_callback(statements.append)
    for i in range(1000):
        store.log(record(f"q{i}"))
    assert store.log_pending == 1000  # log() only queues
    assert await store.flush()
    assert statements.count("COMMIT") == 4
    assert queries(path) == [f"q{i}" for i in range(1000)]  # in order
    await store.close()


async def test_a_full_batch_wakes_the_writer_before_the_interval(backend: Backend) -> None:
    store = await backend.open(log_batch_size=10, log_interval=3600)
    for i in range(9):
        store.log(record(f"q{i}"))
    await asyncio.sleep(0.05)
    assert store.log_written == 0  # less than a batch waits for the (hour-long) interval
    store.log(record("q9"))  # the batch is full: written now, no flush needed
    await until(lambda: store.log_written == 10, "the full batch written")
    await store.close()
    assert await stored_count(backend) == 10


async def test_close_writes_everything_queued(backend: Backend) -> None:
    store = await backend.open(log_interval=3600, log_batch_size=100_000)
    for i in range(3000):
        store.log(record(f"q{i}"))
    assert await stored_count(backend) == 0
    await store.close()
    assert await stored_queries(backend) == [f"q{i}" for i in range(3000)]


async def test_log_from_another_thread(backend: Backend) -> None:
    store = await backend.open(**FAST)
    await asyncio.to_thread(lambda: [store.log(record(f"t{i}")) for i in range(50)])
    assert await store.flush()
    assert await stored_count(backend) == 50
    await store.close()


# -- what is stored -------------------------------------------------------------------------------


def test_logged_text_loses_control_characters_and_is_cut_plainly() -> None:
    def clean_text(text: str, limit: int) -> str:
        return clean(text, limit, mark_cut=False)

    assert clean_text("un\x00 char\x1bter\x7f", 200) == "un charter"
    assert clean_text("  two\nlines\tand tab\r\n", 200) == "two lines and tab"
    assert clean_text("\ud800lone surrogate", 200) == "lone surrogate"
    assert clean_text("\u202eevil", 200) == "evil"  # a bidi override cannot reorder the report
    assert clean_text("x" * 500, 200) == "x" * 200
    assert clean_text("é✓ 日本", 3) == "é✓"


async def test_stored_row_fields(backend: Backend) -> None:
    store = await backend.open(**FAST)
    moment = datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    store.log(
        QueryRecord(
            guild_id=None,
            channel_id=None,
            user_id=USER,
            command="console",
            query="q" * 300 + "\x07",
            matched_id=None,
            outcome="none",
            score=None,
            failed=True,
            duration_ms=12.5,
            at=moment,
        )
    )
    assert await store.flush()
    [row] = await backend.rows(
        "SELECT at, guild_id, channel_id, user_hash, command, query, matched_id, outcome, "
        "score, failed, duration_ms FROM query_log"
    )
    at, *rest = row
    if backend.name == "postgres":  # timestamptz and boolean
        assert at == datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
        rest[8] = int(rest[8])
    else:
        assert at == "2024-05-01T12:30:15.123Z"
    assert tuple(rest) == (
        None,
        None,
        store.user_hash(USER),
        "console",
        "q" * 200,
        None,
        "none",
        None,
        1,
        12.5,
    )
    await store.close()


async def test_default_timestamp_is_now_in_utc(backend: Backend) -> None:
    store = await backend.open(**FAST)
    before = datetime.now(UTC).replace(microsecond=0)
    store.log(record())
    assert await store.flush()
    [row] = [r async for r in store.iter_queries()]
    stored = datetime.fromisoformat(row.at.replace("Z", "+00:00"))
    assert before <= stored <= datetime.now(UTC)
    await store.close()


async def test_log_never_raises_on_bad_records(backend: Backend) -> None:
    store = await backend.open(**FAST)
    store.log(record("good 1"))
    store.log(record("bad score", score="not a number"))
    store.log(None)  # type: ignore[arg-type]
    store.log(record("odd ids", guild_id=2**70, channel_id="7", user_id=True))
    store.log(record("nan", score=float("nan"), duration_ms=float("inf")))
    store.log(record("good 2"))
    assert await store.flush()
    assert await stored_queries(backend) == ["good 1", "odd ids", "nan", "good 2"]
    assert store.log_dropped == 2
    stored = await backend.rows(
        "SELECT guild_id, channel_id, user_hash, score, duration_ms FROM query_log ORDER BY id"
    )
    odd, nan = stored[1][:3], stored[2][3:]
    assert odd == (None, None, None)
    assert nan == (None, None)
    await store.close()


# -- a database that cannot be written ------------------------------------------------------------


async def test_locked_database_neither_blocks_nor_loses_rows(backend: Backend) -> None:
    store = await backend.open(**FAST)
    await store.set_daily_problem(1, "?")
    async with backend.foreign_write_lock():  # another process holds the write lock
        for i in range(300):
            store.log(record(f"q{i}"))  # returns at once, raises nothing
        await until(lambda: store._writer._failures > 0, "the writer tried and backs off")
        assert not await store.flush(max_wait=0.1)  # cannot be written while locked
        assert store.log_pending == 300
        # Lookups and reads go on meanwhile.
        assert (await store.get_settings(1)).daily_problem == "?"
        assert (await store.stats()).total == 0
    assert await store.flush()
    assert await stored_queries(backend) == [f"q{i}" for i in range(300)]
    await store.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the file read-only even for root (who ignores permission bits)."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("chattr +i is not available here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)


async def test_read_only_file_keeps_rows_until_it_is_writable(
    open_store, tmp_path: Path, caplog
) -> None:
    path = tmp_path / "ro.sqlite3"
    await (await open_store(path)).close()  # an up-to-date database, then made read-only
    caplog.set_level(logging.WARNING, logger="bot.storage")
    with read_only(path):
        store = await open_store(path, **FAST)  # reads work on a read-only file
        for i in range(100):
            store.log(record(f"q{i}"))
        await until(lambda: store._writer._failures > 0, "the writer tried and backs off")
        assert not await store.flush(max_wait=0.1)
        assert store.log_pending == 100
        assert await store.get_settings(5) == GuildSettings(5)
        assert "readonly" in caplog.text
    assert await store.flush()  # the writer reopened the file once it was writable
    assert count(path) == 100
    await store.enable_daily(  # so does the main connection
        5, channel_id=9, daily_time="09:00", timezone="UTC", discussion=False, next_at=None
    )
    assert (await store.get_settings(5)).daily_channel_id == 9
    await store.close()


async def test_full_disk_keeps_rows_until_there_is_room(open_store, tmp_path: Path) -> None:
    path = tmp_path / "full.sqlite3"
    store = await open_store(path, **FAST)
    conn = store._writer.sink.connection
    # max_page_count makes SQLite report "database or disk is full" exactly as a full disk does.
    pages = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]
    await conn.execute(f"PRAGMA max_page_count = {pages}")
    for i in range(2000):
        store.log(record(f"q{i}"))
    await until(lambda: store._writer._failures > 0, "the writer tried and backs off")
    assert not await store.flush(max_wait=0.1)
    assert store.log_pending == 2000
    await conn.execute("PRAGMA max_page_count = 1000000000")
    assert await store.flush()
    assert count(path) == 2000
    await store.close()


async def test_past_the_cap_the_oldest_rows_are_dropped_and_counted(
    backend: Backend, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.storage")
    store = await backend.open(log_cap=100, log_batch_size=10, **FAST)
    async with backend.foreign_write_lock():
        for i in range(250):
            store.log(record(f"q{i}"))
        await until(lambda: store._writer._failures > 0, "the writer tried and backs off")
        assert not await store.flush(max_wait=0.1)
        assert store.log_pending == 100
        assert store.log_dropped == 150
        assert "dropped 150 rows" in caplog.text
    assert await store.flush()
    assert await stored_queries(backend) == [f"q{i}" for i in range(150, 250)]  # the newest
    await store.close()


async def test_close_gives_up_on_a_database_that_stays_locked(backend: Backend, caplog) -> None:
    store = await backend.open(close_timeout=0.2, **FAST)
    async with backend.foreign_write_lock():
        for i in range(10):
            store.log(record(f"q{i}"))
        waiting = asyncio.create_task(store.flush(max_wait=None))
        await store.close()  # returns instead of hanging the shutdown
        assert "10 queued rows were not written" in caplog.text
        assert await waiting is False  # a flush waiting meanwhile is told, not left hanging
    assert await stored_count(backend) == 0
