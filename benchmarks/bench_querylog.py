"""Query-log benchmark: the batching writer against a naive one-INSERT-and-commit-per-row writer.

    python benchmarks/bench_querylog.py [--rows 100000] [--naive-rows 20000] [--bursts 10]

Measures, for each writer, in the same run and on the same kind of database file (WAL,
synchronous=NORMAL, the connection settings `Storage` uses):

- sustained insert rate: a producer logs rows as fast as it can, yielding to the loop every
  100 rows (like a bot serving requests), until every row is committed;
- the longest event-loop stall while a burst of 10,000 lookups is logged: a ticker task asks to
  wake every 1 ms and records how late each wake-up is (asyncio rounds timer waits up to whole
  milliseconds, so about 1 ms of lateness is the yardstick itself). The burst arrives as 10
  lookups per loop iteration. Two reference rows: "queue only" calls `Storage.log()` with the
  writer idle (the cost of log() itself), "no logging" is the burst alone.

Two things pause the loop that the query log does not cause and cannot avoid: on a machine
shared with other jobs the OS takes the CPU away for a few milliseconds now and then (seen as
involuntary context switches, getrusage(RUSAGE_THREAD).ru_nivcsw), and a full garbage
collection stops the whole process for as long as it takes to scan every object (a few ms
here; longer in a bot with discord.py loaded). A second stall column leaves out the ticks
during which either happened; it is the stall the writer itself causes.

Prints a markdown table. Targets (issue 4): >= 50,000 rows/s and <= 5 ms stall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

try:
    import resource

    _RUSAGE_THREAD: int | None = resource.RUSAGE_THREAD  # Linux
except (ImportError, AttributeError):
    _RUSAGE_THREAD = None

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.storage import QueryRecord, Storage
from bot.storage._connection import connect
from bot.storage._migrations import migrate
from bot.storage._querylog import INSERT, build_row

BURST = 10_000
PER_ITERATION = 10  # lookups handled per loop iteration during a burst
TICK = 0.001


def record(i: int) -> QueryRecord:
    return QueryRecord(
        guild_id=111111111111111111,
        channel_id=222222222222222222,
        user_id=300000000000000000 + i % 500,
        command=("define", "section", "search", "autocomplete")[i % 4],
        query=f"peace enforcement mandate {i % 1000}",
        matched_id=f"entry-{i % 300}" if i % 7 else None,
        outcome="exact" if i % 7 else "none",
        score=97.5,
        failed=False,
        duration_ms=0.8,
    )


def _preemptions() -> int:
    """Times the OS took the CPU away from this thread (involuntary context switches)."""
    if _RUSAGE_THREAD is None:
        return 0
    return resource.getrusage(_RUSAGE_THREAD).ru_nivcsw


class FullCollections:
    """Records when the garbage collector runs a full (generation 2) collection."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.spans.append((self._started, time.perf_counter()))

    def during(self, begin: float, end: float) -> bool:
        return any(start < end and stop > begin for start, stop in self.spans)


class Ticker:
    """Wakes every TICK seconds and records how late each wake-up is: how long the loop was
    busy with something else. Each tick also notes whether the OS took the CPU away from the
    loop's thread meanwhile (other programs on a shared machine)."""

    def __init__(self) -> None:
        self.ticks: list[tuple[float, float, float, bool]] = []  # asked, woke, late, preempted
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            asked, switches = time.perf_counter(), _preemptions()
            await asyncio.sleep(TICK)
            woke = time.perf_counter()
            self.ticks.append((asked, woke, woke - asked - TICK, _preemptions() != switches))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


# -- the two writers, behind one interface --------------------------------------------------------


class Batched:
    name = "batched writer (peacebot `Storage.log`)"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def start(self) -> None:
        self.storage = await Storage.open(self.path)

    def log(self, rec: QueryRecord) -> None:
        self.storage.log(rec)

    async def drain(self) -> None:
        assert await self.storage.flush(max_wait=None)

    async def close(self) -> None:
        await self.storage.close()


class Naive:
    """Each lookup awaits its own INSERT in autocommit mode: one statement, one commit."""

    name = "naive: one INSERT + commit per row"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.conn = await connect(str(self.path), busy_timeout_ms=5000)
        await migrate(self.conn)
        self.hash = {}

    def _hash(self, user_id: int) -> str:
        return self.hash.setdefault(user_id, f"{user_id:x}")

    async def _write(self, rec: QueryRecord) -> None:
        await self.conn.execute(INSERT, build_row(rec, self._hash))

    def log(self, rec: QueryRecord) -> None:
        # Like a handler that does `await db.execute(...)`: a task per lookup.
        task = asyncio.get_running_loop().create_task(self._write(rec))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    async def close(self) -> None:
        await self.conn.close()


class QueueOnly(Batched):
    name = "queue only: `Storage.log()` with the writer idle"

    async def start(self) -> None:
        self.storage = await Storage.open(
            self.path, log_interval=3600, log_batch_size=10**6, log_cap=10**6
        )


class NoLogging:
    name = "no logging (the burst alone)"

    def __init__(self, path: Path) -> None:
        pass

    async def start(self) -> None:
        pass

    def log(self, rec: QueryRecord) -> None:
        pass

    async def drain(self) -> None:
        pass

    async def close(self) -> None:
        pass


