"""`Storage`: the one object the bot and the CLI use for everything kept in the database.

The interface is engine-neutral: callers see only the plain data of `_models` and two errors,
`StorageError` (nothing was changed) and its subclass `StorageBusy` (another writer held the
database past the busy timeout; try again later). What is the same for every engine lives here:
user hashing, the settings cache, the query-log queue, pruning and export loops, events. An
engine (`_sqlite.SqliteEngine` for a file, `_postgres.PostgresEngine` for a `postgresql://`
URL) owns connections and transactions, and brings its dialect: the SQL in one module per
concern, SQLite's (`_guilds`, `_daily`, `_scores`, `_review`, `_usage`, `_meta`, `_exams`,
`_reports`) beside PostgreSQL's (`_guilds_pg`, ...), each with the same functions. `Storage` is
also the `bot.review.ReviewStore`, the `bot.exam.ExamStore` and the `bot.reports.ReportStore`.

Guarantees every engine keeps:
- reads never wait for writes: a long write, or another process holding the write lock, delays
  writes only;
- each write method is one transaction: all of it or nothing, even when the caller is
  cancelled, and the storage stays usable afterwards;
- writes change only the columns they are about (no read-modify-write of whole rows);
- a write waits at most the busy timeout, then raises `StorageBusy`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from bot.config import is_postgres_url
from bot.deck import Deck
from bot.exam import ExamRecord
from bot.reports import MistakeReport
from bot.review import REMINDERS_EVENT, CardState, ReviewEntry, ReviewSettings, ReviewTotals
from bot.storage import _postgres, _scores
from bot.storage._dialect import Dialect
from bot.storage._events import Event, Handler
from bot.storage._models import (
    ClaimResult,
    DailyClaim,
    DailyDue,
    GuildSettings,
    QueryRecord,
    QueryRow,
    ScoreRow,
    SectionScore,
    Shards,
    Stats,
    StorageError,
    SyncClaim,
)
from bot.storage._querylog import LogSink, QueryLogWriter, build_row
from bot.storage._settings_cache import SettingsCache
from bot.storage._sqlite import DEFAULT_READERS, SqliteEngine
from bot.text import clean

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[Any], Awaitable[T]]  # called with the engine's connection


class Engine(Protocol):
    """What `Storage` needs of a database engine (`_sqlite.SqliteEngine`,
    `_postgres.PostgresEngine`). `work` is a coroutine function of one connection that runs
    the engine's SQL (from its `dialect`) for one concern."""

    path: str
    dialect: Dialect
    multiprocess: bool  # other processes use this database and hear its events

    async def read(self, work: Work[T]) -> T:
        """Run `work` on a connection that never waits for the write lock; raise
        `StorageError` for any database error."""

    async def write(self, work: Work[T]) -> T:
        """Run `work` in one transaction: all of it or nothing, also when cancelled (the
        engine is usable afterwards). Raise `StorageBusy` once the busy timeout has passed
        without the lock, `StorageError` for any other database error."""

    def log_sink(self) -> LogSink:
        """Where the query log writes its batches."""

    async def publish(self, event: Event) -> None:
        """Deliver `event` to every subscriber of every process that hears this engine."""

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler` with every event; returns the unsubscribe function."""

    async def listening(self, within: float | None = None) -> bool:
        """Wait until events published elsewhere reach this process."""

    async def close(self) -> None: ...


HASH_HEX = 32  # 128 bits of HMAC-SHA256: no collisions among any realistic number of users
_HASH_CACHE_LIMIT = 10_000


class Storage:
    """The database: query log, server settings, the daily-post queue, fact decks, quiz scores,
    and each member's spaced-repetition review (it is the `bot.review.ReviewStore`).

    Open with `await Storage.open(path)`; close with `await storage.close()`, which writes the
    queued query-log rows first. Every method but `log()` and `user_hash()` may raise
    `StorageError` (reads and writes) or `StorageBusy` (writes).
    """

    def __init__(
        self,
        engine: Engine,
        writer: QueryLogWriter,
        salt: str,
        close_timeout: float,
        settings_cache: SettingsCache,
    ) -> None:
        self.path = engine.path
        self._engine = engine
        self._sql = engine.dialect
        self._writer = writer
        self._key = bytes.fromhex(salt)
        self._close_timeout = close_timeout
        self._hashes: dict[int, str] = {}
        self._rejected = 0
        self._closed = False
        self.settings_cache = settings_cache

    @classmethod
    async def open(
        cls,
        location: str | os.PathLike[str],
        *,
        log_batch_size: int = 5000,
        log_interval: float = 1.0,
        log_cap: int = 100_000,
        log_backoff_max: float = 5.0,
        close_timeout: float = 10.0,
        busy_timeout_ms: int = 5000,
        readers: int = DEFAULT_READERS,
        settings_ttl: float = 60.0,
    ) -> Storage:
        """Open (creating if needed) and migrate the database, and start the query-log writer.

        `location` is a SQLite file (`":memory:"` for tests) or a `postgresql://` URL. The
        query log writes through its own connection, so a writer waiting out a locked database
        never holds up settings or scores; reads have `readers` connections of their own. In
        SQLite, `":memory:"` uses one connection for everything, since each connection would
        see its own empty database.
        """
        where = os.fspath(location)
        engine: Engine
        if is_postgres_url(where):
            engine = await _postgres.PostgresEngine.open(
                where, busy_timeout_ms=busy_timeout_ms, readers=readers
            )
        else:
            engine = await SqliteEngine.open(
                where, busy_timeout_ms=busy_timeout_ms, readers=readers
            )
        try:
            salt = await engine.read(engine.dialect.meta.read_salt)
            if salt is None:
                raise StorageError(
                    f"database {engine.path} has no salt; it was not made by peacebot"
                )
            sink = engine.log_sink()
            await sink.start()
        except BaseException:
            await engine.close()
            raise
        writer = QueryLogWriter(
            sink,
            batch_size=log_batch_size,
            interval=log_interval,
            cap=log_cap,
            backoff_max=log_backoff_max,
        )
        cache = SettingsCache(ttl=settings_ttl)
        return cls(engine, writer, salt, close_timeout, cache)

    async def close(self) -> None:
        """Write the queued query-log rows (waiting up to `close_timeout`), then close."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close(self._close_timeout)
        finally:
            try:
                await self._writer.sink.close()
            finally:
                await self._engine.close()

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

    # -- server settings ----------------------------------------------------------------------

    async def get_settings(self, guild_id: int) -> GuildSettings:
        """The server's settings (defaults when none are saved), from the cache when it can."""
        cached = self.settings_cache.get(guild_id)
        if cached is not None:
            return cached
        snapshot = self.settings_cache.snapshot(guild_id)
        settings = await self._read(partial(self._sql.guilds.get_settings, guild_id=guild_id))
        self.settings_cache.put(settings, snapshot)
        return settings

    async def enable_daily(
        self,
        guild_id: int,
        *,
        channel_id: int,
        daily_time: str,
        timezone: str,
        discussion: bool,
        next_at: datetime | None,
    ) -> None:
        """Daily posts on, in `channel_id` at `daily_time` in `timezone`, the problem cleared,
        the scheduler to look again at `next_at`. The first date still to post is kept, so
        setting the schedule again never brings a second post for one date."""
        await self._write_settings(
            (guild_id,),
            partial(
                self._sql.guilds.enable_daily,
                guild_id=guild_id,
                channel_id=channel_id,
                daily_time=daily_time,
                timezone=timezone,
                discussion=discussion,
                next_at=next_at,
            ),
        )
        await self._tell_schedulers(guild_id)

    async def disable_daily(self, guild_id: int) -> None:
        """Daily posts off and out of the queue, the problem cleared; nothing else changes."""
        await self._write_settings(
            (guild_id,), partial(self._sql.guilds.disable_daily, guild_id=guild_id)
        )

    async def set_daily_problem(
        self, guild_id: int, problem: str | None, *, local_date: date | None = None
    ) -> None:
        """Store (None: clear) the problem `/daily status` shows; with `local_date`, also on
        that day's claim. Only that column changes: posts stay on or off as they are."""
        work = partial(
            self._sql.guilds.set_daily_problem,
            guild_id=guild_id,
            problem=problem,
            local_date=local_date,
        )
        await self._write_settings((guild_id,), work)

    async def reschedule_daily(self, changes: Mapping[int, datetime | None]) -> None:
        """Move servers' next look-in times (None: out of the queue), in one transaction; a
        server whose posts are off meanwhile is left alone."""
        work = partial(self._sql.guilds.reschedule_daily, changes=dict(changes))
        await self._write_settings(changes, work)

    def forget_cached(self, guild_id: int) -> None:
        """Drop what is held in memory for a server (it removed the bot)."""
        self.settings_cache.invalidate(guild_id)

    # -- the daily-post queue and the fact decks ----------------------------------------------

    async def due_daily_posts(
        self, now: datetime, limit: int = 500, shards: Shards | None = None
    ) -> list[DailyDue]:
        """Servers (of `shards`; None: every server) whose next look-in time is at or before
        `now`, earliest first, at most `limit`, each with its stored deck. Reads only those
        rows (an index range; the shard filter is checked in the index)."""
        work = partial(self._sql.daily.due, now=now, limit=limit, shards=shards)
        return await self._read(work)

    async def next_daily_due(self, shards: Shards | None = None) -> datetime | None:
        """The earliest look-in time of any server of `shards` (None: no server posts)."""
        return await self._read(partial(self._sql.daily.next_due, shards=shards))

    async def claim_daily_posts(
        self, claims: Sequence[DailyClaim], now: datetime
    ) -> list[ClaimResult]:
        """Claim posts before they are sent, in one transaction; one result per claim.

        CLAIMED: the claim row (server, local date) is new and the deck and the queue moved on
        with it: the caller sends the post (at most once: a crash after this loses the post,
        never repeats it). ALREADY_CLAIMED: that date was claimed before (here or by another
        process). CHANGED: posts were switched off, moved to another channel, or the deck
        changed since the caller read them; nothing was written, read again.
        """
        if not claims:
            return []
        work = partial(self._sql.daily.claim, claims=list(claims), now=now)
        return await self._write_settings([claim.guild_id for claim in claims], work)

    async def last_daily_claim(self, guild_id: int) -> date | None:
        """The latest local date a daily post was claimed for (None: never)."""
        return await self._read(partial(self._sql.daily.last_claim, guild_id=guild_id))

    async def get_deck(self, guild_id: int) -> Deck | None:
        """The server's fact deck as stored (None: never drawn from)."""
        return await self._read(partial(self._sql.daily.get_deck, guild_id=guild_id))

    async def save_deck(self, guild_id: int, before: Deck | None, after: Deck) -> bool:
        """Store `after` if the stored deck is still `before` (None: no deck yet); False when
        someone else changed it first (read again and redraw)."""
        work = partial(self._sql.daily.save_deck, guild_id=guild_id, before=before, after=after)
        return await self._write(work)

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
        work = partial(
            self._sql.scores.save_answer,
            guild_id=guild_id,
            user_hash=self.user_hash(user_id),
            display_name=_name(display_name),
            question_id=question_id,
            section_id=section_id,
            correct=correct,
            local_date=local_date,
        )
        await self._write(work)

    async def record_activity(
        self, guild_id: int, user_id: int, display_name: str, local_date: date
    ) -> None:
        """A day of study (a post in a discussion thread) for streaks."""
        work = partial(
            self._sql.scores.save_activity,
            guild_id=guild_id,
            user_hash=self.user_hash(user_id),
            display_name=_name(display_name),
            local_date=local_date,
        )
        await self._write(work)

    async def leaderboard(
        self,
        guild_id: int,
        section: str | None = None,
        since: date | None = None,
        limit: int = 10,
    ) -> list[ScoreRow]:
        """The server's best: most correct answers, then fewer attempts, then name."""
        work = partial(
            self._sql.scores.leaderboard,
            guild_id=guild_id,
            section=section,
            since=since,
            limit=limit,
        )
        return await self._read(work)

    async def progress(self, guild_id: int, user_id: int) -> list[SectionScore]:
        """A member's answers and correct answers per section, by section id."""
        user = self.user_hash(user_id)
        return await self._read(
            partial(self._sql.scores.progress, guild_id=guild_id, user_hash=user)
        )

    async def activity_dates(self, guild_id: int, user_id: int) -> list[date]:
        """A member's days of study, oldest first."""
        user = self.user_hash(user_id)
        return await self._read(
            partial(self._sql.scores.activity_dates, guild_id=guild_id, user_hash=user)
        )

    async def activity_dates_of(
        self, guild_id: int, user_hashes: list[str]
    ) -> dict[str, list[date]]:
        """Activity days by user hash, for leaderboard rows (which carry only the hash)."""
        work = partial(
            self._sql.scores.activity_dates_of, guild_id=guild_id, user_hashes=list(user_hashes)
        )
        return await self._read(work)

    async def answers_per_day(self, guild_id: int, user_id: int, since: date) -> dict[date, int]:
        """A member's quiz answers per local day from `since` on (the activity calendar)."""
        user = self.user_hash(user_id)
        work = partial(
            self._sql.scores.answers_per_day, guild_id=guild_id, user_hash=user, since=since
        )
        return await self._read(work)

    async def forget_user(self, user_id: int) -> int:
        """Delete everything keyed by this user's hash (scores, activity, review cards, log and
        settings, exams, reports of mistakes), queued log rows included, in one transaction;
        return count."""
        user = self.user_hash(user_id)
        removed = await self._writer.discard(lambda row: row[3] == user)
        return removed + await self._write(partial(self._forget, user_hash=user))

    async def _forget(self, conn: Any, user_hash: str) -> int:
        """Every table keyed by the user's hash, in the one transaction of `forget_user`."""
        deleted = 0
        for concern in (self._sql.scores, self._sql.review, self._sql.exams, self._sql.reports):
            deleted += await concern.forget(conn, user_hash=user_hash)
        return deleted

    # -- spaced-repetition review (the `bot.review.ReviewStore` protocol) ---------------------

    async def card_states(self, user_hash: str) -> list[CardState]:
        """Every FSRS card state of the member."""
        return await self._read(partial(self._sql.review.card_states, user_hash=user_hash))

    async def due_card_ids(self, user_hash: str, now: datetime) -> list[str]:
        """Ids of the member's cards due at `now` (an index range; no state is parsed)."""
        return await self._read(
            partial(self._sql.review.due_card_ids, user_hash=user_hash, now=now)
        )

    async def save_review(self, state: CardState, entry: ReviewEntry) -> None:
        """A rating: the card's new state and its log entry, both or neither."""
        await self._write(partial(self._sql.review.save_review, state=state, entry=entry))

    async def review_totals(self, user_hash: str) -> ReviewTotals:
        """Ratings, ratings of mature cards, and those rated Good or Easy, over the whole log."""
        return await self._read(partial(self._sql.review.review_totals, user_hash=user_hash))

    async def review_days(self, user_hash: str, since: date) -> dict[date, int]:
        """Ratings per local date from `since` on."""
        return await self._read(
            partial(self._sql.review.review_days, user_hash=user_hash, since=since)
        )

    async def new_cards_on(self, user_hash: str, local_date: date) -> int:
        """Cards first rated on `local_date` (what the new-card limit counts)."""
        work = partial(self._sql.review.new_cards_on, user_hash=user_hash, local_date=local_date)
        return await self._read(work)

    async def review_settings(self, user_hash: str) -> ReviewSettings:
        """The member's review settings (the defaults without a row)."""
        return await self._read(partial(self._sql.review.review_settings, user_hash=user_hash))

    async def set_new_per_day(self, user_hash: str, limit: int) -> None:
        await self._write(
            partial(self._sql.review.set_new_per_day, user_hash=user_hash, limit=limit)
        )

    async def set_review_timezone(
        self, user_hash: str, timezone: str, next_at: datetime | None
    ) -> None:
        """The zone and, while reminders are on, the reminder's next time, in one statement (the
        process that runs the reminders hears of a new time)."""
        work = partial(self._sql.review.set_timezone, user_hash=user_hash, timezone=timezone)
        await self._write(partial(work, next_at=next_at))
        if next_at is not None:
            await self._tell_reminders()

    async def set_reminder(
        self, user_hash: str, *, dm_user_id: int, remind_time: str, next_at: datetime
    ) -> None:
        """Reminders on, by direct message to `dm_user_id`, next at `next_at`; the process that
        runs the reminders hears of it."""
        work = partial(
            self._sql.review.set_reminder,
            user_hash=user_hash,
            dm_user_id=dm_user_id,
            remind_time=remind_time,
            next_at=next_at,
        )
        await self._write(work)
        await self._tell_reminders()

    async def clear_reminder(self, user_hash: str, notice: str | None = None) -> None:
        """Reminders off (the Discord id is dropped); `notice` says why, once, later."""
        await self._write(
            partial(self._sql.review.clear_reminder, user_hash=user_hash, notice=notice)
        )

    async def move_reminder(self, user_hash: str, next_at: datetime) -> None:
        """Only the reminder's next time, while reminders are on."""
        await self._write(
            partial(self._sql.review.move_reminder, user_hash=user_hash, next_at=next_at)
        )

    async def dismiss_reminder_notice(self, user_hash: str, notice: str) -> bool:
        """Clear the notice if it is still `notice`; True for the one caller that cleared it."""
        work = partial(self._sql.review.dismiss_notice, user_hash=user_hash, notice=notice)
        return await self._write(work)

    async def due_reminders(self, now: datetime, limit: int = 500) -> list[ReviewSettings]:
        """Members whose reminder time has come, earliest first (an index range)."""
        return await self._read(partial(self._sql.review.due_reminders, now=now, limit=limit))

    async def next_reminder_at(self) -> datetime | None:
        """The earliest reminder time of anyone (None: nobody has reminders on)."""
        return await self._read(self._sql.review.next_reminder_at)

    async def claim_reminder(self, user_hash: str, local_date: date, next_at: datetime) -> bool:
        """Claim the member's reminder for `local_date` before sending it (at most once, across
        processes: a claim row per member and date); True for the one caller that won."""
        work = partial(
            self._sql.review.claim_reminder,
            user_hash=user_hash,
            local_date=local_date,
            next_at=next_at,
            now=datetime.now(UTC),  # recorded only, never compared
        )
        return await self._write(work)

    async def forget_reviews(self, user_hash: str) -> int:
        """Delete the member's review cards, log, settings and claims; return count."""
        return await self._write(partial(self._sql.review.forget, user_hash=user_hash))

    # -- exams (bot.exam.ExamStore) -----------------------------------------------------------

    async def save_exam(self, record: ExamRecord) -> None:
        """Append one finished exam."""
        await self._write(partial(self._sql.exams.save, record=record))

    async def exam_history(
        self, user_hash: str, section: str | None, limit: int
    ) -> list[ExamRecord]:
        """The member's latest exams, newest first: of one section, or (None) of all exams."""
        work = partial(self._sql.exams.history, user_hash=user_hash, section=section, limit=limit)
        return await self._read(work)

    async def forget_exams(self, user_hash: str) -> int:
        """Delete the member's exams (`forget_user` does this too); return how many."""
        return await self._write(partial(self._sql.exams.forget, user_hash=user_hash))

    # -- reports of mistakes (bot.reports.ReportStore) ----------------------------------------

    async def add_report(self, report: MistakeReport) -> bool:
        """Store the report; False (nothing stored) if the member already reported this entry
        on that UTC day."""
        return await self._write(partial(self._sql.reports.add, report=report))

    async def mistake_reports(self, since: datetime | None = None) -> list[MistakeReport]:
        """Reports at or after `since`, oldest first."""
        return await self._read(partial(self._sql.reports.listed, since=since))

    async def count_reports(self, since: datetime | None = None) -> int:
        return await self._read(partial(self._sql.reports.count, since=since))

    async def forget_reports(self, user_hash: str) -> int:
        """Delete the member's reports (`forget_user` does this too); return how many."""
        return await self._write(partial(self._sql.reports.forget, user_hash=user_hash))

    async def report_channel(self, guild_id: int) -> int | None:
        """The server's moderators' channel for reports, if set."""
        return await self._read(partial(self._sql.reports.channel, guild_id=guild_id))

    async def set_report_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Set (None: clear) only that column of the server's settings."""
        await self._write(
            partial(self._sql.reports.set_channel, guild_id=guild_id, channel_id=channel_id)
        )

    # -- statistics and maintenance -----------------------------------------------------------

    async def stats(
        self, since: datetime | None = None, guild_id: int | None = None, limit: int = 10
    ) -> Stats:
        """Usage of the query log for one server or all (None), since a time or all time, with
        the reports of mistakes counted in the same scope (one read)."""

        async def work(conn: Any) -> Stats:
            usage = await self._sql.usage.stats(conn, since=since, guild_id=guild_id, limit=limit)
            reports = await self._sql.reports.count(conn, since=since, guild_id=guild_id)
            return replace(usage, reports=reports)

        return await self._read(work)

    async def prune(self, before: datetime) -> int:
        """Delete query-log rows older than `before`, in short transactions; return count."""
        deleted = 0
        while True:
            chunk = await self._write(partial(self._sql.usage.prune_chunk, before=before))
            deleted += chunk
            if chunk < self._sql.usage.PRUNE_CHUNK:
                return deleted

    async def iter_queries(
        self, since: datetime | None = None, guild_id: int | None = None
    ) -> AsyncIterator[QueryRow]:
        """Every stored query-log row (oldest first), fetched a page at a time."""
        after: tuple[Any, int] | None = None
        while True:
            work = partial(self._sql.usage.query_page, after=after, since=since, guild_id=guild_id)
            page = await self._read(work)
            for _, row in page:
                yield row
            if len(page) < self._sql.usage.EXPORT_PAGE:
                return
            after = page[-1][0]

    # -- the command tree synced to Discord ---------------------------------------------------

    async def claim_command_sync(self, scope: str, digest: str) -> SyncClaim:
        """Record that the command tree with `digest` is being synced to `scope` ("global" or
        a server id), unless that digest is recorded already. Atomic: of several processes
        claiming one digest at once, exactly one gets `claimed`."""
        work = partial(self._sql.meta.claim_sync, key=f"commands:{scope}", digest=digest)
        return await self._write(work)

    async def undo_command_sync(self, scope: str, digest: str, previous: str | None) -> None:
        """The sync claimed with `digest` failed: record `previous` again, so a later start
        tries once more (unless someone recorded another digest meanwhile)."""
        work = partial(
            self._sql.meta.undo_sync, key=f"commands:{scope}", digest=digest, previous=previous
        )
        await self._write(work)

    # -- events between the processes that share the database --------------------------------

    @property
    def multiprocess(self) -> bool:
        """Whether other processes serve from this database and hear its events (PostgreSQL);
        with SQLite every event stays in this process."""
        return self._engine.multiprocess

    async def publish(self, kind: str, **data: Any) -> None:
        """Send an event (a few short JSON values) to every process, this one included."""
        self._check_open()
        await self._engine.publish({"kind": kind, **data})

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler(event)` for every event (on the event loop: it must not block);
        returns the unsubscribe function."""
        self._check_open()
        return self._engine.subscribe(handler)

    async def listening(self, within: float | None = None) -> bool:
        """Wait until events sent by other processes reach this one (False: not in time)."""
        return await self._engine.listening(within)

    async def _tell_schedulers(self, guild_id: int) -> None:
        """A server's daily schedule changed: the process serving it looks at its queue."""
        await self._announce({"kind": "daily", "guild": guild_id}, f"schedule of server {guild_id}")

    async def _tell_reminders(self) -> None:
        """A member's review reminder moved: the process running the reminders looks again."""
        await self._announce({"kind": REMINDERS_EVENT}, "time of a review reminder")

    async def _announce(self, event: Event, what: str) -> None:
        try:
            await self._engine.publish(event)
        except StorageError as exc:  # the change is saved; its process finds it within a while
            log.warning("could not announce the new %s: %s", what, exc)

    # -- helpers ------------------------------------------------------------------------------

    async def _read(self, work: Work[T]) -> T:
        self._check_open()
        return await self._engine.read(work)

    async def _write(self, work: Work[T]) -> T:
        self._check_open()
        return await self._engine.write(work)

    async def _write_settings(self, guild_ids: Iterable[int], work: Work[T]) -> T:
        """A write that changes these servers' settings rows; their cached settings are
        dropped afterwards, also when it fails (a failed write may have committed)."""
        try:
            return await self._write(work)
        finally:
            for guild_id in guild_ids:
                self.settings_cache.invalidate(guild_id)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the storage is closed")


def _name(display_name: str) -> str:
    return clean(display_name, _scores.NAME_LIMIT, mark_cut=False) or "?"
