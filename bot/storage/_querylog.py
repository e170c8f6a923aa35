"""The query log writer: `submit()` only appends to memory; one task writes rows in batches.

Rows are built (cleaned, hashed, timestamped) by the caller before they are queued, so the
writer's thread only binds ready tuples, and the memory a queued row takes is known. The writer
knows no SQL: a `LogSink` of the engine writes each batch in one transaction. If the
database cannot be written (locked, read-only, disk full) the writer keeps the rows, waits with
a capped exponential back-off and tries again; only past `cap` queued rows does it drop the
oldest, counting them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.storage._models import QueryRecord
from bot.text import clean

log = logging.getLogger(__name__)

QUERY_LIMIT = 200
_INT64 = (-(2**63), 2**63 - 1)

INSERT = (
    "INSERT INTO query_log (at, guild_id, channel_id, user_hash, command, query, matched_id, "
    "outcome, score, failed, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows per INSERT statement: 90 x 11 = 990 parameters, under the 999 that SQLite builds before
# 3.32 allow.
ROWS_PER_STATEMENT = 90


@functools.cache
def insert_rows(count: int) -> str:
    """One INSERT of `count` rows: more placeholder groups, never values, so still parameterised."""
    return INSERT + ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" * (count - 1)


# (at, guild_id, channel_id, user_hash, command, query, matched_id, outcome, score, failed, ms)
Row = tuple[
    str, int | None, int | None, str | None, str, str, str | None, str, float | None, int,
    float | None,
]  # fmt: skip


def format_at(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC, so text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_at(text: str) -> datetime:
    """The aware UTC datetime of a `format_at` text."""
    return datetime.fromisoformat(text).astimezone(UTC)


class _Clock:
    """`format_at(now)` at a fraction of the cost: the text up to the second changes once a
    second, so it is kept; log() is on every lookup's path."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        moment = time.time()
        second = int(moment)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((moment - second) * 1000):03d}Z"


_clock = _Clock()


def _id(value: object) -> int | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if _INT64[0] <= value <= _INT64[1] else None


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def build_row(record: QueryRecord, user_hash: Callable[[int], str]) -> Row:
    user_id = _id(record.user_id)
    matched = record.matched_id
    return (
        format_at(record.at) if record.at is not None else _clock.now(),
        _id(record.guild_id),
        _id(record.channel_id),
        user_hash(user_id) if user_id is not None else None,
        clean(record.command, 64, mark_cut=False),
        clean(record.query, QUERY_LIMIT, mark_cut=False),
        clean(matched, 200, mark_cut=False) if matched is not None else None,
        clean(record.outcome, 32, mark_cut=False),
        _number(record.score),
        1 if record.failed else 0,
        _number(record.duration_ms),
    )


class LogSink(Protocol):
    """Where batches go (one per engine)."""

    async def start(self) -> None:
        """Get ready to write (e.g. open a connection of its own)."""

    async def close(self) -> None: ...

    async def write(self, rows: list[Row]) -> None:
        """Write every row in one transaction, or none of them (and raise)."""

    def is_bad_data(self, exc: BaseException) -> bool:
        """True when the rows themselves cannot be stored; retrying would fail forever."""

    async def recover(self, exc: BaseException) -> None:
        """After a failed write: whatever helps the next try (e.g. reopen the connection)."""