# -- measurements ---------------------------------------------------------------------------------


async def produce(writer, rows: int, per_iteration: int) -> None:
    for start in range(0, rows, per_iteration):
        for i in range(start, min(start + per_iteration, rows)):
            writer.log(record(i))
        await asyncio.sleep(0)


async def sustained_rate(make: Callable[[Path], object], directory: Path, rows: int) -> float:
    writer = make(directory / f"rate-{make.__name__}.sqlite3")
    await writer.start()
    began = time.perf_counter()
    await produce(writer, rows, 100)
    await writer.drain()
    elapsed = time.perf_counter() - began
    await writer.close()
    return rows / elapsed


async def burst_stall(make: Callable[[Path], object], directory: Path, run: int) -> Burst:
    writer = make(directory / f"burst-{make.__name__}-{run}.sqlite3")
    await writer.start()
    ticker, full_gc = Ticker(), FullCollections()
    ticker.start()
    await asyncio.sleep(0.05)  # settle
    ticker.ticks.clear()
    gc.callbacks.append(full_gc)
    began = time.perf_counter()
    try:
        await produce(writer, BURST, PER_ITERATION)
        answered = time.perf_counter() - began  # every lookup handled (and logged or queued)
        await writer.drain()
        durable = time.perf_counter() - began
        await asyncio.sleep(0.01)
    finally:
        gc.callbacks.remove(full_gc)
    await ticker.stop()
    await writer.close()
    own = [
        late
        for asked, woke, late, preempted in ticker.ticks
        if not preempted and not full_gc.during(asked, woke)
    ]
    return Burst(
        worst=max(late for _, _, late, _ in ticker.ticks),
        worst_own=max(own, default=0.0),
        full_collections=len(full_gc.spans),
        answered=answered,
        durable=durable,
    )


@dataclass
class Burst:
    worst: float
    worst_own: float  # leaving out ticks with OS preemption or a full garbage collection
    full_collections: int
    answered: float
    durable: float


async def log_call_cost(directory: Path) -> float:
    storage = await Storage.open(directory / "cost.sqlite3", log_interval=3600, log_cap=200_000)
    records = [record(i) for i in range(100_000)]
    began = time.perf_counter()
    for rec in records:
        storage.log(rec)
    cost = (time.perf_counter() - began) / len(records)
    await storage.close()
    return cost


async def main(args: argparse.Namespace) -> None:
    gc.freeze()  # as the bot does once it has started (PeacebotBot.setup_hook)
    with tempfile.TemporaryDirectory(prefix="peacebot-bench-") as tmp:
        directory = Path(tmp)
        results = []
        plan = ((Batched, args.rows), (Naive, args.naive_rows), (QueueOnly, 0), (NoLogging, 0))
        for make, rows in plan:
            rate = await sustained_rate(make, directory, rows) if rows else None
            bursts = [await burst_stall(make, directory, run) for run in range(args.bursts)]
            results.append((make.name, rows, rate, bursts))
        cost = await log_call_cost(directory)

    def ms(values: list[float]) -> str:
        return f"{max(values) * 1000:.2f} / {statistics.median(values) * 1000:.2f}"

    print(
        f"peacebot query-log benchmark · Python {platform.python_version()} · "
        f"SQLite {sqlite3.sqlite_version} · {os.cpu_count()} CPUs · {platform.machine()} · "
        f"load average {os.getloadavg()[0]:.2f}\n"
    )
    print(
        "| writer | insert rate (rows/s) | longest loop stall in a 10k burst (ms), worst / "
        f"median of {args.bursts} bursts | same, leaving out OS preemption and full GC | "
        "full GCs in the bursts | burst handled (ms) | burst on disk (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, rows, rate, bursts in results:
        rate_text = f"{rate:,.0f} ({rows:,} rows)" if rate else "-"
        print(
            f"| {name} | {rate_text} | {ms([b.worst for b in bursts])} | "
            f"{ms([b.worst_own for b in bursts])} | "
            f"{sum(b.full_collections for b in bursts)} | "
            f"{statistics.median(b.answered for b in bursts) * 1000:.0f} | "
            f"{statistics.median(b.durable for b in bursts) * 1000:.0f} |"
        )
    print(f"\n`Storage.log()` costs {cost * 1e6:.1f} µs per call (100,000 calls in a row).")
    batched_rate, batched_bursts = results[0][2], results[0][3]
    worst = max(b.worst for b in batched_bursts)
    worst_own = max(b.worst_own for b in batched_bursts)
    print(
        f"Targets: rate >= 50,000 rows/s: {'met' if batched_rate >= 50_000 else 'MISSED'}; "
        f"stall <= 5 ms: {'met' if worst <= 0.005 else 'MISSED'} "
        f"(leaving out OS preemption and full GC: {'met' if worst_own <= 0.005 else 'MISSED'})."
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the batched rate")
    parser.add_argument("--naive-rows", type=int, default=20_000, help="rows for the naive rate")
    parser.add_argument("--bursts", type=int, default=10, help="10k bursts per writer")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
