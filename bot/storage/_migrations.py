"""Numbered schema migrations for both engines, applied in order at start-up.

`STEPS` is the one list: step N has a SQLite form (below) and a PostgreSQL form (SQL in
`_migrations_pg`), so a schema version means the same tables, columns and indexes on either
engine (a test compares them). Each step runs in its own transaction together with the version
bump, so a crash leaves the database at the previous version:
- SQLite: `BEGIN IMMEDIATE` (the write lock) and `PRAGMA user_version`;
- PostgreSQL: `pg_advisory_xact_lock` (a lock that ends with the transaction: an asyncpg pool
  drops session locks when a connection goes back) and the table `schema_migrations`.
Two processes starting together therefore never apply a step twice. SQLite steps are also
harmless if run twice. Never edit a shipped step: add a new one, in both forms.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage import _migrations_pg as pg
from bot.storage._models import StorageError

Step = Callable[[aiosqlite.Connection], Awaitable[None]]


async def _run_script(conn: aiosqlite.Connection, script: str) -> None:
    # Not executescript(): in Python 3.11 it commits the open transaction first.
    for statement in script.split(";"):
        if statement.strip():
            await conn.execute(statement)


async def _v1_base_tables(conn: aiosqlite.Connection) -> None:
    await _run_script(
        conn,
        """
        CREATE TABLE IF NOT EXISTS meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS query_log (
            id          INTEGER PRIMARY KEY,
            at          TEXT NOT NULL,            -- ISO 8601 UTC, e.g. 2024-05-01T12:00:00.000Z
            guild_id    INTEGER,
            channel_id  INTEGER,
            user_hash   TEXT,                     -- salted HMAC of the user id, never the id
            command     TEXT NOT NULL,
            query       TEXT NOT NULL,
            matched_id  TEXT,
            outcome     TEXT NOT NULL,
            score       REAL,
            failed      INTEGER NOT NULL DEFAULT 0,
            duration_ms REAL
        );
        CREATE TABLE IF NOT EXISTS guild_settings (
            guild_id         INTEGER PRIMARY KEY,
            daily_channel_id INTEGER,
            daily_time       TEXT NOT NULL DEFAULT '09:00',
            timezone         TEXT NOT NULL DEFAULT 'UTC',
            daily_enabled    INTEGER NOT NULL DEFAULT 0,
            daily_discussion INTEGER NOT NULL DEFAULT 0,
            prefix           TEXT
        );
        CREATE TABLE IF NOT EXISTS fact_deck (
            guild_id       INTEGER PRIMARY KEY,
            fact_order     TEXT NOT NULL,         -- JSON array of fact ids
            position       INTEGER NOT NULL,
            last_posted_on TEXT,                  -- local date of the last daily post
            last_fact_id   TEXT
        );
        CREATE TABLE IF NOT EXISTS members (
            guild_id     INTEGER NOT NULL,
            user_hash    TEXT NOT NULL,
            display_name TEXT NOT NULL,
            PRIMARY KEY (guild_id, user_hash)
        );
        CREATE TABLE IF NOT EXISTS quiz_answers (
            id          INTEGER PRIMARY KEY,
            guild_id    INTEGER NOT NULL,
            user_hash   TEXT NOT NULL,
            question_id TEXT NOT NULL,
            section_id  TEXT NOT NULL,
            correct     INTEGER NOT NULL,
            answered_on TEXT NOT NULL,            -- the server's local date
            FOREIGN KEY (guild_id, user_hash)
                REFERENCES members (guild_id, user_hash) ON DELETE CASCADE
        );
        CREATE INDEX IF NOT EXISTS quiz_answers_member ON quiz_answers (guild_id, user_hash);
        CREATE TABLE IF NOT EXISTS activity (
            guild_id  INTEGER NOT NULL,
            user_hash TEXT NOT NULL,
            active_on TEXT NOT NULL,
            PRIMARY KEY (guild_id, user_hash, active_on),
            FOREIGN KEY (guild_id, user_hash)
                REFERENCES members (guild_id, user_hash) ON DELETE CASCADE
        ) WITHOUT ROWID;
        """,
    )
    # The salt is made once per database, so hashes differ between deployments.
    await conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (secrets.token_hex(32),)
    )


async def _v2_indexes_and_daily_problem(conn: aiosqlite.Connection) -> None:
    # No index on query_log.user_hash: hashes arrive in random order, and such an index made
    # every logged row several times dearer to write (see benchmarks/bench_querylog.py).
    # Only forget_user() looks rows up by it, and a table scan is fine for that rare call.
    columns = {row[1] async for row in await conn.execute("PRAGMA table_info(guild_settings)")}
    if "daily_problem" not in columns:
        await conn.execute("ALTER TABLE guild_settings ADD COLUMN daily_problem TEXT")
    await _run_script(
        conn,
        """
        CREATE INDEX IF NOT EXISTS query_log_at ON query_log (at);
        CREATE INDEX IF NOT EXISTS members_user ON members (user_hash);
        CREATE INDEX IF NOT EXISTS quiz_answers_user ON quiz_answers (user_hash);
        CREATE INDEX IF NOT EXISTS activity_user ON activity (user_hash);
        CREATE INDEX IF NOT EXISTS quiz_answers_guild_day ON quiz_answers (guild_id, answered_on);
        """,
    )


async def _columns(conn: aiosqlite.Connection, table: str) -> set[str]:
    return {row[1] async for row in await conn.execute(f"PRAGMA table_info({table})")}


# Due at once: the scheduler works out each server's real next time at its first pass.
DUE_NOW = "1970-01-01T00:00:00.000Z"


async def _v3_indexed_state(conn: aiosqlite.Connection) -> None:
    """Per-server indexes, the daily-post queue (next due time in an indexed column) and claim
    rows keyed by server and local date."""
    settings = await _columns(conn, "guild_settings")
    for column in ("daily_next_at", "daily_next_on"):
        if column not in settings:
            await conn.execute(f"ALTER TABLE guild_settings ADD COLUMN {column} TEXT")
    await _run_script(
        conn,
        """
        CREATE INDEX IF NOT EXISTS query_log_guild_at ON query_log (guild_id, at);
        CREATE INDEX IF NOT EXISTS quiz_answers_board
            ON quiz_answers (guild_id, user_hash, section_id, answered_on, correct);
        DROP INDEX IF EXISTS quiz_answers_member;
        DROP INDEX IF EXISTS quiz_answers_guild_day;
        CREATE INDEX IF NOT EXISTS guild_settings_daily_due
            ON guild_settings (daily_next_at) WHERE daily_next_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS daily_claims (
            guild_id   INTEGER NOT NULL,
            local_date TEXT NOT NULL,             -- the server's local date of the post
            fact_id    TEXT NOT NULL,
            claimed_at TEXT NOT NULL,             -- UTC, when the claim was made (before sending)
            problem    TEXT,                      -- why the send failed, if it did
            PRIMARY KEY (guild_id, local_date)
        ) WITHOUT ROWID;
        """,
    )
    if "last_posted_on" in await _columns(conn, "fact_deck"):
        # The last posted date moves from the deck to the queue (next date) and a claim row.
        await _run_script(
            conn,
            """
            UPDATE guild_settings SET daily_next_on = (
                SELECT date(d.last_posted_on, '+1 day') FROM fact_deck AS d
                WHERE d.guild_id = guild_settings.guild_id AND d.last_posted_on IS NOT NULL
            ) WHERE daily_next_on IS NULL;
            INSERT OR IGNORE INTO daily_claims (guild_id, local_date, fact_id, claimed_at)
                SELECT guild_id, last_posted_on, COALESCE(last_fact_id, ''), last_posted_on
                FROM fact_deck WHERE last_posted_on IS NOT NULL;
            ALTER TABLE fact_deck DROP COLUMN last_posted_on
            """,
        )
    await conn.execute(
        "UPDATE guild_settings SET daily_next_at = ? WHERE daily_enabled = 1 "
        "AND daily_channel_id IS NOT NULL AND daily_next_at IS NULL",
        (DUE_NOW,),
    )


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sqlite: Step
    postgres: str  # one SQL script, run in the step's transaction


STEPS: tuple[Migration, ...] = (
    Migration("base tables", _v1_base_tables, pg.V1_BASE_TABLES),
    Migration("indexes and the daily problem", _v2_indexes_and_daily_problem, pg.V2_INDEXES),
    Migration("indexed state: the daily queue and claims", _v3_indexed_state, pg.V3_INDEXED_STATE),
)
MIGRATIONS: tuple[Step, ...] = tuple(step.sqlite for step in STEPS)
LATEST = len(STEPS)


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _too_new(version: int) -> StorageError:
    return StorageError(
        f"the database is at schema version {version}, newer than this peacebot "
        f"understands ({LATEST}); upgrade peacebot"
    )


async def migrate(conn: aiosqlite.Connection, target: int = LATEST) -> int:
    """Bring the schema up to `target` (tests build older versions with it); return the version."""
    version = await schema_version(conn)
    if version > LATEST:
        raise _too_new(version)
    while version < target:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            version = await schema_version(conn)  # another process may have got here first
            if version < target:
                await MIGRATIONS[version](conn)
                version += 1
                await conn.execute(f"PRAGMA user_version = {version:d}")
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
    return version


# -- PostgreSQL ------------------------------------------------------------------------------------

PG_LOCK = 0x70656163_65626F74  # "peacebot": the advisory lock key of migrations


async def pg_schema_version(conn: Any) -> int:
    """The PostgreSQL schema version (0: a new database), read without taking the lock."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def migrate_pg(conn: Any, target: int = LATEST) -> int:
    """`migrate` for an asyncpg connection: each step in a transaction that first takes the
    migration lock, so a second process waits and then finds the step done."""
    while True:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", PG_LOCK)
            await conn.execute(pg.VERSIONS_TABLE)
            version = await pg_schema_version(conn)
            if version > LATEST:
                raise _too_new(version)
            if version >= target:
                return version
            step = STEPS[version]
            await conn.execute(step.postgres)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                version + 1,
                step.name,
            )
