"""The SQLite engine under `Storage`: connections, transactions, and turning sqlite3 errors into
`StorageError` / `StorageBusy`.

One file, several connections (WAL lets readers read while one writer writes):
- the writer: every settings, deck, claim and score transaction, one at a time (an asyncio lock);
- readers: a small pool of `query_only` connections. A read never takes the write lock, so a long
  write, or another process holding the database's write lock, delays only writes;
- the query log's own connection, used by `QueryLogWriter` through `SqliteLogSink`.
`":memory:"` is one database per connection, so there everything shares the writer (and its lock).

Transactions are cancellation-safe: BEGIN is inside the try, and whatever ends a transaction
early leaves a ROLLBACK queued on the connection's thread, behind the statement that may still
be running there (a BEGIN waiting for another process's lock). A cancelled caller returns at
once; the write lock is released only once that ROLLBACK has run, so the next transaction
always starts clean.
A write waits at most `busy_timeout_ms` in total (for the lock and for the file) and then raises
`StorageBusy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import aiosqlite

from bot.storage import _daily, _guilds, _meta, _scores, _usage
from bot.storage._connection import MEMORY, connect, is_bad_data, is_busy, needs_reopen
from bot.storage._dialect import Dialect
from bot.storage._events import Event, EventHub, Handler
from bot.storage._migrations import migrate
from bot.storage._models import StorageBusy, StorageError
from bot.storage._querylog import ROWS_PER_STATEMENT, Row, insert_rows

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[aiosqlite.Connection], Awaitable[T]]

DIALECT = Dialect(guilds=_guilds, daily=_daily, scores=_scores, usage=_usage, meta=_meta)
DEFAULT_READERS = 3
_BUSY_PRAGMA_SLACK_MS = 50  # re-set the busy timeout only when the wait left differs this much


def storage_error(exc: BaseException, doing: str) -> StorageError:
    if is_busy(exc):
        return StorageBusy(f"the database is busy ({doing}): {exc}")
    return StorageError(f"database error ({doing}): {exc}")


async def _roll_back(conn: aiosqlite.Connection) -> None:
    # Queued behind whatever the connection's thread is still doing (a BEGIN waiting on the
    # lock, a statement of the failed transaction); "no transaction is active" is fine.
    with contextlib.suppress(sqlite3.Error, ValueError):
        await conn.execute("ROLLBACK")


class SqliteEngine:
    dialect = DIALECT
    # Other processes may open the file, but hear none of this one's events: a reload or a
    # changed schedule reaches this process only.
    multiprocess = False

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._writer_busy_ms = busy_timeout_ms
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._stale_writer = False
        self._cleanups: set[asyncio.Task[None]] = set()
        self._unlock_after_cleanup = False  # a cancelled transaction's clean-up owns the lock
        self._events = EventHub()

    @property
    def shared(self) -> bool:
        """One connection for everything (an in-memory database)."""
        return self.path in (MEMORY, "")

    @classmethod
    async def open(
        cls, path: str, *, busy_timeout_ms: int = 5000, readers: int = DEFAULT_READERS
    ) -> SqliteEngine:
        """Open, migrate, and start the readers. Raises `StorageError`."""
        engine = cls(path, busy_timeout_ms)
        engine._writer = await connect(path, busy_timeout_ms=busy_timeout_ms, checkpoints=False)
        try:
            await migrate(engine._writer)
            if not engine.shared:
                for _ in range(max(1, readers)):
                    reader = await connect(path, busy_timeout_ms=busy_timeout_ms, reader=True)
                    engine._all_readers.append(reader)
                    engine._readers.put_nowait(reader)
        except BaseException as exc:
            await engine.close()
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot prepare database {path}: {exc}") from exc
            raise
        return engine

    async def close(self) -> None:
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        for conn in (*self._all_readers, self._writer):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
        self._all_readers.clear()
        self._writer = None

    def log_sink(self) -> SqliteLogSink:
        """Where the query log writes: its own connection, or the shared one in memory."""
        if self.shared:
            assert self._writer is not None
            return SqliteLogSink(self._writer, None, self._write_lock)
        connector = partial(
            connect, self.path, busy_timeout_ms=min(self.busy_timeout_ms, 1000), big_cache=True
        )
        return SqliteLogSink(None, connector, None)

    # -- events (this process only) -----------------------------------------------------------

    async def publish(self, event: Event) -> None:
        asyncio.get_running_loop().call_soon(self._events.dispatch, event)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        return self._events.subscribe(handler)

    async def listening(self, within: float | None = None) -> bool:
        return True

    # -- reads --------------------------------------------------------------------------------

    async def read(self, work: Work[T]) -> T:
        """Run `work(conn)` on a reader (statements in autocommit: each sees the latest commit)."""
        if self.shared:
            async with self._write_lock:
                return await self._reading(self._usable_writer_now(), work)
        conn = await self._readers.get()
        try:
            return await self._reading(conn, work)
        except StorageError as exc:
            if needs_reopen(exc.__cause__ or exc):
                conn = await self._replace_reader(conn)
            raise
        finally:
            self._readers.put_nowait(conn)

    async def _reading(self, conn: aiosqlite.Connection, work: Work[T]) -> T:
        try:
            return await work(conn)
        except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's "closed"
            raise storage_error(exc, "reading") from exc

    async def _replace_reader(self, old: aiosqlite.Connection) -> aiosqlite.Connection:
        try:
            fresh = await connect(self.path, busy_timeout_ms=self.busy_timeout_ms, reader=True)
        except StorageError:
            return old
        self._all_readers = [fresh if c is old else c for c in self._all_readers]
        with contextlib.suppress(Exception):
            await old.close()
        return fresh

    # -- writes -------------------------------------------------------------------------------

    async def write(self, work: Work[T]) -> T:
        """Run `work(conn)` in one transaction on the writer; once more on a fresh connection if
        the first turned out to be stuck read-only (it opened the file while it was read-only).
        Raises `StorageBusy` once `busy_timeout_ms` has passed without getting the lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout_ms / 1000
        try:
            async with asyncio.timeout(self.busy_timeout_ms / 1000):
                await self._write_lock.acquire()
        except TimeoutError:
            raise StorageBusy(
                f"the database is busy: other writes held it for {self.busy_timeout_ms} ms"
            ) from None
        try:
            for attempt in (1, 2):
                try:
                    conn = await self._usable_writer()
                    await self._wait_at_most(conn, deadline - loop.time())
                    return await self._transaction(conn, work)
                except (sqlite3.Error, ValueError) as exc:
                    if needs_reopen(exc) and not self.shared:
                        self._stale_writer = True
                    if not (self._stale_writer and attempt == 1):
                        raise storage_error(exc, "writing") from exc
            raise AssertionError("unreachable")
        finally:
            if self._unlock_after_cleanup:
                self._unlock_after_cleanup = False
            else:
                self._write_lock.release()

    async def _transaction(self, conn: aiosqlite.Connection, work: Work[T]) -> T:
        if conn.in_transaction:  # never build on a transaction someone left open
            await _roll_back(conn)
        try:
            await conn.execute("BEGIN IMMEDIATE")
            result = await work(conn)
            await conn.execute("COMMIT")
        except asyncio.CancelledError:
            # The statement we were waiting for may still run (a BEGIN that gets the lock
            # later): the ROLLBACK queues behind it, and the lock is held until it has run.
            cleanup = asyncio.ensure_future(self._roll_back_then_unlock(conn))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            self._unlock_after_cleanup = True
            raise
        except BaseException:
            await _roll_back(conn)
            raise
        return result

    async def _roll_back_then_unlock(self, conn: aiosqlite.Connection) -> None:
        try:
            await _roll_back(conn)
        finally:
            self._write_lock.release()

    async def _wait_at_most(self, conn: aiosqlite.Connection, seconds: float) -> None:
        """Let SQLite wait for the file's lock only as long as this write has left."""
        wanted = max(1, int(seconds * 1000))
        if abs(wanted - self._writer_busy_ms) > _BUSY_PRAGMA_SLACK_MS:
            await conn.execute(f"PRAGMA busy_timeout = {wanted:d}")
            self._writer_busy_ms = wanted

    def _usable_writer_now(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StorageError("the storage is closed")
        return self._writer

    async def _usable_writer(self) -> aiosqlite.Connection:
        """The writer, replaced first if an earlier error said it may be stuck."""
        if self._stale_writer:
            try:
                fresh = await connect(
                    self.path, busy_timeout_ms=self.busy_timeout_ms, checkpoints=False
                )
            except StorageError as exc:
                raise sqlite3.OperationalError(str(exc)) from exc
            old, self._writer, self._stale_writer = self._writer, fresh, False
            self._writer_busy_ms = self.busy_timeout_ms
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close()
        return self._usable_writer_now()


class SqliteLogSink:
    """The query log's way into SQLite: multi-row INSERTs, one transaction per batch.

    With `conn` given (in memory) it shares that connection under `lock`; otherwise it opens
    its own with `connector`, and a fresh one after an error a connection may not recover from
    (a file opened read-only stays read-only).
    """

    def __init__(
        self,
        conn: aiosqlite.Connection | None,
        connector: Callable[[], Awaitable[aiosqlite.Connection]] | None,
        lock: asyncio.Lock | None,
    ) -> None:
        self.connection = conn
        self._connector = connector
        self._lock = lock
        self.chunk = ROWS_PER_STATEMENT

    async def start(self) -> None:
        """Open the connection (a file's own); called once, before the first batch."""
        if self.connection is None:
            assert self._connector is not None
            self.connection = await self._connector()

    async def close(self) -> None:
        if self._connector is not None and self.connection is not None:
            await self.connection.close()

    def is_bad_data(self, exc: BaseException) -> bool:
        return is_bad_data(exc)

    async def write(self, rows: list[Row]) -> None:
        """One transaction, a few multi-row INSERTs.

        Not executemany: the database thread would take and drop the GIL once per row, and
        the event loop, woken meanwhile, can lose every one of those races and wait for the
        interpreter's 5 ms switch interval. A multi-row INSERT drops the GIL once for a long
        step, and between statements the thread sleeps on its queue; both let the loop in.
        """
        if self._lock is None:
            await self._write(rows)
        else:
            async with self._lock:
                await self._write(rows)

    async def _write(self, rows: list[Row]) -> None:
        conn = self.connection
        assert conn is not None
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for start in range(0, len(rows), self.chunk):
                part = rows[start : start + self.chunk]
                await conn.execute(insert_rows(len(part)), [v for row in part for v in row])
            await conn.execute("COMMIT")
        except BaseException:
            await asyncio.shield(_roll_back(conn))
            raise

    async def recover(self, exc: BaseException) -> None:
        """After a failed batch: reopen the connection if the error says it may be stuck."""
        if self._connector is None or not needs_reopen(exc):
            return
        try:
            fresh = await self._connector()
        except Exception as error:
            log.debug("query log: reopening the database failed: %s", error)
            return
        old, self.connection = self.connection, fresh
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
