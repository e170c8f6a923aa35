"""SQLite: opening a connection with the settings every peacebot connection needs, and telling
what kind of failure an error is."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import aiosqlite

from bot.storage._models import StorageError

MEMORY = ":memory:"

# Errors caused by the rows themselves; retrying would fail forever. Every other error (locked,
# read-only, disk full, I/O) is a condition of the database the writer waits out.
_BAD_DATA = (
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    OverflowError,
    UnicodeError,
    TypeError,
)
# A connection that saw one of these may never recover (e.g. it opened the file read-only),
# so the writer opens a fresh one before the next try.
_REOPEN = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}


def primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_bad_data(exc: BaseException) -> bool:
    """True when a row itself cannot be stored; anything else is the database being unwell."""
    return isinstance(exc, _BAD_DATA)


def needs_reopen(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return primary_code(exc) in _REOPEN
    return True  # e.g. aiosqlite's "Connection closed"


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the lock we need and did not let go within the busy timeout."""
    return isinstance(exc, sqlite3.OperationalError) and primary_code(exc) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


# A bigger page cache for the readers (a /stats pass over a big server stays in memory) and for
# the query log's writer (each batch touches a leaf of the (guild_id, at) index per server).
BIG_CACHE_KIB = 16384
# Pages the WAL may grow to before a writer copies it back into the database (SQLite's default
# is 1,000). Every query-log batch rewrites the same hot index pages, one per active server: a
# later checkpoint copies each of them once instead of once per batch (up to ~40 MB of WAL).
# The query log's writer, in the background, does the copying; the writer of settings, claims
# and scores, whose latency people see, only when the WAL has grown far past that.
WAL_CHECKPOINT_PAGES = 10_000
WAL_CHECKPOINT_FALLBACK_PAGES = 100_000


async def connect(
    path: str,
    *,
    busy_timeout_ms: int,
    reader: bool = False,
    big_cache: bool = False,
    checkpoints: bool = True,
) -> aiosqlite.Connection:
    """Open `path` in autocommit mode (we issue BEGIN ourselves) with WAL and foreign keys.

    A `reader` connection refuses writes (`query_only`), so nothing but the one writer ever
    takes the write lock; readers and `big_cache` connections keep a bigger page cache. A
    connection without `checkpoints` leaves copying the WAL back to the others.
    """
    try:
        if path != MEMORY:
            # aiosqlite leaves its thread to report a failed open after we return, which
            # trips over a loop that has closed meanwhile; so find out here, synchronously.
            await asyncio.to_thread(_probe, path)
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if path != MEMORY:
            await _use_wal(conn, busy_timeout_ms)
            # In WAL mode NORMAL loses no committed transaction when only the process dies.
            await conn.execute("PRAGMA synchronous = NORMAL")
            pages = WAL_CHECKPOINT_PAGES if checkpoints else WAL_CHECKPOINT_FALLBACK_PAGES
            await conn.execute(f"PRAGMA wal_autocheckpoint = {pages:d}")
        if reader or big_cache:
            await conn.execute(f"PRAGMA cache_size = -{BIG_CACHE_KIB:d}")
        if reader:
            await conn.execute("PRAGMA query_only = 1")
    except BaseException as exc:
        await conn.close()
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        raise
    return conn


def _probe(path: str) -> None:
    sqlite3.connect(path).close()


async def _use_wal(conn: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    """Switch to WAL (a setting kept in the file). Switching needs every other connection out
    of the way, and SQLite answers "locked" at once rather than wait when several connections
    open a new file together (waiting could deadlock), so retry until the busy timeout."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        async with conn.execute("PRAGMA journal_mode") as cursor:
            row = await cursor.fetchone()
        if row and str(row[0]).lower() == "wal":
            return  # already WAL: asking again would need a write a read-only file cannot do
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            code = primary_code(exc)
            if code == sqlite3.SQLITE_READONLY:
                return
            if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.005)
