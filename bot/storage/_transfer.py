"""Moving a SQLite database into PostgreSQL (`peacebot migrate-db`): every table, counts checked.

Both databases are first brought to the current schema (by opening them). The target must
hold no data yet. Everything is copied in one PostgreSQL transaction, with COPY, table by
table in an order that satisfies the foreign keys; the salt comes along (so the user hashes
stay valid), and so do the row ids. Before committing, each table's row count in PostgreSQL is
compared with SQLite's; any difference rolls the whole copy back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.config import is_postgres_url
from bot.storage import _postgres
from bot.storage._connection import connect as sqlite_connect
from bot.storage._models import StorageError
from bot.storage._querylog import parse_at

PAGE = 10_000


def _moment(text: str | None) -> datetime | None:
    return parse_at(text) if text else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    convert: dict[str, Callable[[Any], Any]]
    identity: bool = False  # an `id` column whose sequence must continue after the copy

    def converters(self) -> list[Callable[[Any], Any]]:
        return [self.convert.get(column, _same) for column in self.columns]


# Parents before children (members before answers and activity).
TABLES: tuple[Table, ...] = (
    Table("meta", ("key", "value"), {}),
    Table(
        "guild_settings",
        (
            "guild_id", "daily_channel_id", "daily_time", "timezone", "daily_enabled",
            "daily_discussion", "prefix", "daily_problem", "daily_next_at", "daily_next_on",
            "report_channel_id",
        ),
        {
            "daily_enabled": _flag,
            "daily_discussion": _flag,
            "daily_next_at": _moment,
            "daily_next_on": _day,
        },
    ),
    Table("fact_deck", ("guild_id", "fact_order", "position", "last_fact_id"), {}),
    Table(
        "daily_claims",
        ("guild_id", "local_date", "fact_id", "claimed_at", "problem"),
        {"local_date": _day, "claimed_at": _moment},
    ),
    Table("members", ("guild_id", "user_hash", "display_name"), {}),
    Table(
        "quiz_answers",
        ("id", "guild_id", "user_hash", "question_id", "section_id", "correct", "answered_on"),
        {"correct": _flag, "answered_on": _day},
        identity=True,
    ),
    Table("activity", ("guild_id", "user_hash", "active_on"), {"active_on": _day}),
    Table("member_totals", ("guild_id", "user_hash", "answered", "correct"), {}),
    Table(
        "query_log",
        (
            "id", "at", "guild_id", "channel_id", "user_hash", "command", "query", "matched_id",
            "outcome", "score", "failed", "duration_ms",
        ),
        {"at": _moment, "failed": _flag},
        identity=True,
    ),
    Table(
        "review_cards",
        ("user_hash", "card_id", "due", "phase", "fsrs", "reviews", "lapses", "first_reviewed"),
        {"due": _moment, "first_reviewed": _moment},
    ),
    Table(
        "review_log",
        (
            "id", "user_hash", "card_id", "rating", "reviewed_at", "reviewed_on", "phase_before",
            "interval_days", "duration_ms",
        ),
        {"reviewed_at": _moment, "reviewed_on": _day},
        identity=True,
    ),
    Table(
        "review_settings",
        (
            "user_hash", "new_per_day", "timezone", "remind", "remind_time", "dm_user_id",
            "last_reminded_on", "next_reminder_at", "reminder_notice",
        ),
        {"remind": _flag, "last_reminded_on": _day, "next_reminder_at": _moment},
    ),
    Table(
        "review_reminders",
        ("user_hash", "local_date", "claimed_at"),
        {"local_date": _day, "claimed_at": _moment},
    ),
    Table(
        "exam_results",
        (
            "id", "user_hash", "section", "started_at", "finished_at", "asked", "correct",
            "timed_out", "by_section",
        ),
        {"started_at": _moment, "finished_at": _moment, "timed_out": _flag},
        identity=True,
    ),
    Table(
        "mistake_reports",
        (
            "id", "entry_id", "content_version", "what", "source", "user_hash", "at",
            "reported_on", "guild_id",
        ),
        {"at": _moment, "reported_on": _day},
        identity=True,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


async def copy_sqlite_to_postgres(
    source: str, target: str, progress: Callable[[str], None] = lambda _line: None
) -> list[Copied]:
    """Copy every table of the SQLite file `source` into the PostgreSQL `target` URL; return
    the counts per table. Raises `StorageError` (nothing copied) when the target holds data,
    a count differs, or either database fails."""
    from bot.storage._store import Storage  # both at the current schema, migrated if needed

    for location in (source, target):
        await (await Storage.open(location)).close()
    lite = await sqlite_connect(source, busy_timeout_ms=5000, reader=True)
    pg = await _postgres.connect(target, 5000, lock_timeout="60000ms")
    try:
        async with pg.transaction():
            await _check_empty(pg)
            await pg.execute("DELETE FROM meta")  # the target's own salt gives way
            results = []
            for table in TABLES:
                results.append(await _copy(lite, pg, table))
                progress(f"{table.name}: {results[-1].target} rows")
            wrong = [r for r in results if not r.matches]
            if wrong:
                raise StorageError(
                    "counts differ, nothing was copied: "
                    + ", ".join(f"{r.table} {r.source} in SQLite, {r.target} copied" for r in wrong)
                )
        return results
    except _postgres.DATABASE_ERRORS as exc:
        raise StorageError(f"copying into {_postgres.display_url(target)} failed: {exc}") from exc
    finally:
        await lite.close()
        await pg.close()


async def _check_empty(pg: Any) -> None:
    """Table names come from TABLES, never from input."""
    for table in TABLES:
        if table.name == "meta":
            continue
        holds = await pg.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table.name})")  # noqa: S608
        if holds:
            raise StorageError(
                f"the target already holds data (table {table.name}); migrate-db copies into "
                "an empty database only"
            )


async def _copy(lite: Any, pg: Any, table: Table) -> Copied:
    converters = table.converters()
    count_sql = f"SELECT COUNT(*) FROM {table.name}"  # noqa: S608
    source_count = (await lite.execute_fetchall(count_sql))[0][0]
    order = " ORDER BY id" if table.identity else ""
    sql = f"SELECT {', '.join(table.columns)} FROM {table.name}{order}"  # noqa: S608
    async with lite.execute(sql) as cursor:
        while rows := await cursor.fetchmany(PAGE):
            records = [tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in rows]
            await pg.copy_records_to_table(table.name, records=records, columns=table.columns)
    if table.identity:  # new rows continue after the copied ids
        await pg.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
        )
    target_count = await pg.fetchval(f"SELECT COUNT(*) FROM {table.name}")  # noqa: S608
    return Copied(table.name, source_count, target_count)


def parse_source(text: str) -> str:
    """`sqlite:PATH` (or a plain path) as the path."""
    path = text.removeprefix("sqlite:")
    if not path or is_postgres_url(path):
        raise StorageError(f"--from must be sqlite:PATH, got {text!r}")
    return path
