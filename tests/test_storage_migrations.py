"""Schema migrations: from every earlier version to the latest, idempotent, and concurrent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.deck import Deck
from bot.storage import Storage, StorageError
from bot.storage._connection import connect
from bot.storage._migrations import LATEST, MIGRATIONS, STEPS, migrate, migrate_pg, schema_version
from tests.storage_backends import Backend
from tests.storage_helpers import USER

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def schema(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


async def build_old_database(path: Path, version: int) -> str | None:
    """A database at schema `version` holding some data of that version; returns its salt."""
    conn = await connect(str(path), busy_timeout_ms=1000)
    try:
        assert await migrate(conn, target=version) == version
        if version == 0:
            return None
        # v1 data, written with v1 columns only.
        await conn.execute(
            "INSERT INTO guild_settings (guild_id, daily_channel_id, daily_time, timezone, "
            "daily_enabled, daily_discussion, prefix) "
            "VALUES (42, 7, '18:00', 'Asia/Tokyo', 1, 0, '?')"
        )
        await conn.execute(
            "INSERT INTO query_log (at, guild_id, channel_id, user_hash, command, query, "
            "matched_id, outcome, score, failed, duration_ms) "
            "VALUES ('2024-01-01T00:00:00.000Z', 42, 7, 'abc', 'define', 'old query', NULL, "
            "'none', NULL, 0, 3.0)"
        )
        if version < 3:  # the deck still holds the last posted date
            await conn.execute(
                "INSERT INTO fact_deck (guild_id, fact_order, position, last_posted_on, "
                "last_fact_id) VALUES (42, '[\"f1\", \"f2\"]', 1, '2024-05-06', 'f1')"
            )
        async with conn.execute("SELECT value FROM meta WHERE key = 'salt'") as cursor:
            return (await cursor.fetchone())[0]
    finally:
        await conn.close()


def test_there_are_several_numbered_migrations_each_in_both_forms() -> None:
    assert LATEST == len(MIGRATIONS) == len(STEPS) >= 2
    assert all(step.postgres.strip() and step.sqlite for step in STEPS)


@pytest.mark.parametrize("start", range(LATEST + 1))
async def test_upgrade_from_every_version(tmp_path: Path, start: int) -> None:
    old = tmp_path / "old.sqlite3"
    salt = await build_old_database(old, start)
    assert user_version(old) == start

    store = await Storage.open(old)
    try:
        assert user_version(old) == LATEST
        # Nothing lost, new columns have their defaults, and everything works.
        if start >= 1:
            settings = await store.get_settings(42)
            assert settings.daily_problem is None and settings.prefix == "?"
            assert settings.daily_channel_id == 7 and settings.daily_enabled
            assert (await store.stats()).no_match_queries[0].name == "old query"
        if 1 <= start < 3:
            # Posts that were on join the queue, due at once: the scheduler works out when;
            # the last posted date becomes a claim and the next date to post.
            assert settings.daily_next_at == datetime(1970, 1, 1, tzinfo=UTC)
            assert settings.daily_next_on == date(2024, 5, 7)
            assert await store.last_daily_claim(42) == date(2024, 5, 6)
            assert await store.get_deck(42) == Deck(("f1", "f2"), 1, "f1")
        await store.set_daily_problem(43, "no permission")
        assert (await store.get_settings(43)).daily_problem == "no permission"
        await store.record_answer(42, USER, "Ann", "q1", "mandates", True, date(2024, 5, 1))
        assert len(await store.leaderboard(42)) == 1
        if salt is not None:  # the salt survives, so existing hashes stay valid
            expected = hmac.new(bytes.fromhex(salt), str(USER).encode(), hashlib.sha256)
            assert store.user_hash(USER) == expected.hexdigest()[:32]
    finally:
        await store.close()

    # The upgraded schema is the same as a new database's.
    fresh = tmp_path / "fresh.sqlite3"
    await (await Storage.open(fresh)).close()
    assert schema(old) == schema(fresh)


async def test_opening_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    await (await Storage.open(path)).close()
    before, salt = schema(path), await salt_of(path)
    await (await Storage.open(path)).close()
    assert schema(path) == before
    assert await salt_of(path) == salt


async def salt_of(path: Path) -> str:
    conn = await connect(str(path), busy_timeout_ms=1000)
    try:
        async with conn.execute("SELECT value FROM meta WHERE key = 'salt'") as cursor:
            return (await cursor.fetchone())[0]
    finally:
        await conn.close()


async def test_every_step_is_harmless_when_run_twice(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    await (await Storage.open(path)).close()
    before, salt = schema(path), await salt_of(path)
    conn = await connect(str(path), busy_timeout_ms=1000)
    try:
        for step in MIGRATIONS:
            await conn.execute("BEGIN IMMEDIATE")
            await step(conn)
            await conn.execute("COMMIT")
    finally:
        await conn.close()
    assert schema(path) == before
    assert await salt_of(path) == salt


async def test_a_failing_step_leaves_the_previous_version(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "db.sqlite3"
    await build_old_database(path, 1)
    before = schema(path)

    async def broken(conn) -> None:
        await conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("bot.storage._migrations.MIGRATIONS", (MIGRATIONS[0], broken))
    with pytest.raises(StorageError, match="disk I/O error"):
        await Storage.open(path)
    assert user_version(path) == 1
    assert schema(path) == before  # the half-done step was rolled back


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    await (await Storage.open(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StorageError, match="newer than this peacebot"):
        await Storage.open(path)


async def test_two_openers_of_a_new_database_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    stores = await asyncio.gather(*(Storage.open(path) for _ in range(4)))
    try:
        assert user_version(path) == LATEST
        assert len({store.user_hash(USER) for store in stores}) == 1  # one salt
    finally:
        for store in stores:
            await store.close()


async def test_schema_version_of_a_new_file_is_zero(tmp_path: Path) -> None:
    conn = await connect(str(tmp_path / "empty.sqlite3"), busy_timeout_ms=1000)
    try:
        assert await schema_version(conn) == 0
    finally:
        await conn.close()


# -- PostgreSQL: the same steps, the same schema --------------------------------------------------


async def pg_connection(backend: Backend):  # type: ignore[no-untyped-def]
    import asyncpg

    return await asyncpg.connect(backend.location)


@pytest.fixture
async def pg(postgres: Backend) -> Backend:
    return postgres


@pytest.mark.parametrize("start", range(LATEST + 1))
async def test_postgresql_upgrades_from_every_version(pg: Backend, start: int) -> None:
    conn = await pg_connection(pg)
    try:
        assert await migrate_pg(conn, target=start) == start
        if start >= 1:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, daily_channel_id, daily_time, timezone, "
                "daily_enabled, daily_discussion, prefix) "
                "VALUES (42, 7, '18:00', 'Asia/Tokyo', true, false, '?')"
            )
        if 1 <= start < 3:
            await conn.execute(
                "INSERT INTO fact_deck (guild_id, fact_order, position, last_posted_on, "
                "last_fact_id) VALUES (42, '[\"f1\", \"f2\"]', 1, '2024-05-06', 'f1')"
            )
        salt = await conn.fetchval("SELECT value FROM meta WHERE key = 'salt'") if start else None
    finally:
        await conn.close()
    async with pg.opened() as store:
        if start >= 1:
            settings = await store.get_settings(42)
            assert settings.prefix == "?" and settings.daily_enabled
        if 1 <= start < 3:
            assert settings.daily_next_at == datetime(1970, 1, 1, tzinfo=UTC)
            assert settings.daily_next_on == date(2024, 5, 7)
            assert await store.last_daily_claim(42) == date(2024, 5, 6)
            assert await store.get_deck(42) == Deck(("f1", "f2"), 1, "f1")
        if salt is not None:
            expected = hmac.new(bytes.fromhex(salt), str(USER).encode(), hashlib.sha256)
            assert store.user_hash(USER) == expected.hexdigest()[:32]
    versions = await pg.rows("SELECT version, name FROM schema_migrations ORDER BY version")
    assert versions == [(n + 1, step.name) for n, step in enumerate(STEPS)]


async def test_postgresql_openers_starting_together_migrate_once(pg: Backend) -> None:
    stores = await asyncio.gather(*(pg.open() for _ in range(4)))
    assert len({store.user_hash(USER) for store in stores}) == 1  # one salt
    assert await pg.rows("SELECT COUNT(*), MAX(version) FROM schema_migrations") == [
        (LATEST, LATEST)
    ]


async def test_postgresql_refuses_a_newer_database(pg: Backend) -> None:
    await (await pg.open()).close()
    await pg.execute("INSERT INTO schema_migrations (version, name) VALUES (?, 'future')", 99)
    with pytest.raises(StorageError, match="newer than this peacebot"):
        await Storage.open(pg.location)


async def test_postgresql_and_sqlite_have_the_same_tables_columns_and_indexes(
    pg: Backend, tmp_path: Path
) -> None:
    await (await pg.open()).close()
    sqlite_path = tmp_path / "same.sqlite3"
    await (await Storage.open(sqlite_path)).close()
    with sqlite3.connect(sqlite_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        lite_columns = {
            (table, row[1])
            for table in tables
            for row in conn.execute(f"PRAGMA table_info({table})")
        }
        lite_indexes = {
            (row[0], row[1])
            for row in conn.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' "
                "AND name NOT LIKE 'sqlite_autoindex%'"
            )
        }
    pg_columns = set(
        await pg.rows(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'"
        )
    )
    pg_indexes = set(
        await pg.rows(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname NOT LIKE '%_pkey'"
        )
    )
    assert pg_columns == lite_columns
    assert pg_indexes == lite_indexes
