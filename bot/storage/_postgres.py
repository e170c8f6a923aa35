"""The PostgreSQL engine under `Storage`: asyncpg pools, transactions, LISTEN/NOTIFY, and
turning asyncpg errors into `StorageError` / `StorageBusy`. Selected by a `postgresql://` URL.

Connections, each for one job, so that no job waits for another's:
- a read pool (`default_transaction_read_only`): reads never queue behind writes, and MVCC
  lets them read beside any write;
- a write pool: every settings, deck, claim and score transaction;
- the query log's own connection (`PgLogSink`), which writes batches with COPY;
- one listener connection, opened when something subscribes to events, that reconnects on its
  own (`PgListener`).
Several processes share the database; where SQLite relies on its single writer the SQL takes
row locks (`_daily_pg`), and migrations take a transaction-scoped advisory lock.

Transactions are cancellation-safe: whatever ends one early rolls it back before the
connection goes back to the pool, and a connection that cannot roll back is closed (the server
then rolls back). A write waits at most `busy_timeout_ms` for a connection and for row locks
(`lock_timeout`), then raises `StorageBusy`. Callers never see an asyncpg type.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg

from bot.storage import (
    _daily_pg,
    _exams_pg,
    _guilds_pg,
    _meta_pg,
    _reports_pg,
    _review_pg,
    _scores_pg,
    _usage_pg,
)
from bot.storage._dialect import Dialect
from bot.storage._events import MAX_EVENT_BYTES, Event, EventHub, Handler
from bot.storage._migrations import migrate_pg
from bot.storage._models import StorageBusy, StorageError
from bot.storage._querylog import Row

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[Any], Awaitable[T]]

DIALECT = Dialect(
    guilds=_guilds_pg,
    daily=_daily_pg,
    scores=_scores_pg,
    review=_review_pg,
    usage=_usage_pg,
    meta=_meta_pg,
    exams=_exams_pg,
    reports=_reports_pg,
)
DEFAULT_WRITERS = 4
CONNECT_TIMEOUT = 10.0
MIGRATION_LOCK_TIMEOUT_MS = 60_000  # a second process waits this long for another's migration
_LOCK_SLACK_MS = 50
LOG_COLUMNS = (
    "at", "guild_id", "channel_id", "user_hash", "command", "query", "matched_id", "outcome",
    "score", "failed", "duration_ms",
)  # fmt: skip

# Conditions that pass: another transaction held what we need, or the server is overloaded.
_BUSY = (
    asyncpg.LockNotAvailableError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.QueryCanceledError,
    asyncpg.TooManyConnectionsError,
)
DATABASE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
# Caused by the rows themselves: retrying would fail forever.
_BAD_DATA = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    TypeError,
    ValueError,
    OverflowError,
    UnicodeError,
)


def display_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    where = f"{host}:{parts.port}" if parts.port else host
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{where}{parts.path}"


def storage_error(exc: BaseException, doing: str) -> StorageError:
    if isinstance(exc, (*_BUSY, TimeoutError)):
        return StorageBusy(f"the database is busy ({doing}): {exc}")
    return StorageError(f"database error ({doing}): {exc}")


def _settings(busy_timeout_ms: int, **more: str) -> dict[str, str]:
    return {
        "application_name": "peacebot",
        "timezone": "UTC",
        "jit": "off",  # the bot's queries are short: compiling them would cost more than it saves
        "lock_timeout": f"{int(busy_timeout_ms)}ms",
        **more,
    }


async def connect(url: str, busy_timeout_ms: int, **settings: str) -> asyncpg.Connection:
    """One connection (for migrations, the query log, the listener); raises StorageError."""
    try:
        return await asyncpg.connect(
            url, timeout=CONNECT_TIMEOUT, server_settings=_settings(busy_timeout_ms, **settings)
        )
    except (*DATABASE_ERRORS, TimeoutError) as exc:
        raise _cannot_connect(url, exc) from exc


def _cannot_connect(url: str, exc: BaseException) -> StorageError:
    reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
    return StorageError(f"cannot connect to {display_url(url)}: {reason or type(exc).__name__}")


class PostgresEngine:
    dialect = DIALECT
    multiprocess = True  # other processes use the same database and hear its events

    def __init__(self, url: str, busy_timeout_ms: int) -> None:
        self.url = url
        self.path = display_url(url)
        self.busy_timeout_ms = busy_timeout_ms
        self._readers: asyncpg.Pool | None = None
        self._writers: asyncpg.Pool | None = None
        self.channel = "peacebot"
        self._events = EventHub()
        self._listener: PgListener | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        readers: int = 3,
        writers: int = DEFAULT_WRITERS,
    ) -> PostgresEngine:
        """Migrate (under the migration lock) and open the pools. Raises `StorageError`."""
        engine = cls(url, busy_timeout_ms)
        first = await connect(url, busy_timeout_ms, lock_timeout=f"{MIGRATION_LOCK_TIMEOUT_MS}ms")
        try:
            await migrate_pg(first)
            schema = await first.fetchval("SELECT current_schema()")
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot prepare database {engine.path}: {exc}") from exc
        finally:
            await first.close()
        # Deployments in other schemas of the same database hear only their own events.
        engine.channel = f"peacebot_{schema}"[:63]
        try:
            engine._writers = await cls._pool(url, busy_timeout_ms, writers)
            engine._readers = await cls._pool(
                url, busy_timeout_ms, readers, default_transaction_read_only="on"
            )
        except BaseException:
            await engine.close()
            raise
        return engine

    @staticmethod
    async def _pool(url: str, busy_timeout_ms: int, size: int, **settings: str) -> asyncpg.Pool:
        try:
            return await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=max(1, size),
                timeout=CONNECT_TIMEOUT,
                server_settings=_settings(busy_timeout_ms, **settings),
            )
        except (*DATABASE_ERRORS, TimeoutError) as exc:
            raise _cannot_connect(url, exc) from exc

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        for pool in (self._readers, self._writers):
            if pool is not None:
                try:
                    await asyncio.wait_for(pool.close(), 5)
                except Exception:
                    pool.terminate()  # a connection did not come back in time
        self._readers = self._writers = None

    def log_sink(self) -> PgLogSink:
        return PgLogSink(self.url, self.busy_timeout_ms)

    # -- reads and writes ---------------------------------------------------------------------

    def _pool_or_fail(self, pool: asyncpg.Pool | None) -> asyncpg.Pool:
        if pool is None:
            raise StorageError("the storage is closed")
        return pool

    async def read(self, work: Work[T]) -> T:
        """Run `work(conn)` on a read-only connection (each statement sees the latest commit)."""
        pool = self._pool_or_fail(self._readers)
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        except DATABASE_ERRORS as exc:
            raise storage_error(exc, "reading") from exc

    async def write(self, work: Work[T]) -> T:
        """Run `work(conn)` in one transaction; `StorageBusy` once the busy timeout has passed
        waiting for a connection or a lock."""
        pool = self._pool_or_fail(self._writers)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout_ms / 1000
        try:
            conn = await pool.acquire(timeout=self.busy_timeout_ms / 1000)
        except TimeoutError:
            raise StorageBusy(
                f"the database is busy: other writes held every connection for "
                f"{self.busy_timeout_ms} ms"
            ) from None
        except DATABASE_ERRORS as exc:
            raise storage_error(exc, "writing") from exc
        try:
            return await self._transaction(conn, work, deadline - loop.time())
        finally:
            await pool.release(conn)  # asyncpg shields the release from cancellation

    async def _transaction(self, conn: asyncpg.Connection, work: Work[T], seconds: float) -> T:
        transaction = conn.transaction()
        try:
            await transaction.start()
            left_ms = max(1, int(seconds * 1000))
            if self.busy_timeout_ms - left_ms > _LOCK_SLACK_MS:  # waited for the connection
                await conn.execute("SELECT set_config('lock_timeout', $1, true)", f"{left_ms}ms")
            result = await work(conn)
            await transaction.commit()
        except BaseException as exc:
            await asyncio.shield(_abort(conn, transaction))
            if isinstance(exc, DATABASE_ERRORS):
                raise storage_error(exc, "writing") from exc
            raise
        return result

    # -- events -------------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        """NOTIFY every listening process (this one too) once this statement has run."""
        payload = json.dumps(event, separators=(",", ":"))
        if len(payload.encode()) > MAX_EVENT_BYTES:
            raise StorageError(f"event {event.get('kind')!r} is too large to send")
        await self.write(
            lambda conn: conn.execute("SELECT pg_notify($1, $2)", self.channel, payload)
        )

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        if self._listener is None:
            self._listener = PgListener(self.url, self.busy_timeout_ms, self.channel, self._events)
            self._listener.start()
        return self._events.subscribe(handler)

    async def listening(self, within: float | None = None) -> bool:
        """Wait until the listener hears events (False: not `within` seconds)."""
        if self._listener is None:
            return False
        try:
            await asyncio.wait_for(self._listener.connected.wait(), within)
        except TimeoutError:
            return False
        return True


async def _abort(conn: asyncpg.Connection, transaction: Any) -> None:
    """Roll back; a connection that cannot is closed, which makes the server roll back."""
    try:
        await asyncio.wait_for(transaction.rollback(), 5)
    except BaseException:
        conn.terminate()


def _set(event: asyncio.Event, *_: object) -> None:
    event.set()


class PgListener:
    """LISTEN on a connection of its own, reconnecting with a back-off whenever it is lost (a
    server restart, a network cut). Notifications sent while it is away are missed, so each
    reconnect is announced to the handlers as a "listener-reconnected" event (a scheduler looks
    at its queue again then). A watchdog query every `PING_SECONDS` finds a dead connection
    that never said goodbye."""

    PING_SECONDS = 15.0
    BACKOFF_MAX = 5.0

    def __init__(self, url: str, busy_timeout_ms: int, channel: str, events: EventHub) -> None:
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self.channel = channel
        self.events = events
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="peacebot-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _heard(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("events: ignored a notification that is not JSON")
            return
        if isinstance(event, dict):
            self.events.dispatch(event)

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect(self.url, self.busy_timeout_ms)
                lost = asyncio.Event()
                conn.add_termination_listener(partial(_set, lost))
                await conn.add_listener(self.channel, self._heard)
                self.connected.set()
                if not first:
                    self.reconnects += 1
                    log.warning("events: listening again after a lost connection")
                    self.events.dispatch({"kind": "listener-reconnected"})
                first, delay = False, 0.1
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.PING_SECONDS)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), 5)
                log.warning("events: the listener's connection was closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("events: cannot listen (%s); retrying in %.1f s", exc, delay)
            finally:
                self.connected.clear()
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.BACKOFF_MAX)


class PgLogSink:
    """The query log's way into PostgreSQL: one COPY per batch (atomic: all rows or none) on a
    connection of its own, opened again after a failure that may have broken it."""

    def __init__(self, url: str, busy_timeout_ms: int) -> None:
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self.connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        self.connection = await connect(self.url, self.busy_timeout_ms)

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.connection.close(), 5)
            if not self.connection.is_closed():
                self.connection.terminate()

    def is_bad_data(self, exc: BaseException) -> bool:
        return isinstance(exc, _BAD_DATA)

    async def write(self, rows: list[Row]) -> None:
        conn = self.connection
        if conn is None or conn.is_closed():
            raise StorageError("the query log's connection is closed")
        records = [
            (datetime.fromisoformat(row[0]), *row[1:9], bool(row[9]), row[10]) for row in rows
        ]
        await conn.copy_records_to_table("query_log", records=records, columns=LOG_COLUMNS)

    async def recover(self, exc: BaseException) -> None:
        """After a failed batch: a new connection, unless the old one is still sound."""
        old = self.connection
        if old is not None and not old.is_closed() and isinstance(exc, asyncpg.PostgresError):
            return  # the server refused the batch; the connection itself is fine
        try:
            fresh = await connect(self.url, self.busy_timeout_ms)
        except StorageError as error:
            log.debug("query log: reconnecting failed: %s", error)
            return
        self.connection = fresh
        if old is not None:
            old.terminate()
