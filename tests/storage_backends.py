"""The storage tests run against both engines: `backend` (a fixture in tests/conftest.py) is a
fresh SQLite file or a fresh PostgreSQL schema, with the same helpers for both.

PostgreSQL comes from `PEACEBOT_TEST_DATABASE_URL` (`.ci/run` starts a throwaway server and sets
it). Without it the PostgreSQL cases are skipped, visibly (`-ra` lists them); with
`PEACEBOT_TEST_REQUIRE_POSTGRES=1`, which CI sets, a missing URL fails them instead, so CI can
never pass without having run them.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.storage import Storage

URL_VARIABLE = "PEACEBOT_TEST_DATABASE_URL"
REQUIRE_VARIABLE = "PEACEBOT_TEST_REQUIRE_POSTGRES"
NAMES = ("sqlite", "postgres")


def postgres_url() -> str:
    """The test server's URL; skips (or, where PostgreSQL is required, fails) without one."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        return url
    if os.environ.get(REQUIRE_VARIABLE, "").strip() not in ("", "0"):
        pytest.fail(f"{REQUIRE_VARIABLE} is set but {URL_VARIABLE} is not: PostgreSQL not tested")
    pytest.skip(f"PostgreSQL tests need {URL_VARIABLE} (.ci/run starts a server and sets it)")


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


class Backend:
    """One engine's database for one test. Every Storage opened through it is closed after
    the test, pass or fail."""

    name: str
    location: str

    def __init__(self) -> None:
        self._stores: list[Storage] = []

    async def open(self, location: str | None = None, **options: Any) -> Storage:
        store = await Storage.open(location or self.location, **options)
        self._stores.append(store)
        return store

    @asynccontextmanager
    async def opened(self, location: str | None = None, **options: Any) -> AsyncIterator[Storage]:
        store = await self.open(location, **options)
        try:
            yield store
        finally:
            await store.close()

    async def another(self) -> str:
        """A second, separate database of the same engine."""
        raise NotImplementedError

    async def rows(self, sql: str, *params: Any) -> list[tuple]:
        """Run `sql` (placeholders `?`) straight on the database, as a test looks at it."""
        raise NotImplementedError

    async def execute(self, sql: str, *params: Any) -> None:
        await self.rows(sql, *params)

    def sql(self, statement: str) -> str:
        """A statement written with `?` placeholders, in this engine's form."""
        return statement

    def foreign_write_lock(self) -> Any:
        """An async context manager: another process holding the write lock (SQLite) or an
        exclusive lock on every table (PostgreSQL: writes wait, reads do not)."""
        raise NotImplementedError

    async def writer_waiting(self) -> None:
        """Return once one of the storage's writes waits for the foreign lock."""
        raise NotImplementedError

    async def open_transactions(self) -> int:
        """Transactions of peacebot's connections left open (none, after any write)."""
        raise NotImplementedError

    async def close(self) -> None:
        for store in self._stores:
            await store.close()


class SqliteBackend(Backend):
    name = "sqlite"
    watch: Any = None

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.location = str(folder / "peacebot.sqlite3")
        self._count = 0

    async def another(self) -> str:
        self._count += 1
        return str(self.folder / f"other-{self._count}.sqlite3")

    async def rows(self, sql: str, *params: Any) -> list[tuple]:
        import sqlite3

        with sqlite3.connect(self.location) as conn:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]

    @asynccontextmanager
    async def foreign_write_lock(self) -> AsyncIterator[None]:
        import sqlite3

        blocker = sqlite3.connect(self.location, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            if blocker.in_transaction:
                blocker.execute("ROLLBACK")
            blocker.close()

    async def watch_writes(self, store: Storage) -> None:
        """Call before the write that `writer_waiting` waits for."""
        from tests.storage_helpers import StatementWatch

        self.watch = StatementWatch("BEGIN IMMEDIATE")
        # Not unset later: that call would queue behind the BEGIN on the writer's thread.
        await store._engine._writer.set_trace_callback(self.watch)

    async def writer_waiting(self) -> None:
        await self.watch.started.wait()


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server
        self._schemas: list[str] = []
        self.schema = ""
        self.location = ""

    async def start(self) -> None:
        self.schema = await self._new_schema()
        self.location = with_schema(self.server, self.schema)

    async def _new_schema(self) -> str:
        schema = f"test_{secrets.token_hex(6)}"
        await self._admin(f"CREATE SCHEMA {schema}")
        self._schemas.append(schema)
        return schema

    async def another(self) -> str:
        return with_schema(self.server, await self._new_schema())

    async def _admin(self, sql: str, *params: Any) -> list[tuple]:
        import asyncpg

        conn = await asyncpg.connect(self.server)
        try:
            if self.schema:
                await conn.execute(f"SET search_path = {self.schema}")
            return [tuple(row) for row in await conn.fetch(sql, *params)]
        finally:
            await conn.close()

    async def rows(self, sql: str, *params: Any) -> list[tuple]:
        return await self._admin(placeholders(sql), *params)

    def sql(self, statement: str) -> str:
        return placeholders(statement).replace("WHERE 1", "WHERE true")

    @asynccontextmanager
    async def foreign_write_lock(self) -> AsyncIterator[None]:
        import asyncpg

        conn = await asyncpg.connect(self.location)
        try:
            transaction = conn.transaction()
            await transaction.start()
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
            names = ", ".join(row[0] for row in tables)
            await conn.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            yield
            await transaction.rollback()
        finally:
            await conn.close()

    async def watch_writes(self, store: Storage) -> None:
        return None

    async def writer_waiting(self) -> None:
        import asyncio

        # The server has no event to wait on for "a session started waiting": poll its view.
        while True:
            waiting = await self._admin(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'peacebot' "
                "AND wait_event_type = 'Lock'"
            )
            if waiting:
                return
            await asyncio.sleep(0.005)

    async def open_transactions(self) -> int:
        found = await self._admin(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'peacebot' "
            "AND state LIKE 'idle in transaction%'"
        )
        return found[0][0]

    async def close(self) -> None:
        await super().close()
        for schema in self._schemas:
            await self._admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def placeholders(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...`."""
    count = iter(range(1, 1000))
    return re.sub(r"\?", lambda _match: f"${next(count)}", sql)


async def make_backend(name: str, folder: Path) -> Backend:
    if name == "sqlite":
        return SqliteBackend(folder)
    backend = PostgresBackend(postgres_url())
    await backend.start()
    return backend
