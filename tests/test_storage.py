"""Storage: settings, fact decks, quiz scores, forgetting a user, statistics, prune, export."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import (
    Count,
    DeckState,
    GuildSettings,
    ScoreRow,
    SectionScore,
    Storage,
    StorageError,
)
from tests.storage_helpers import GUILD, OTHER, USER, opened, record


@pytest.fixture
async def storage(tmp_path: Path):
    store = await Storage.open(tmp_path / "peacebot.sqlite3", log_interval=0.01)
    yield store
    await store.close()


def rows(path: Path | str, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


# -- opening --------------------------------------------------------------------------------------


async def test_open_sets_wal_busy_timeout_and_foreign_keys(storage: Storage) -> None:
    conn = storage._conn
    for pragma, expected in (("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 5000)):
        async with conn.execute(f"PRAGMA {pragma}") as cursor:
            assert (await cursor.fetchone())[0] == expected, pragma


async def test_memory_database_works_end_to_end() -> None:
    async with opened(":memory:") as store:
        store.log(record())
        assert await store.flush()
        await store.save_settings(GuildSettings(GUILD, daily_enabled=True))
        assert (await store.stats()).total == 1
        assert [s.guild_id for s in await store.daily_guilds()] == [GUILD]


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


async def test_settings_default_when_nothing_saved(storage: Storage) -> None:
    assert await storage.get_settings(GUILD) == GuildSettings(guild_id=GUILD)


async def test_settings_round_trip_and_update(storage: Storage) -> None:
    settings = GuildSettings(
        guild_id=GUILD,
        daily_channel_id=555,
        daily_time="18:30",
        timezone="Europe/Oslo",
        daily_enabled=True,
        daily_discussion=True,
        prefix="?",
        daily_problem="missing permission: Send Messages",
    )
    await storage.save_settings(settings)
    assert await storage.get_settings(GUILD) == settings
    changed = GuildSettings(guild_id=GUILD, daily_channel_id=556, prefix=None)
    await storage.save_settings(changed)
    assert await storage.get_settings(GUILD) == changed


async def test_daily_guilds_lists_only_enabled_servers(storage: Storage) -> None:
    await storage.save_settings(GuildSettings(1, daily_channel_id=10, daily_enabled=True))
    await storage.save_settings(GuildSettings(2, daily_channel_id=20, daily_enabled=False))
    await storage.save_settings(GuildSettings(3, daily_channel_id=30, daily_enabled=True))
    assert [s.guild_id for s in await storage.daily_guilds()] == [1, 3]


# -- the fact deck --------------------------------------------------------------------------------


def deck(position: int, last: str | None = None) -> DeckState:
    return DeckState(GUILD, ("f1", "f2", "f3"), position, None, last)


async def test_deck_is_none_until_saved_then_round_trips(storage: Storage) -> None:
    assert await storage.get_deck(GUILD) is None
    await storage.save_deck(deck(1, "f1"))
    assert await storage.get_deck(GUILD) == deck(1, "f1")


async def test_claim_daily_post_only_once_per_date(storage: Storage) -> None:
    monday, tuesday = date(2024, 5, 6), date(2024, 5, 7)
    assert await storage.claim_daily_post(GUILD, monday, deck(1, "f1"))
    assert not await storage.claim_daily_post(GUILD, monday, deck(2, "f2"))
    saved = await storage.get_deck(GUILD)
    assert saved == DeckState(GUILD, ("f1", "f2", "f3"), 1, monday, "f1")  # loser wrote nothing
    assert await storage.claim_daily_post(GUILD, tuesday, deck(2, "f2"))
    # A date that moved backwards (time-zone change) counts as already posted.
    assert not await storage.claim_daily_post(GUILD, monday, deck(3, "f3"))
    assert (await storage.get_deck(GUILD)).last_posted_on == tuesday


async def test_save_deck_does_not_touch_last_posted_on(storage: Storage) -> None:
    monday = date(2024, 5, 6)
    assert await storage.claim_daily_post(GUILD, monday, deck(1, "f1"))
    await storage.save_deck(deck(2, "f2"))  # a /daily now
    assert await storage.get_deck(GUILD) == DeckState(GUILD, ("f1", "f2", "f3"), 2, monday, "f2")
    assert not await storage.claim_daily_post(GUILD, monday, deck(3, "f3"))


async def test_save_deck_first_does_not_block_todays_post(storage: Storage) -> None:
    await storage.save_deck(DeckState(GUILD, ("f1",), 1, date(2024, 5, 6), "f1"))
    assert (await storage.get_deck(GUILD)).last_posted_on is None
    assert await storage.claim_daily_post(GUILD, date(2024, 5, 6), deck(1, "f1"))


async def test_two_connections_racing_for_one_date_give_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite3"
    first, second = await Storage.open(path), await Storage.open(path)
    try:
        for day in range(1, 6):
            when = date(2024, 6, day)
            wins = await asyncio.gather(
                *(store.claim_daily_post(GUILD, when, deck(day)) for store in (first, second) * 3)
            )
            assert wins.count(True) == 1, when
    finally:
        await first.close()
        await second.close()


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


async def test_user_hash_is_salted_per_database(tmp_path: Path) -> None:
    async with opened(tmp_path / "one.sqlite3") as one, opened(tmp_path / "two.sqlite3") as two:
        assert one.user_hash(USER) == one.user_hash(USER)
        assert one.user_hash(USER) != one.user_hash(OTHER)
        assert one.user_hash(USER) != two.user_hash(USER)
        assert len(one.user_hash(USER)) == 32 and int(one.user_hash(USER), 16) >= 0
    async with opened(tmp_path / "one.sqlite3") as again:
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


async def test_forget_user_removes_everything_keyed_by_their_hash(tmp_path: Path) -> None:
    path = tmp_path / "forget.sqlite3"
    async with opened(path, log_interval=3600) as store:
        await check_forget_user(store, path)


async def check_forget_user(store: Storage, path: Path) -> None:
    await fill_with_user_data(store)
    for i in range(5):  # still queued in memory when they ask
        store.log(record(f"queued {i}"))
    user = store.user_hash(USER)

    assert await store.forget_user(USER) == 20 + 5 + 1 + 2 + 1  # log, queued, answer, days, name
    assert await store.flush()
    for table in ("query_log", "members", "quiz_answers", "activity"):
        assert rows(path, f"SELECT COUNT(*) FROM {table} WHERE user_hash = ?", (user,)) == [(0,)]
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
