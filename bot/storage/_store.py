"""`Storage`: the one object the bot and the CLI use for everything kept in the database."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import partial
from typing import TypeVar

import aiosqlite

from bot.storage import _guilds, _scores, _usage
from bot.storage._connection import MEMORY, connect, needs_reopen
from bot.storage._migrations import migrate
from bot.storage._models import (
    DeckState,
    GuildSettings,
    QueryRecord,
    QueryRow,
    ScoreRow,
    SectionScore,
    Stats,
    StorageError,
)
from bot.storage._querylog import QueryLogWriter, build_row
from bot.text import clean

log = logging.getLogger(__name__)
T = TypeVar("T")

HASH_HEX = 32  # 128 bits of HMAC-SHA256: no collisions among any realistic number of users
_HASH_CACHE_LIMIT = 10_000


class Storage:
    """The database: query log, server settings, fact decks, quiz scores.

    Open with `await Storage.open(path)`; close with `await storage.close()`, which writes the
    queued query-log rows first. Every method but `log()` may raise `StorageError`.
    """

    def __init__(
        self,
        path: str,
        conn: aiosqlite.Connection,
        lock: asyncio.Lock,
        writer: QueryLogWriter,
        salt: str,
        close_timeout: float,
        busy_timeout_ms: int,
    ) -> None:
        self.path = path
        self._conn = conn
        self._lock = lock  # one transaction at a time on the main connection
        self._writer = writer
        self._key = bytes.fromhex(salt)
        self._close_timeout = close_timeout
        self._hashes: dict[int, str] = {}
        self._rejected = 0
        self._closed = False
        self._stale = False  # reopen the main connection before its next use
        self._busy_timeout_ms = busy_timeout_ms

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        log_batch_size: int = 500,
        log_interval: float = 1.0,
        log_cap: int = 100_000,
        log_backoff_max: float = 5.0,
        close_timeout: float = 10.0,
        busy_timeout_ms: int = 5000,
    ) -> Storage:
        """Open (creating if needed) and migrate the database, and start the query-log writer.

        The query log writes through its own connection (for a file), so a writer waiting
        out a locked database never holds up settings or scores. `":memory:"` uses one
        connection for both, since each connection would see its own empty database.
        """
        path = os.fspath(path)
        conn = await connect(path, busy_timeout_ms=busy_timeout_ms)
        try:
            await migrate(conn)
            async with conn.execute("SELECT value FROM meta WHERE key = 'salt'") as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise StorageError(f"database {path} has no salt; it was not made by peacebot")
            lock = asyncio.Lock()
            if path in (MEMORY, ""):
                writer_conn, writer_lock, connector = conn, lock, None
            else:
                connector = partial(connect, path, busy_timeout_ms=min(busy_timeout_ms, 1000))
                writer_conn, writer_lock = await connector(), asyncio.Lock()
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot prepare database {path}: {exc}") from exc
            raise
        writer = QueryLogWriter(
            writer_conn,
            lock=writer_lock,
            connector=connector,
            batch_size=log_batch_size,
            interval=log_interval,
            cap=log_cap,
            backoff_max=log_backoff_max,
        )
        return cls(path, conn, lock, writer, row[0], close_timeout, busy_timeout_ms)

    async def close(self) -> None:
        """Write the queued query-log rows (waiting up to `close_timeout`), then close."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close(self._close_timeout)
        finally:
            if self._writer.connection is not self._conn:
                await self._writer.connection.close()
            await self._conn.close()

    # -- the query log ------------------------------------------------------------------------

    def user_hash(self, user_id: int) -> str:
        """The salted hash stored instead of a user id (HMAC-SHA256, hex, truncated)."""
        cached = self._hashes.get(user_id)
        if cached is None:
            digest = hmac.new(self._key, str(int(user_id)).encode(), hashlib.sha256)
            cached = digest.hexdigest()[:HASH_HEX]
            if len(self._hashes) >= _HASH_CACHE_LIMIT:
                self._hashes.clear()
            self._hashes[user_id] = cached
        return cached

    def log(self, record: QueryRecord) -> None:
        """Queue one lookup for the log. Synchronous; never blocks, never raises."""
        try:
            self._writer.submit(build_row(record, self.user_hash))
        except Exception:
            self._rejected += 1
            if self._rejected == 1:
                log.warning("query log: could not record %r", record, exc_info=True)

    async def flush(self, max_wait: float | None = 30.0) -> bool:
        """Wait until every row logged so far is written; False if that took over `max_wait` s.

        Rows not written in time stay queued; the writer keeps trying.
        """
        return await self._writer.flush(max_wait)

    @property
    def log_pending(self) -> int:
        return self._writer.pending

    @property
    def log_written(self) -> int:
        return self._writer.written

    @property
    def log_dropped(self) -> int:
        return self._writer.dropped + self._rejected

    # -- server settings and the fact deck ----------------------------------------------------

    async def get_settings(self, guild_id: int) -> GuildSettings:
        async with self._reading() as conn:
            return await _guilds.get_settings(conn, guild_id)

    async def save_settings(self, settings: GuildSettings) -> None:
        await self._write(partial(_guilds.save_settings, settings=settings))

    async def daily_guilds(self) -> list[GuildSettings]:
        async with self._reading() as conn:
            return await _guilds.daily_guilds(conn)

    async def get_deck(self, guild_id: int) -> DeckState | None:
        async with self._reading() as conn:
            return await _guilds.get_deck(conn, guild_id)

    async def claim_daily_post(self, guild_id: int, local_date: date, new_state: DeckState) -> bool:
        """Save `new_state` and mark `local_date` posted, unless it already was (then False)."""
        claim = partial(
            _guilds.claim_daily_post, guild_id=guild_id, local_date=local_date, state=new_state
        )
        return await self._write(claim)

    async def save_deck(self, state: DeckState) -> None:
        """Save the rotation without touching the last posted date."""
        await self._write(partial(_guilds.save_deck, state=state))

    # -- quiz answers and activity ------------------------------------------------------------

    async def record_answer(
        self,
        guild_id: int,
        user_id: int,
        display_name: str,
        question_id: str,
        section_id: str,
        correct: bool,
        local_date: date,
    ) -> None:
        """Store one quiz answer; answering also counts as activity on `local_date`."""
        user = self.user_hash(user_id)

        async def work(conn: aiosqlite.Connection) -> None:
            await _scores.remember_member(conn, guild_id, user, _name(display_name))
            await _scores.record_answer(
                conn, guild_id, user, question_id, section_id, correct, local_date
            )
            await _scores.record_activity(conn, guild_id, user, local_date)

        await self._write(work)

    async def record_activity(
        self, guild_id: int, user_id: int, display_name: str, local_date: date
    ) -> None:
        user = self.user_hash(user_id)

        async def work(conn: aiosqlite.Connection) -> None:
            await _scores.remember_member(conn, guild_id, user, _name(display_name))
            await _scores.record_activity(conn, guild_id, user, local_date)

        await self._write(work)

    async def leaderboard(
        self,
        guild_id: int,
        section: str | None = None,
        since: date | None = None,
        limit: int = 10,
    ) -> list[ScoreRow]:
        async with self._reading() as conn:
            return await _scores.leaderboard(conn, guild_id, section, since, limit)

    async def progress(self, guild_id: int, user_id: int) -> list[SectionScore]:
        async with self._reading() as conn:
            return await _scores.progress(conn, guild_id, self.user_hash(user_id))

    async def activity_dates(self, guild_id: int, user_id: int) -> list[date]:
        async with self._reading() as conn:
            return await _scores.activity_dates(conn, guild_id, self.user_hash(user_id))

    async def activity_dates_of(
        self, guild_id: int, user_hashes: list[str]
    ) -> dict[str, list[date]]:
        """Activity days by user hash, for leaderboard rows (which carry only the hash)."""
        async with self._reading() as conn:
            return await _scores.activity_dates_of(conn, guild_id, list(user_hashes))

    async def forget_user(self, user_id: int) -> int:
        """Delete everything keyed by this user's hash, queued log rows included; return count."""
        user = self.user_hash(user_id)
        removed = await self._writer.discard(lambda row: row[3] == user)
        return removed + await self._write(partial(_scores.forget, user_hash=user))

    # -- statistics and maintenance -----------------------------------------------------------

    async def stats(
        self, since: datetime | None = None, guild_id: int | None = None, limit: int = 10
    ) -> Stats:
        async with self._reading() as conn:
            return await _usage.stats(conn, since, guild_id, limit)

    async def prune(self, before: datetime) -> int:
        """Delete query-log rows older than `before`, in short transactions; return count."""
        deleted = 0
        while True:
            chunk = await self._write(partial(_usage.prune_chunk, before=before))
            deleted += chunk
            if chunk < _usage.PRUNE_CHUNK:
                return deleted

    async def iter_queries(
        self, since: datetime | None = None, guild_id: int | None = None
    ) -> AsyncIterator[QueryRow]:
        """Every stored query-log row (oldest first), fetched a page at a time."""
        after = 0
        while True:
            async with self._reading() as conn:
                page = await _usage.query_page(conn, after, since, guild_id)
            for _, row in page:
                yield row
            if len(page) < _usage.EXPORT_PAGE:
                return
            after = page[-1][0]

    # -- helpers ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        self._check_open()
        async with self._lock:
            try:
                yield await self._usable_connection()
            except sqlite3.Error as exc:
                self._note_failure(exc)
                raise StorageError(f"database error: {exc}") from exc

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work(conn)` in one transaction; once more on a fresh connection if the first
        one turned out to be stuck read-only (it opened the file while it was read-only)."""
        self._check_open()
        async with self._lock:
            for attempt in (1, 2):
                try:
                    return await self._attempt(work)
                except sqlite3.Error as exc:
                    self._note_failure(exc)
                    if not (self._stale and attempt == 1):
                        raise StorageError(f"database error: {exc}") from exc
        raise AssertionError("unreachable")

    async def _attempt(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        conn = await self._usable_connection()
        await conn.execute("BEGIN IMMEDIATE")
        try:
            result = await work(conn)
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("ROLLBACK")
            raise
        return result

    def _note_failure(self, exc: sqlite3.Error) -> None:
        # A connection that opened a read-only file stays read-only after the file is fixed.
        if needs_reopen(exc) and self._writer.connection is not self._conn:
            self._stale = True

    async def _usable_connection(self) -> aiosqlite.Connection:
        """The main connection, replaced first if an earlier error said it may be stuck."""
        if self._stale:
            try:
                fresh = await connect(self.path, busy_timeout_ms=self._busy_timeout_ms)
            except StorageError as exc:
                raise sqlite3.OperationalError(str(exc)) from exc
            old, self._conn, self._stale = self._conn, fresh, False
            with contextlib.suppress(Exception):
                await old.close()
        return self._conn

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the storage is closed")


def _name(display_name: str) -> str:
    return clean(display_name, _scores.NAME_LIMIT, mark_cut=False) or "?"