class QueryLogWriter:
    """Owns the in-memory queue and the background task that drains it into `sink`.

    Each queued row carries a sequence number, so `flush()` can tell when every row accepted
    before it has been written, dropped or discarded, whatever order those happened in.
    """

    DROP_REPORT_EVERY = 60.0  # seconds between warnings while rows are being dropped

    def __init__(
        self,
        sink: LogSink,
        *,
        batch_size: int = 5000,
        interval: float = 1.0,
        cap: int = 100_000,
        backoff_start: float = 0.05,
        backoff_max: float = 5.0,
    ) -> None:
        self.sink = sink
        self._lock = asyncio.Lock()  # held while a batch is written, so discard() sees no gap
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.cap = max(self.batch_size, cap)
        self._backoff_start = backoff_start
        self._backoff_max = backoff_max
        self._queue: deque[tuple[int, Row]] = deque()
        self._inflight: int | None = None  # sequence number of the first row being written
        self._inflight_count = 0
        self._next_seq = 0
        self.written = 0
        self.dropped = 0
        self._dropped_reported = 0
        self._last_drop_report = -math.inf
        self._failures = 0
        self._wake = asyncio.Event()  # a batch is full, or someone waits
        self._retry_now = asyncio.Event()  # cut a back-off short: flush() or close() asked
        self._urgent = False
        self._waiters: list[tuple[int, asyncio.Future[bool]]] = []
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        self._task = self._loop.create_task(self._run(), name="peacebot-querylog")

    # -- called by the bot --------------------------------------------------------------------

    def submit(self, row: Row) -> None:
        """Queue one row. Never blocks, never touches the database."""
        if threading.get_ident() != self._loop_thread:
            # A console or test thread logging: all queue state is changed on the loop only.
            self._loop.call_soon_threadsafe(self.submit, row)
            return
        if self._task.done():  # closed: nothing will ever write it
            self.dropped += 1
            return
        if len(self._queue) >= self.cap:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((self._next_seq, row))
        self._next_seq += 1
        if len(self._queue) >= self.batch_size and not self._wake.is_set():
            self._wake.set()

    @property
    def pending(self) -> int:
        """Rows accepted but not yet written (queued or in the batch being written)."""
        return len(self._queue) + self._inflight_count

    async def flush(self, max_wait: float | None = None) -> bool:
        """Wait until every row queued before the call is written (or dropped); False on timeout."""
        target = self._next_seq
        if self._done_below() >= target:
            return True
        if self._task.done():
            return False
        waiter = self._loop.create_future()
        self._waiters.append((target, waiter))
        self._hurry()
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), max_wait)
        except TimeoutError:
            return False

    async def close(self, max_wait: float) -> None:
        """Write what is queued (waiting out a busy database up to `max_wait` s), then stop."""
        if self._task.done():
            return
        self._closing = True
        self._hurry()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), max_wait)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            log.error(
                "query log: the database stayed unavailable for %.0f s at shutdown; "
                "%d queued rows were not written",
                max_wait,
                len(self._queue),
            )
        self._report_drops(force=True)
        for target, waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(self._done_below() >= target)

    async def discard(self, predicate: Callable[[Row], bool]) -> int:
        """Remove matching queued rows; waits for a batch being written so none slips past."""
        async with self._lock:
            kept = deque(item for item in self._queue if not predicate(item[1]))
            removed = len(self._queue) - len(kept)
            self._queue = kept
        self._wake_waiters()
        return removed

    # -- the background task ------------------------------------------------------------------

    def _hurry(self) -> None:
        self._urgent = True
        self._wake.set()
        self._retry_now.set()

    def _done_below(self) -> int:
        """Every row with a smaller sequence number is written, dropped or discarded."""
        if self._inflight is not None:
            return self._inflight
        return self._queue[0][0] if self._queue else self._next_seq

    async def _run(self) -> None:
        while True:
            if not (self._closing or self._urgent):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            self._retry_now.clear()
            self._urgent = False
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not stop the log for good
                log.exception("query log: unexpected error in the writer")
                await asyncio.sleep(self._backoff_max)
            self._report_drops()
            if self._closing and not self._queue:
                return

    async def _drain(self) -> None:
        while self._queue:
            count = min(self.batch_size, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            self._inflight, self._inflight_count = batch[0][0], count
            try:
                async with self._lock:
                    await self.sink.write([row for _, row in batch])
            except asyncio.CancelledError:
                self._requeue(batch)
                raise
            except Exception as exc:
                if self.sink.is_bad_data(exc):
                    await self._write_one_by_one(batch)
                else:
                    self._requeue(batch)
                    await self._back_off(exc)
                continue
            finally:
                self._inflight, self._inflight_count = None, 0
            self.written += count
            if self._failures:
                log.warning("query log: the database is writable again; held rows written")
                self._failures = 0
            self._wake_waiters()
            await asyncio.sleep(0)  # let lookups run between batches

    async def _write_one_by_one(self, batch: list[tuple[int, Row]]) -> None:
        # A row the database refuses (should not happen: rows are checked when built) is
        # dropped so it cannot block the rows behind it forever.
        for index, (seq, row) in enumerate(batch):
            self._inflight, self._inflight_count = seq, len(batch) - index
            try:
                async with self._lock:
                    await self.sink.write([row])
            except Exception as exc:
                if not self.sink.is_bad_data(exc):
                    self._requeue(batch[index:])
                    await self._back_off(exc)
                    return
                log.warning("query log: dropped a row the database refused: %s", exc)
                self.dropped += 1
            else:
                self.written += 1
        self._inflight, self._inflight_count = None, 0
        self._wake_waiters()

    def _requeue(self, batch: list[tuple[int, Row]]) -> None:
        self._inflight, self._inflight_count = None, 0
        self._queue.extendleft(reversed(batch))
        while len(self._queue) > self.cap:
            self._queue.popleft()
            self.dropped += 1
        self._wake_waiters()

    async def _back_off(self, exc: BaseException) -> None:
        self._failures += 1
        if self._failures == 1:
            log.warning(
                "query log: cannot write to the database (%s); holding %d rows and retrying",
                exc,
                len(self._queue),
            )
        self._report_drops()
        delay = min(self._backoff_start * 2 ** (self._failures - 1), self._backoff_max)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._retry_now.wait(), delay)
        self._retry_now.clear()
        await self.sink.recover(exc)

    def _wake_waiters(self) -> None:
        done_below = self._done_below()
        still = []
        for target, waiter in self._waiters:
            if waiter.done():
                continue
            if done_below >= target:
                waiter.set_result(True)
            else:
                still.append((target, waiter))
        self._waiters = still

    def _report_drops(self, force: bool = False) -> None:
        if self.dropped == self._dropped_reported:
            return
        now = self._loop.time()
        if not force and now - self._last_drop_report < self.DROP_REPORT_EVERY:
            return
        log.warning(
            "query log: dropped %d rows (%d in total): more than %d were waiting to be written",
            self.dropped - self._dropped_reported,
            self.dropped,
            self.cap,
        )
        self._dropped_reported = self.dropped
        self._last_drop_report = now
