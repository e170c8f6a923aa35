"""Query-log benchmark: the batching writer against a naive one-INSERT-and-commit-per-row writer.

    python benchmarks/bench_querylog.py [--rows 100000] [--naive-rows 20000] [--bursts 5]

Measures, for each writer, in the same run and on the same kind of database file (WAL,
synchronous=NORMAL, the connection settings `Storage` uses):

- sustained insert rate: a producer logs rows as fast as it can, yielding to the loop every
  100 rows (like a bot serving requests), until every row is committed;
- the longest event-loop stall while a burst of 10,000 lookups is logged: a ticker task asks to
  wake every 1 ms and records how late each wake-up is. The burst arrives as 100 lookups per
  loop iteration. A "no logging" row shows the stall the burst itself causes.

Prints a markdown table. Targets (issue 4): >= 50,000 rows/s and <= 5 ms stall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.storage import QueryRecord, Storage
from bot.storage._connection import connect
from bot.storage._migrations import migrate
from bot.storage._querylog import INSERT, build_row

BURST = 10_000
PER_ITERATION = 100  # lookups handled per loop iteration during a burst
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


class Ticker:
    """Wakes every TICK seconds and keeps the worst lateness: the longest the loop was busy."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.lates: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - asked - TICK
            self.lates.append(late)
            self.worst = max(self.worst, late)

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


async def burst_stall(make: Callable[[Path], object], directory: Path, run: int):
    writer = make(directory / f"burst-{make.__name__}-{run}.sqlite3")
    await writer.start()
    ticker = Ticker()
    ticker.start()
    await asyncio.sleep(0.05)  # settle
    ticker.worst = 0.0
    began = time.perf_counter()
    await produce(writer, BURST, PER_ITERATION)
    answered = time.perf_counter() - began  # every lookup has been handled (and logged/queued)
    await writer.drain()
    durable = time.perf_counter() - began
    await asyncio.sleep(0.01)
    await ticker.stop()
    await writer.close()
    return ticker.worst, answered, durable


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
    with tempfile.TemporaryDirectory(prefix="peacebot-bench-") as tmp:
        directory = Path(tmp)
        results = []
        for make, rows in ((Batched, args.rows), (Naive, args.naive_rows), (NoLogging, 0)):
            rate = await sustained_rate(make, directory, rows) if rows else None
            stalls, answered, durable = [], [], []
            for run in range(args.bursts):
                worst, done, written = await burst_stall(make, directory, run)
                stalls.append(worst)
                answered.append(done)
                durable.append(written)
            results.append((make.name, rows, rate, stalls, answered, durable))
        cost = await log_call_cost(directory)

    print(
        f"peacebot query-log benchmark · Python {platform.python_version()} · "
        f"SQLite {sqlite3.sqlite_version} · {os.cpu_count()} CPUs · {platform.machine()}\n"
    )
    print(
        f"| writer | insert rate (rows/s) | longest loop stall, 10k burst (ms) "
        f"worst / median of {args.bursts} | burst handled (ms) | burst on disk (ms) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, rows, rate, stalls, answered, durable in results:
        rate_text = f"{rate:,.0f} ({rows:,} rows)" if rate else "-"
        print(
            f"| {name} | {rate_text} | {max(stalls) * 1000:.2f} / "
            f"{statistics.median(stalls) * 1000:.2f} | {statistics.median(answered) * 1000:.0f} | "
            f"{statistics.median(durable) * 1000:.0f} |"
        )
    print(f"\n`Storage.log()` costs {cost * 1e6:.1f} µs per call (100,000 calls in a row).")
    batched = results[0]
    print(
        f"Targets: rate >= 50,000 rows/s: {'met' if batched[2] >= 50_000 else 'MISSED'}; "
        f"stall <= 5 ms: {'met' if max(batched[3]) <= 0.005 else 'MISSED'}."
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the batched rate")
    parser.add_argument("--naive-rows", type=int, default=20_000, help="rows for the naive rate")
    parser.add_argument("--bursts", type=int, default=5, help="10k bursts per writer")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
