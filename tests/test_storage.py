"""Storage: settings, fact decks, quiz scores, forgetting a user, statistics, prune, export, the
synced command tree and events; on both engines (the `backend` fixture), except where a test
is about one engine's files or connections."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.deck import Deck
from bot.storage import (
    ClaimResult,
    Count,
    DailyClaim,
    GuildSettings,
    ScoreRow,
    SectionScore,
    Shards,
    Storage,
    StorageError,
    SyncClaim,
)
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, OTHER, USER, opened, record


@pytest.fixture
async def storage(backend: Backend):
    return await backend.open(log_interval=0.01)


def rows(path: Path | str, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


# -- opening --------------------------------------------------------------------------------------


async def pragma(conn, name: str):
    async with conn.execute(f"PRAGMA {name}") as cursor:
        return (await cursor.fetchone())[0]


@pytest.fixture
async def sqlite_storage(tmp_path: Path):
    async with opened(tmp_path / "peacebot.sqlite3") as store:
        yield store


async def test_open_sets_wal_busy_timeout_and_foreign_keys(sqlite_storage: Storage) -> None:
    engine = sqlite_storage._engine
    for conn in (engine._writer, *engine._all_readers):
        assert await pragma(conn, "journal_mode") == "wal"
        assert await pragma(conn, "foreign_keys") == 1
        assert await pragma(conn, "busy_timeout") == 5000
    # Readers refuse writes, so nothing but the writer ever takes the write lock.
    assert len(engine._all_readers) >= 2
    assert [await pragma(c, "query_only") for c in engine._all_readers] == [1] * len(
        engine._all_readers
    )
    assert await pragma(engine._writer, "query_only") == 0


async def test_postgresql_readers_refuse_writes_and_every_connection_keeps_utc(
    postgres: Backend,
) -> None:
    store = await postgres.open(busy_timeout_ms=1234)

    async def settings(conn) -> tuple:  # type: ignore[no-untyped-def]
        return tuple(
            [await conn.fetchval(f"SHOW {name}") for name in ("TimeZone", "lock_timeout")]
            + [await conn.fetchval("SHOW default_transaction_read_only")]
        )

    assert await store._engine.read(settings) == ("UTC", "1234ms", "on")
    assert await store._engine.write(settings) == ("UTC", "1234ms", "off")
    with pytest.raises(StorageError, match="read-only transaction"):
        await store._engine.read(lambda conn: conn.execute("DELETE FROM meta"))


async def test_an_unreachable_postgresql_is_one_storage_error_without_the_password() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    url = f"postgresql://bot:secret-password@127.0.0.1:{port}/peacebot"
    with pytest.raises(StorageError, match=f"cannot connect to postgresql://bot@127.0.0.1:{port}"):
        await Storage.open(url)
    try:
        await Storage.open(url)
    except StorageError as exc:
        assert "secret-password" not in str(exc)


async def test_memory_database_works_end_to_end() -> None:
    async with opened(":memory:") as store:
        store.log(record())
        assert await store.flush()
        await enable(store, GUILD, next_at=MONDAY_9)
        assert (await store.stats()).total == 1
        due = await store.due_daily_posts(MONDAY_9)
        assert [d.settings.guild_id for d in due] == [GUILD]


async def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        await Storage.open(tmp_path / "missing-dir" / "db.sqlite3")


async def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        await Storage.open(path)


async def test_methods_after_close_raise_storage_error(tmp_path: Path) -> None:
    store = await Storage.open(tmp_path / "db.sqlite3")
    await store.close()
    await store.close()  # twice is fine
    store.log(record())  # never raises, even now
    with pytest.raises(StorageError, match="closed"):
        await store.get_settings(GUILD)


# -- settings -------------------------------------------------------------------------------------

MONDAY = date(2024, 5, 6)
MONDAY_9 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


async def enable(
    store: Storage, guild: int = GUILD, *, channel: int = 555, next_at: datetime | None = None
) -> None:
    await store.enable_daily(
        guild,
        channel_id=channel,
        daily_time="09:00",
        timezone="Europe/Oslo",
        discussion=True,
        next_at=next_at,
    )


async def test_settings_default_when_nothing_saved(storage: Storage) -> None:
    assert await storage.get_settings(GUILD) == GuildSettings(guild_id=GUILD)


async def test_enable_disable_and_problem_change_only_their_columns(storage: Storage) -> None:
    await storage.set_daily_problem(GUILD, "missing permission: Send Messages")
    await enable(storage, next_at=MONDAY_9)
    assert await storage.get_settings(GUILD) == GuildSettings(
        guild_id=GUILD,
        daily_channel_id=555,
        daily_time="09:00",
        timezone="Europe/Oslo",
        daily_enabled=True,
        daily_discussion=True,
        daily_problem=None,  # turning posts on clears the problem
        daily_next_at=MONDAY_9,
    )
    await storage.set_daily_problem(GUILD, "The channel is gone.")
    problem = await storage.get_settings(GUILD)
    assert problem.daily_enabled and problem.daily_channel_id == 555  # untouched
    assert problem.daily_problem == "The channel is gone."
    await storage.disable_daily(GUILD)
    off = await storage.get_settings(GUILD)
    assert (off.daily_enabled, off.daily_problem, off.daily_next_at) == (False, None, None)
    assert off.daily_channel_id == 555 and off.timezone == "Europe/Oslo"  # kept for next time
    await storage.set_daily_problem(GUILD, "late failure report")
    assert not (await storage.get_settings(GUILD)).daily_enabled  # a problem never turns it on
    await storage.reschedule_daily({GUILD: MONDAY_9})  # nor does the scheduler
    assert (await storage.get_settings(GUILD)).daily_next_at is None


async def test_the_queue_reads_only_due_servers_earliest_first(storage: Storage) -> None:
    for guild, hour in ((1, 9), (2, 7), (3, 12)):
        await enable(storage, guild, next_at=MONDAY_9.replace(hour=hour))
    await enable(storage, 4, next_at=MONDAY_9)
    await storage.disable_daily(4)
    due = await storage.due_daily_posts(MONDAY_9)
    assert [d.settings.guild_id for d in due] == [2, 1]
    assert [d.settings.guild_id for d in await storage.due_daily_posts(MONDAY_9, limit=1)] == [2]
    assert await storage.next_daily_due() == MONDAY_9.replace(hour=7)
    await storage.reschedule_daily({2: None})
    assert await storage.next_daily_due() == MONDAY_9


# -- claims and the fact deck ---------------------------------------------------------------------

F1 = Deck(("f1", "f2", "f3"), 1, "f1")
F2 = Deck(("f1", "f2", "f3"), 2, "f2")
F3 = Deck(("f1", "f2", "f3"), 3, "f3")


def claim(day: date, before: Deck | None, after: Deck, channel: int = 555) -> DailyClaim:
    return DailyClaim(
        guild_id=GUILD,
        local_date=day,
        channel_id=channel,
        fact_id=after.last_fact_id or "",
        before=before,
        after=after,
        next_on=day + timedelta(days=1),
        next_at=MONDAY_9 + (day + timedelta(days=1) - MONDAY),
    )


async def test_deck_is_none_until_saved_then_compare_and_set(storage: Storage) -> None:
    assert await storage.get_deck(GUILD) is None
    assert await storage.save_deck(GUILD, None, F1)
    assert not await storage.save_deck(GUILD, None, F2)  # someone saved one first
    assert await storage.get_deck(GUILD) == F1
    assert await storage.save_deck(GUILD, F1, F2)
    assert not await storage.save_deck(GUILD, F1, F3)  # stale: the deck moved on
    assert await storage.get_deck(GUILD) == F2


async def test_claim_once_per_date_and_never_backwards(storage: Storage) -> None:
    await enable(storage, next_at=MONDAY_9)
    tuesday = MONDAY + timedelta(days=1)
    assert await storage.claim_daily_posts([claim(MONDAY, None, F1)], MONDAY_9) == [
        ClaimResult.CLAIMED
    ]
    settings = await storage.get_settings(GUILD)
    assert settings.daily_next_on == tuesday
    assert settings.daily_next_at == MONDAY_9 + timedelta(days=1)
    assert await storage.get_deck(GUILD) == F1
    again = await storage.claim_daily_posts([claim(MONDAY, F1, F2)], MONDAY_9)
    assert again == [ClaimResult.ALREADY_CLAIMED]
    assert await storage.get_deck(GUILD) == F1  # the loser wrote nothing
    assert await storage.claim_daily_posts([claim(tuesday, F1, F2)], MONDAY_9) == [
        ClaimResult.CLAIMED
    ]
    # A date that moved backwards (a time-zone change) cannot be claimed.
    sunday = MONDAY - timedelta(days=1)
    assert await storage.claim_daily_posts([claim(sunday, F2, F3)], MONDAY_9) == [
        ClaimResult.CHANGED
    ]
    assert await storage.last_daily_claim(GUILD) == tuesday
    assert await storage.get_deck(GUILD) == F2


async def test_a_claim_loses_to_daily_off_a_new_channel_or_a_deck_change(
    storage: Storage,
) -> None:
    await enable(storage, next_at=MONDAY_9)
    await storage.disable_daily(GUILD)
    assert await storage.claim_daily_posts([claim(MONDAY, None, F1)], MONDAY_9) == [
        ClaimResult.CHANGED
    ]
    off = await storage.get_settings(GUILD)
    assert (off.daily_enabled, off.daily_next_at) == (False, None)  # stays off
    await enable(storage, channel=556, next_at=MONDAY_9)
    assert await storage.claim_daily_posts([claim(MONDAY, None, F1)], MONDAY_9) == [
        ClaimResult.CHANGED
    ]
    await storage.save_deck(GUILD, None, F1)  # a /daily now
    assert await storage.claim_daily_posts([claim(MONDAY, None, F1, 556)], MONDAY_9) == [
        ClaimResult.CHANGED
    ]
    assert await storage.last_daily_claim(GUILD) is None  # nothing was claimed
    assert await storage.claim_daily_posts([claim(MONDAY, F1, F2, 556)], MONDAY_9) == [
        ClaimResult.CLAIMED
    ]


async def test_a_send_problem_is_kept_on_the_settings_and_the_days_claim(
    storage: Storage, backend: Backend
) -> None:
    await enable(storage, next_at=MONDAY_9)
    await storage.claim_daily_posts([claim(MONDAY, None, F1)], MONDAY_9)
    await storage.set_daily_problem(GUILD, "Discord refused the post.", local_date=MONDAY)
    assert (await storage.get_settings(GUILD)).daily_problem == "Discord refused the post."
    stored = await backend.rows("SELECT local_date, fact_id, problem FROM daily_claims")
    assert [(str(day), fact, problem) for day, fact, problem in stored] == [
        ("2024-05-06", "f1", "Discord refused the post.")
    ]


async def test_the_queue_of_some_shards_holds_only_their_servers(storage: Storage) -> None:
    # Discord's rule: a server belongs to shard (id >> 22) % count.
    guilds = {shard: [((n * 4 + shard) << 22) | 99 for n in (5, 9)] for shard in range(4)}
    for shard, ids in guilds.items():
        for offset, guild in enumerate(ids):
            await enable(storage, guild, next_at=MONDAY_9.replace(hour=shard + 1, minute=offset))
    mine = Shards(4, frozenset({1, 3}))
    due = await storage.due_daily_posts(MONDAY_9, shards=mine)
    assert [d.settings.guild_id for d in due] == guilds[1] + guilds[3]
    assert all(mine.owns(d.settings.guild_id) for d in due)
    assert len(await storage.due_daily_posts(MONDAY_9)) == 8  # no filter: every server
    assert await storage.next_daily_due(Shards(4, frozenset({2}))) == MONDAY_9.replace(hour=3)
    assert await storage.next_daily_due(mine) == MONDAY_9.replace(hour=2)
    await storage.reschedule_daily({g: None for g in guilds[1] + guilds[3]})
    assert await storage.next_daily_due(mine) is None
    assert await storage.due_daily_posts(MONDAY_9, shards=mine) == []


async def test_two_processes_racing_for_one_date_give_one_winner(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    await enable(first, next_at=MONDAY_9)
    deck: Deck | None = None
    for day in range(5):
        when = MONDAY + timedelta(days=day)
        after = Deck(("f1", "f2", "f3", "f4", "f5"), day + 1, f"f{day + 1}")
        results = await asyncio.gather(
            *(
                store.claim_daily_posts([claim(when, deck, after)], MONDAY_9)
                for store in (first, second) * 3
            )
        )
        assert [r[0] for r in results].count(ClaimResult.CLAIMED) == 1, when
        deck = after


# -- quiz answers, activity, leaderboards ---------------------------------------------------------


async def answer(store: Storage, user: int, name: str, section: str, correct: bool, day: int):
    day_ = date(2024, 5, day)
    await store.record_answer(GUILD, user, name, f"q-{section}", section, correct, day_)


async def test_leaderboard_all_time_by_section_and_since(storage: Storage) -> None:
    await answer(storage, USER, "Ann", "mandates", True, 1)
    await answer(storage, USER, "Ann", "mandates", True, 2)
    await answer(storage, USER, "Ann", "logistics", False, 3)
    await answer(storage, OTHER, "Bo", "logistics", True, 3)
    await answer(storage, OTHER, "Bo", "logistics", True, 4)
    await answer(storage, OTHER, "Bo", "mandates", False, 4)
    await storage.record_answer(7, USER, "Ann elsewhere", "q", "mandates", True, date(2024, 5, 1))
    ann, bo = storage.user_hash(USER), storage.user_hash(OTHER)

    assert await storage.leaderboard(GUILD) == [
        ScoreRow("Ann", ann, answered=3, correct=2),
        ScoreRow("Bo", bo, answered=3, correct=2),
    ]
    assert await storage.leaderboard(GUILD, section="logistics") == [
        ScoreRow("Bo", bo, 2, 2),
        ScoreRow("Ann", ann, 1, 0),
    ]
    assert await storage.leaderboard(GUILD, since=date(2024, 5, 3)) == [
        ScoreRow("Bo", bo, 3, 2),
        ScoreRow("Ann", ann, 1, 0),
    ]
    assert await storage.leaderboard(GUILD, limit=1) == [ScoreRow("Ann", ann, 3, 2)]
    assert await storage.leaderboard(999) == []


async def test_leaderboard_shows_the_latest_display_name(storage: Storage) -> None:
    await answer(storage, USER, "Ann", "mandates", True, 1)
    await answer(storage, USER, "Ann <@1> \x1b[31m", "mandates", True, 2)
    [row] = await storage.leaderboard(GUILD)
    assert row.display_name == "Ann <@1> [31m"  # control characters removed
    assert (row.answered, row.correct) == (2, 2)


async def test_progress_per_section(storage: Storage) -> None:
    await answer(storage, USER, "Ann", "mandates", True, 1)
    await answer(storage, USER, "Ann", "mandates", False, 1)
    await answer(storage, USER, "Ann", "logistics", True, 2)
    await answer(storage, OTHER, "Bo", "logistics", True, 2)
    assert await storage.progress(GUILD, USER) == [
        SectionScore("logistics", 1, 1),
        SectionScore("mandates", 2, 1),
    ]
    assert await storage.progress(GUILD, 5) == []


async def test_activity_dates_from_answers_and_activity(storage: Storage) -> None:
    await storage.record_activity(GUILD, USER, "Ann", date(2024, 5, 3))
    await storage.record_activity(GUILD, USER, "Ann", date(2024, 5, 3))  # once per day
    await answer(storage, USER, "Ann", "mandates", True, 1)
    await storage.record_activity(GUILD + 1, USER, "Ann", date(2024, 5, 9))  # another server
    assert await storage.activity_dates(GUILD, USER) == [date(2024, 5, 1), date(2024, 5, 3)]
    assert await storage.activity_dates(GUILD, OTHER) == []


# -- user ids: hashed, never stored; forget-me ----------------------------------------------------


async def test_user_hash_is_salted_per_database(backend: Backend) -> None:
    second = await backend.another()
    async with backend.opened() as one, backend.opened(second) as two:
        assert one.user_hash(USER) == one.user_hash(USER)
        assert one.user_hash(USER) != one.user_hash(OTHER)
        assert one.user_hash(USER) != two.user_hash(USER)
        assert len(one.user_hash(USER)) == 32 and int(one.user_hash(USER), 16) >= 0
    async with backend.opened() as again:
        assert again.user_hash(USER) == one.user_hash(USER)  # the salt is kept in the database


async def fill_with_user_data(store: Storage) -> None:
    for i in range(20):
        store.log(record(f"query {i}"))
    store.log(record("by someone else", user_id=OTHER))
    await store.record_answer(GUILD, USER, "Ann", "q1", "mandates", True, date(2024, 5, 1))
    await store.record_activity(GUILD, USER, "Ann", date(2024, 5, 2))
    await store.record_answer(GUILD, OTHER, "Bo", "q1", "mandates", False, date(2024, 5, 1))
    assert await store.flush()


async def test_no_raw_user_id_is_stored_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "scan.sqlite3"
    async with opened(path) as store:
        await check_no_raw_id(store, path, tmp_path)


async def test_no_raw_user_id_is_stored_in_any_postgresql_column(postgres: Backend) -> None:
    backend = postgres
    async with backend.opened() as store:
        await fill_with_user_data(store)
    columns = await backend.rows(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    tables = {table for table, _ in columns}
    assert {"query_log", "members", "quiz_answers", "activity"} <= tables
    for table, column in columns:
        hits = await backend.rows(
            f"SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE ?", f"%{USER}%"
        )
        assert hits == [(0,)], f"{table}.{column} holds the raw user id"


async def check_no_raw_id(store: Storage, path: Path, tmp_path: Path) -> None:
    await fill_with_user_data(store)
    tables = [name for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type='table'")]
    assert {"query_log", "members", "quiz_answers", "activity"} <= set(tables)
    for table in tables:
        for column in [c[1] for c in rows(path, f"PRAGMA table_info({table})")]:
            hits = rows(
                path,
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ? OR CAST({column} AS TEXT) LIKE ?",
                (USER, f"%{USER}%"),
            )
            assert hits == [(0,)], f"{table}.{column} holds the raw user id"
    # And not in the bytes either (database and WAL, before and after the checkpoint at close):
    # not as text, nor as SQLite's big-endian integer.
    for raw in (files_bytes(tmp_path), await close_then(store, files_bytes, tmp_path)):
        assert str(USER).encode() not in raw
        assert struct.pack(">q", USER) not in raw


def files_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.iterdir()))


async def close_then(store: Storage, function, *args):
    await store.close()
    return function(*args)


async def test_forget_user_removes_everything_keyed_by_their_hash(backend: Backend) -> None:
    async with backend.opened(log_interval=3600) as store:
        await check_forget_user(store, backend)


async def check_forget_user(store: Storage, backend: Backend) -> None:
    await fill_with_user_data(store)
    for i in range(5):  # still queued in memory when they ask
        store.log(record(f"queued {i}"))
    user = store.user_hash(USER)

    assert await store.forget_user(USER) == 20 + 5 + 1 + 2 + 1  # log, queued, answer, days, name
    assert await store.flush()
    for table in ("query_log", "members", "quiz_answers", "activity"):
        found = await backend.rows(f"SELECT COUNT(*) FROM {table} WHERE user_hash = ?", user)
        assert found == [(0,)]
    # Other people keep their rows.
    assert (await store.stats()).total == 1
    assert [r.display_name for r in await store.leaderboard(GUILD)] == ["Bo"]
    assert await store.forget_user(USER) == 0


# -- statistics -----------------------------------------------------------------------------------

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


async def log_known_set(store: Storage) -> None:
    known = [
        # query, command, matched, outcome, ms, days ago, guild, failed
        ("UN Charter", "define", "un-charter", "exact", 1.0, 1, GUILD, False),
        ("un charter", "define", "un-charter", "exact", 2.0, 2, GUILD, False),
        ("chapter vii", "section", "chapter-vii", "alias", 3.0, 3, GUILD, False),
        ("blue helmets", "define", None, "none", 4.0, 4, GUILD, False),
        ("blue helmets", "search", None, "none", 5.0, 20, GUILD, False),
        ("rules of engagment", "define", "roe", "fuzzy", 6.0, 20, 99, False),
        ("sofa", "define", None, "none", 7.0, 30, 99, False),
        ("crash", "define", None, "error", 8.0, 30, 99, True),
    ]
    for query, command, matched, outcome, ms, days, guild, failed in known:
        store.log(
            record(
                query,
                command=command,
                matched_id=matched,
                outcome=outcome,
                duration_ms=ms,
                at=at(days),
                guild_id=guild,
                failed=failed,
            )
        )
    assert await store.flush()


async def test_stats_on_a_known_data_set(storage: Storage) -> None:
    await log_known_set(storage)
    stats = await storage.stats()
    assert stats.total == 8
    assert stats.failed == 1
    assert stats.top_queries[:2] == (Count("blue helmets", 2), Count("un charter", 2))
    assert len(stats.top_queries) == 6
    assert stats.top_entries == (
        Count("un-charter", 2),
        Count("chapter-vii", 1),
        Count("roe", 1),
    )
    assert stats.no_match_queries == (Count("blue helmets", 2), Count("sofa", 1))
    assert stats.per_command == (Count("define", 6), Count("search", 1), Count("section", 1))
    assert stats.median_ms == 4.5  # even count: mean of 4 and 5


async def test_stats_since_a_time_and_for_one_server(storage: Storage) -> None:
    await log_known_set(storage)
    recent = await storage.stats(since=at(5))
    assert recent.total == 4
    assert recent.median_ms == 2.5
    assert recent.no_match_queries == (Count("blue helmets", 1),)
    server = await storage.stats(guild_id=99)
    assert (server.total, server.failed, server.median_ms) == (3, 1, 7.0)  # odd count
    both = await storage.stats(since=at(25), guild_id=99)
    assert both.total == 1 and both.top_entries == (Count("roe", 1),)
    empty = await storage.stats(guild_id=12345)
    assert (empty.total, empty.median_ms, empty.top_queries) == (0, None, ())


async def test_stats_to_dict_is_json_ready(storage: Storage) -> None:
    await log_known_set(storage)
    data = json.loads(json.dumps((await storage.stats(since=at(5), limit=1)).to_dict()))
    assert data["since"] == at(5).isoformat()
    assert data["top_queries"] == [{"name": "un charter", "count": 2}]


# -- prune and export -----------------------------------------------------------------------------


async def test_prune_deletes_only_older_rows(storage: Storage) -> None:
    await log_known_set(storage)
    assert await storage.prune(at(10)) == 4
    assert (await storage.stats()).total == 4
    assert await storage.prune(at(10)) == 0


async def test_prune_many_rows_in_chunks(storage: Storage) -> None:
    for i in range(12_345):
        storage.log(record(f"old {i}", at=at(100)))
    storage.log(record("new", at=at(1)))
    assert await storage.flush()
    assert await storage.prune(at(90)) == 12_345
    assert [r.query async for r in storage.iter_queries()] == ["new"]


async def test_iter_queries_oldest_first_with_filters(storage: Storage) -> None:
    for i in range(2500):  # more than one page
        storage.log(record(f"q{i}", at=at(3), guild_id=GUILD if i % 2 else 99))
    assert await storage.flush()
    every = [row async for row in storage.iter_queries()]
    assert [row.query for row in every] == [f"q{i}" for i in range(2500)]
    first = every[0]
    assert first.user_hash == storage.user_hash(USER)
    assert first.at == at(3).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert (first.failed, first.score, first.outcome) == (False, 100.0, "exact")
    mine = [row async for row in storage.iter_queries(guild_id=GUILD)]
    assert len(mine) == 1250
    assert [row async for row in storage.iter_queries(since=at(1))] == []


# -- the synced command tree ----------------------------------------------------------------------


async def test_one_of_several_claimers_syncs_a_command_tree(backend: Backend) -> None:
    stores = [await backend.open() for _ in range(3)]
    claims = await asyncio.gather(*(s.claim_command_sync("global", "tree-1") for s in stores * 2))
    assert [c.claimed for c in claims].count(True) == 1
    again = await stores[0].claim_command_sync("global", "tree-1")
    assert again == SyncClaim(claimed=False, previous="tree-1")  # synced: nothing to do
    assert (await stores[1].claim_command_sync("guild:7", "tree-1")).claimed  # another scope
    changed = await stores[1].claim_command_sync("global", "tree-2")
    assert changed == SyncClaim(claimed=True, previous="tree-1")
    # That sync failed: the old digest is back, so the next start tries again.
    await stores[1].undo_command_sync("global", "tree-2", changed.previous)
    assert (await stores[2].claim_command_sync("global", "tree-2")).claimed


# -- events ---------------------------------------------------------------------------------------


async def until_true(condition, what: str) -> None:
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"never happened: {what}")


async def test_events_reach_this_process_and_on_postgresql_every_process(
    backend: Backend,
) -> None:
    one, two = await backend.open(), await backend.open()
    heard_one: list[dict] = []
    heard_two: list[dict] = []
    one.subscribe(heard_one.append)
    two.subscribe(heard_two.append)
    assert await one.listening(10) and await two.listening(10)
    await one.publish("reload", request="r1")
    await until_true(lambda: heard_one, "the sender hears its own event")
    assert heard_one == [{"kind": "reload", "request": "r1"}]
    if backend.name == "postgres":
        assert one.multiprocess
        await until_true(lambda: heard_two, "the other process hears it")
        assert heard_two == [{"kind": "reload", "request": "r1"}]
    else:
        assert not one.multiprocess and heard_two == []  # SQLite: this process only


async def test_changing_a_schedule_is_announced(storage: Storage) -> None:
    heard: list[dict] = []
    storage.subscribe(heard.append)
    assert await storage.listening(10)
    await enable(storage, next_at=MONDAY_9)
    await until_true(lambda: heard, "the announcement")
    assert heard == [{"kind": "daily", "guild": GUILD}]


async def test_postgresql_connections_that_the_server_drops_come_back(postgres: Backend) -> None:
    """The query log's connection and the listener both reconnect after the server ends them
    (a restart, a failover); events resume and no logged row is lost."""
    store = await postgres.open(log_interval=0.01, log_backoff_max=0.05)
    heard: list[dict] = []
    store.subscribe(heard.append)
    assert await store.listening(10)
    store.log(record("before"))
    assert await store.flush()
    ended = await postgres.rows(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'peacebot' AND pid <> pg_backend_pid()"
    )
    assert ended
    store.log(record("after"))
    assert await store.flush(max_wait=30)
    await until_true(lambda: {"kind": "listener-reconnected"} in heard, "the listener is back")
    await store.publish("reload", request="r2")
    await until_true(lambda: {"kind": "reload", "request": "r2"} in heard, "events again")
    assert [row.query async for row in store.iter_queries()] == ["before", "after"]
