"""`peacebot migrate-db`: a SQLite database moved into PostgreSQL, every table, counts checked,
the salt carried over so user hashes stay valid."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.deck import Deck
from bot.storage import DailyClaim, StorageError, copy_sqlite_to_postgres
from bot.storage._transfer import TABLES
from tests.processes import clean_env, run_peacebot
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, OTHER, USER, opened, record

MONDAY_9 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


async def fill(path: Path) -> None:
    async with opened(path) as store:
        await store.enable_daily(
            GUILD, channel_id=5, daily_time="09:00", timezone="Europe/Oslo", discussion=True,
            next_at=MONDAY_9,
        )  # fmt: skip
        deck = Deck(("f1", "f2"), 1, "f1")
        claim = DailyClaim(
            GUILD, MONDAY_9.date(), 5, "f1", None, deck, date(2024, 5, 7), MONDAY_9 + timedelta(1)
        )
        await store.claim_daily_posts([claim], MONDAY_9)
        await store.set_daily_problem(GUILD, "a problem", local_date=MONDAY_9.date())
        for day in range(1, 4):
            await store.record_answer(GUILD, USER, "Ann", "q", "law", day != 2, date(2024, 5, day))
        await store.record_answer(GUILD, OTHER, "Bo", "q", "law", True, date(2024, 5, 1))
        await store.record_activity(GUILD, USER, "Ann", date(2024, 5, 9))
        for i in range(2500):
            store.log(record(f"q{i % 40}", at=MONDAY_9 - timedelta(minutes=i)))
        assert await store.flush()


def test_every_table_of_the_schema_is_copied() -> None:
    from bot.storage._migrations_pg import V1_BASE_TABLES, V3_INDEXED_STATE

    created = {
        line.split()[5]
        for script in (V1_BASE_TABLES, V3_INDEXED_STATE)
        for line in script.splitlines()
        if line.startswith("CREATE TABLE IF NOT EXISTS")
    }
    assert created == {table.name for table in TABLES}


async def test_a_sqlite_database_moves_into_postgresql_whole(
    postgres: Backend, tmp_path: Path
) -> None:
    source = tmp_path / "old.sqlite3"
    await fill(source)
    copied = await copy_sqlite_to_postgres(str(source), postgres.location)
    counts = {c.table: c.target for c in copied}
    assert all(c.matches for c in copied)
    assert counts["query_log"] == 2500 and counts["quiz_answers"] == 4
    assert counts["members"] == 2 and counts["activity"] == 5 and counts["daily_claims"] == 1
    async with opened(source) as old, postgres.opened() as new:
        assert new.user_hash(USER) == old.user_hash(USER)  # the salt came along
        assert await new.get_settings(GUILD) == await old.get_settings(GUILD)
        assert await new.get_deck(GUILD) == await old.get_deck(GUILD)
        assert await new.last_daily_claim(GUILD) == MONDAY_9.date()
        assert await new.leaderboard(GUILD) == await old.leaderboard(GUILD)
        assert await new.progress(GUILD, USER) == await old.progress(GUILD, USER)
        assert await new.activity_dates(GUILD, USER) == await old.activity_dates(GUILD, USER)
        assert await new.stats() == await old.stats()
        # New rows continue after the copied ids, in order.
        new.log(record("after the move", at=MONDAY_9 + timedelta(minutes=1)))
        await new.record_answer(GUILD, USER, "Ann", "q", "law", True, date(2024, 5, 9))
        assert await new.flush()
        rows = [row.query async for row in new.iter_queries()]
        assert len(rows) == 2501 and rows[-1] == "after the move"
    with pytest.raises(StorageError, match="already holds data"):
        await copy_sqlite_to_postgres(str(source), postgres.location)


async def test_migrate_db_on_the_command_line(postgres: Backend, tmp_path: Path) -> None:
    source = tmp_path / "bot.sqlite3"
    await fill(source)
    result = run_peacebot(
        "migrate-db", "--from", f"sqlite:{source}", "--to", postgres.location, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "query_log" in result.stdout and "2500 rows (SQLite: 2500)" in result.stdout
    assert "every table's count matches" in result.stdout
    again = run_peacebot("migrate-db", "--from", f"sqlite:{source}", cwd=tmp_path,
                         env=clean_env(DATABASE_URL=postgres.location))  # fmt: skip
    assert again.returncode == 1 and "already holds data" in again.stderr
    missing = run_peacebot("migrate-db", "--from", "sqlite:nope.sqlite3", "--to",
                           postgres.location, cwd=tmp_path)  # fmt: skip
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
