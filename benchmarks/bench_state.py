"""State-layer benchmark: the queries the bot makes, on a realistic database, with and without
another process holding the write lock.

    python benchmarks/bench_state.py [--baseline PATH] [--backend sqlite] [--backend postgres]
                                     [--postgres URL] [--quick]

Each column is one worker process: this checkout's code (and, with `--baseline PATH`, the code of
another checkout, e.g. `git archive main | tar -x -C /tmp/main`) on a chosen storage backend
(`--backend sqlite`, `--backend postgres`, repeatable: the columns stand side by side). PostgreSQL
is the server at `--postgres URL` (default: PEACEBOT_TEST_DATABASE_URL); each worker builds in a
fresh schema of its own and drops it after. Every worker builds its own database with its code's
own storage API:

- 10,000 servers with daily posts on, at random times in random time zones;
- 1,000,000 query-log rows over the last 365 days from 1,000 of them (Zipf: the largest server
  has about 13% of the rows, the smallest about 130);
- 100,000 quiz answers, also Zipf over those servers, with 20-300 members per server;

then reports p50/p99 of each figure below, first on a quiet database and then while another
process holds the write lock for 5 s and the bot keeps writing quiz answers (one every 50 ms),
as it would during a quiz. Each figure gets a fresh 5 s lock window; its "locked" samples are
the calls started inside the window (a call may end after it).

Figures: `/stats` for a small and for the largest server over 30 days and all time; leaderboard
(all time, this month, one section) and progress (what `/progress` reads) for the largest
server; a scheduler wake-up with nothing due and with 100 posts due (the posts' delivery is a
no-op); a settings read as the bot does it and one from disk. Targets (issue 10): `/stats` one
server over 30 days p99 <= 50 ms; leaderboard and progress p99 <= 10 ms; wake-up with nothing
due <= 5 ms and with 100 due <= 50 ms; no read slower than 100 ms while the foreign lock is held.

For scale-out (issue 11), with the current code: the wake-up of one of 4 processes that split the
10,000 servers by shard (`(guild_id >> 22) % 4`; the servers' ids are spread over the shards),
with nothing due and with 100 posts due in all (each process claims its share); and the
query-log insert rate (target on PostgreSQL >= 50,000 rows/s). The "foreign lock" on PostgreSQL
is another session holding every table in EXCLUSIVE mode (writes wait, reads do not).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Oslo", "Africa/Lagos", "Africa/Nairobi",
    "Asia/Kolkata", "Asia/Tokyo", "Asia/Jakarta", "Australia/Sydney", "Australia/Lord_Howe",
    "America/New_York", "America/Chicago", "America/Sao_Paulo", "America/Los_Angeles",
    "Pacific/Auckland",
)  # fmt: skip
SECTIONS = ("mandates", "law", "logistics", "history", "actors", "cases")
FACTS = [f"fact-{n}" for n in range(120)]
LOCK_SECONDS = 5.0
ANSWER_EVERY = 0.05  # background quiz answers while the lock is held

FIGURES = (
    # key, label, target p99 ms (None: no target)
    ("stats_small_30d", "`/stats` small server, 30 days", 50.0),
    ("stats_small_all", "`/stats` small server, all time", None),
    ("stats_large_30d", "`/stats` largest server, 30 days", 50.0),
    ("stats_large_all", "`/stats` largest server, all time", None),
    ("board_all", "leaderboard, all time", 10.0),
    ("board_month", "leaderboard, this month", 10.0),
    ("board_section", "leaderboard, one section", 10.0),
    ("progress", "progress (`/progress` reads)", 10.0),
    ("wake_idle", "scheduler wake-up, nothing due", 5.0),
    ("wake_100", "scheduler wake-up, 100 posts due", 50.0),
    ("settings", "settings read (as the bot reads)", None),
    ("settings_disk", "settings read from disk", None),
    ("wake_idle_of_4", "wake-up of 1 of 4 processes, nothing due", 5.0),
    ("wake_100_of_4", "wake-up of 1 of 4 processes, 100 due in all", 50.0),
)
SHARDED = {"wake_idle_of_4", "wake_100_of_4"}
READS = {key for key, _, _ in FIGURES} - {"wake_100", "wake_100_of_4"}  # these claim: writes
PROCESSES = 4


def gid(n: int) -> int:
    """Server n's id: spread over the shards as Discord's ids are ((id >> 22) % shards)."""
    return (n << 22) + n


# -- the worker: one code base, one backend -------------------------------------------------------


def zipf_weights(count: int) -> list[float]:
    return [1.0 / rank for rank in range(1, count + 1)]


class Subject:
    """The storage calls of one code base. `current` is this checkout's API; `legacy` the one
    before issue 10 (whole-row settings, the scheduler in cogs.daily)."""

    def __init__(self, storage: Any, legacy: bool, clock: list[datetime]) -> None:
        self.storage = storage
        self.legacy = legacy
        self.clock = clock  # [now] for the scheduler
        if legacy:
            from cogs.daily import DailyScheduler  # type: ignore[attr-defined]

            self.scheduler = DailyScheduler(
                lambda: storage, lambda: FACTS, self._deliver, now=lambda: clock[0]
            )
        else:
            from bot.daily import DailyScheduler
            from bot.storage import Shards

            self.scheduler = DailyScheduler(
                lambda: storage, lambda: FACTS, self._deliver, clock=_Clock(clock)
            )
            # The schedulers of 4 processes, each serving one shard of 4 (the same database).
            self.sharded = [
                DailyScheduler(
                    lambda: storage,
                    lambda: FACTS,
                    self._deliver,
                    clock=_Clock(clock),
                    shards=lambda k=k: Shards(PROCESSES, frozenset({k})),
                )
                for k in range(PROCESSES)
            ]

    async def _deliver(self, settings: Any, fact_id: str) -> None:
        return None

    async def enable_daily(self, guild_id: int, at: str, zone: str) -> None:
        if self.legacy:
            from bot.storage import GuildSettings

            await self.storage.save_settings(
                GuildSettings(
                    guild_id,
                    daily_channel_id=guild_id,
                    daily_time=at,
                    timezone=zone,
                    daily_enabled=True,
                )
            )
        else:
            await self.scheduler.configure(guild_id, guild_id, at, zone, False)

    async def wake_up(self) -> None:
        if self.legacy:
            await self.scheduler.tick()
        else:
            await self.scheduler.wake_up()
            await self.scheduler.settle()

    async def settings_from_disk(self, guild_id: int) -> Any:
        if not self.legacy:
            self.storage.forget_cached(guild_id)
        return await self.storage.get_settings(guild_id)


class _Clock:
    def __init__(self, cell: list[datetime]) -> None:
        self.cell = cell

    def now(self) -> datetime:
        return self.cell[0]

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def open_storage(backend: str, location: str) -> Any:
    from bot.storage import Storage

    if backend in ("sqlite", "postgres"):
        return await Storage.open(location, log_cap=2_000_000, log_batch_size=5000)
    raise SystemExit(f"unknown backend {backend!r}")


async def build(subject: Subject, args: argparse.Namespace, rng: random.Random) -> dict:
    """The database, through the storage API; returns what the figures need."""
    from bot.storage import QueryRecord

    storage = subject.storage
    began = time.perf_counter()
    times = {}
    for n in range(1, args.servers + 1):
        at = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        times[gid(n)] = (at, rng.choice(ZONES))
        await subject.enable_daily(gid(n), *times[gid(n)])
    built_servers = time.perf_counter() - began

    now = datetime.now(UTC)
    log_servers = min(1000, args.servers)
    weights = zipf_weights(log_servers)
    guilds = rng.choices(range(1, log_servers + 1), weights=weights, k=args.log_rows)
    # Logged oldest first, as a bot logs them: the time index only ever grows at its end.
    moments = sorted(rng.uniform(0, 365 * 86400) for _ in guilds)[::-1]
    outcomes = ("exact", "alias", "fuzzy", "none")
    began = time.perf_counter()
    for i, guild in enumerate(guilds):
        outcome = outcomes[i % 7 % 4]
        storage.log(
            QueryRecord(
                guild_id=gid(guild),
                channel_id=guild * 10,
                user_id=guild * 1000 + i % 97,
                command=("define", "section", "search", "autocomplete")[i % 4],
                query=f"term {rng.randrange(400)}",
                matched_id=None if outcome == "none" else f"entry-{rng.randrange(300)}",
                outcome=outcome,
                score=90.0,
                failed=i % 500 == 0,
                duration_ms=rng.lognormvariate(0, 0.5),
                at=now - timedelta(seconds=moments[i]),
            )
        )
        if i % 5000 == 0:
            await asyncio.sleep(0)
    assert await storage.flush(max_wait=None)
    built_log = time.perf_counter() - began

    members = {g: max(20, min(300, int(3000 / g))) for g in range(1, log_servers + 1)}
    today = now.date()
    began = time.perf_counter()
    pending: list[Awaitable[None]] = []
    for guild in rng.choices(range(1, log_servers + 1), weights=weights, k=args.answers):
        user = guild * 1000 + rng.randrange(members[guild])
        pending.append(
            storage.record_answer(
                gid(guild),
                user,
                f"member {user}",
                f"q-{rng.randrange(60)}",
                rng.choice(SECTIONS),
                rng.random() < 0.6,
                today - timedelta(days=rng.randrange(365)),
            )
        )
        if len(pending) == 200:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    built_answers = time.perf_counter() - began
    if storage.path.startswith("postgresql://"):
        # What autovacuum does after a bulk load: statistics for the planner and the
        # visibility map that lets index-only scans skip the table.
        await storage._engine.write(lambda conn: conn.execute("ANALYZE"))
        await vacuum(storage)
    return {
        "times": times,
        "small": gid(log_servers),
        "large": gid(1),
        "member": 1000 + 1,
        "build_s": {
            "servers": round(built_servers, 1),
            "log": round(built_log, 1),
            "answers": round(built_answers, 1),
        },
    }


async def vacuum(storage: Any) -> None:
    import asyncpg

    url = storage._engine.url
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def due_slots(times: dict[int, tuple[str, str]], start: datetime, per_slot: int) -> list[datetime]:
    """Moments after `start` at which exactly `per_slot` more servers' posts have come due (a
    wake-up at `start` has made the posts already due then)."""
    from bot.schedule import next_post

    moments = []
    for at, zone in times.values():
        post = next_post(at, zone, None, start)
        if post.at <= start:
            post = next_post(at, zone, post.local_date, start)
        moments.append(post.at)
    moments.sort()
    return [moments[i * per_slot + per_slot - 1] for i in range(len(moments) // per_slot)]


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    await call()
    return (time.perf_counter() - began) * 1000


async def sample(
    call: Callable[[], Awaitable[Any]], budget: float, most: int, least: int = 3
) -> list[float]:
    """Timings (ms) until `most` samples or `budget` seconds, at least `least` samples."""
    samples: list[float] = []
    ends = time.perf_counter() + budget
    while len(samples) < most and (len(samples) < least or time.perf_counter() < ends):
        samples.append(await timed(call))
    return samples


class ForeignLock:
    """Another process holding the database's write lock for LOCK_SECONDS (PostgreSQL: every
    table in EXCLUSIVE mode, which lets reads through and stops writes)."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def __aenter__(self) -> ForeignLock:
        if self.path.startswith("postgresql://"):
            code = (
                "import asyncio, sys, asyncpg\n"
                "async def main():\n"
                "    c = await asyncpg.connect(sys.argv[1])\n"
                "    t = c.transaction(); await t.start()\n"
                "    names = [r[0] for r in await c.fetch(\n"
                "        'SELECT tablename FROM pg_tables WHERE schemaname = current_schema()')]\n"
                "    await c.execute('LOCK TABLE ' + ', '.join(names) + ' IN EXCLUSIVE MODE')\n"
                "    print('locked', flush=True)\n"
                "    await asyncio.sleep(float(sys.argv[2]))\n"
                "    await t.rollback(); await c.close()\n"
                "asyncio.run(main())\n"
            )
        else:
            code = (
                "import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE')\n"
                "print('locked', flush=True)\n"
                "time.sleep(float(sys.argv[2]))\n"
                "c.execute('ROLLBACK')\n"
            )
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            str(self.path),
            str(LOCK_SECONDS),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert (await self.process.stdout.readline()).strip() == b"locked"
        self.ends = time.perf_counter() + LOCK_SECONDS
        return self

    @property
    def held(self) -> bool:
        return time.perf_counter() < self.ends

    async def __aexit__(self, *exc: object) -> None:
        await self.process.wait()


async def quiz_answers_meanwhile(subject: Subject, stop: asyncio.Event) -> int:
    """The bot writing quiz answers, as during a quiz; returns how many failed."""
    failed = 0
    tasks: set[asyncio.Task[None]] = set()
    number = 0
    while not stop.is_set():
        number += 1
        task = asyncio.create_task(
            subject.storage.record_answer(
                gid(1), 1000 + number % 50, "player", "q-1", "law", True, datetime.now(UTC).date()
            )
        )
        tasks.add(task)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ANSWER_EVERY)
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        failed += isinstance(result, BaseException)
    return failed


async def measure(subject: Subject, info: dict, args: argparse.Namespace, path: str) -> dict:
    storage = subject.storage
    now = datetime.now(UTC)
    small, large, member = info["small"], info["large"], info["member"]
    month_start = now.date().replace(day=1)
    slots = due_slots(info["times"], subject.clock[0], 100)

    async def wake_100() -> None:
        subject.clock[0] = slots.pop(0)
        await subject.wake_up()

    shard_samples: list[float] = []

    async def wake_idle_of_4() -> None:
        scheduler = subject.sharded[len(shard_samples) % PROCESSES]
        shard_samples.append(0.0)
        await scheduler.wake_up()
        await scheduler.settle()

    async def wake_100_of_4() -> None:
        """Each call: the next process's wake-up; every 4 calls, the next slot of 100 posts."""
        turn = len(shard_samples) % PROCESSES
        if turn == 0:
            subject.clock[0] = slots.pop(0)
        shard_samples.append(0.0)
        scheduler = subject.sharded[turn]
        await scheduler.wake_up()
        await scheduler.settle()

    async def progress() -> None:
        await storage.progress(large, member)
        await storage.activity_dates(large, member)

    guilds = list(info["times"])
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "stats_small_30d": lambda: storage.stats(since=now - timedelta(days=30), guild_id=small),
        "stats_small_all": lambda: storage.stats(guild_id=small),
        "stats_large_30d": lambda: storage.stats(since=now - timedelta(days=30), guild_id=large),
        "stats_large_all": lambda: storage.stats(guild_id=large),
        "board_all": lambda: storage.leaderboard(large),
        "board_month": lambda: storage.leaderboard(large, since=month_start),
        "board_section": lambda: storage.leaderboard(large, section="law"),
        "progress": progress,
        "wake_idle": subject.wake_up,
        "wake_100": wake_100,
        "settings": lambda: storage.get_settings(random.choice(guilds)),
        "settings_disk": lambda: subject.settings_from_disk(random.choice(guilds)),
        "wake_idle_of_4": wake_idle_of_4,
        "wake_100_of_4": wake_100_of_4,
    }
    # Warm up: the first wake-up makes every post due at the start, then nothing is due.
    await subject.wake_up()
    results: dict[str, dict] = {}
    for key, _label, _target in FIGURES:
        if key in SHARDED and subject.legacy:
            continue
        call = calls[key]
        shard_samples.clear()
        if key == "settings":  # the bot reads settings it has read before (a quiz, a post)
            for guild in guilds:
                await storage.get_settings(guild)
        most = args.samples
        if key == "wake_100":  # each sample uses up a slot of 100 posts; keep a few for the lock
            most = max(1, min(most, (len(slots) - 12) // 2))
        elif key == "wake_100_of_4":  # 4 samples (processes) per slot
            most = max(PROCESSES, min(most, (len(slots) - 6) * PROCESSES))
        else:
            for _ in range(4):  # warm: each call may land on another reader connection
                await call()
        quiet = await sample(call, args.budget, most, least=min(3, most))
        stop = asyncio.Event()
        async with ForeignLock(path) as lock:
            writer = asyncio.create_task(quiz_answers_meanwhile(subject, stop))
            locked: list[float] = []
            while (
                lock.held
                and len(locked) < args.samples
                and (key not in ("wake_100", "wake_100_of_4") or slots)
            ):
                locked.append(await timed(call))
            stop.set()
            lost = await writer
        results[key] = {"quiet": quiet, "locked": locked, "answers_failed": lost}
        print(f"  {key}: p50 {percentile(quiet, 50):.2f} ms", file=sys.stderr, flush=True)
    results["insert_rate"] = {"rate": await insert_rate(storage, args.insert_rows)}
    results["insert_rate"] = {"rate": await insert_rate(storage, args.insert_rows)}
    if args.all_servers:
        results["stats_all_30d"] = {
            "quiet": await sample(lambda: storage.stats(since=now - timedelta(days=30)), 0, 3)
        }
        results["stats_all_all"] = {"quiet": await sample(lambda: storage.stats(), 0, 3)}
    return results


def use_code(code: Path) -> None:
    """Import `bot` from the checkout under test, not from wherever it is installed."""
    sys.path.insert(0, str(code))
    import bot

    assert Path(bot.__file__).resolve().is_relative_to(code), f"{bot.__file__} is not in {code}"


async def insert_rate(storage: Any, rows: int) -> float:
    """Rows per second `Storage.log` gets onto disk, from 1,000 servers, onto the built log."""
    from bot.storage import QueryRecord

    rng = random.Random(3)
    guilds = rng.choices(range(1, 1001), weights=zipf_weights(1000), k=rows)
    began = time.perf_counter()
    for i, guild in enumerate(guilds):
        storage.log(
            QueryRecord(
                guild_id=guild,
                channel_id=guild * 10,
                user_id=guild * 1000 + i % 97,
                command="define",
                query=f"term {i % 400}",
                matched_id="entry-1",
                outcome="exact",
                score=90.0,
                failed=False,
                duration_ms=1.0,
            )
        )
        if i % 100 == 0:
            await asyncio.sleep(0)  # like a bot serving requests
    assert await storage.flush(max_wait=None)
    return rows / (time.perf_counter() - began)


@contextlib.asynccontextmanager
async def database(args: argparse.Namespace, directory: str) -> Any:
    """Where a worker builds: a new SQLite file, or a new schema on the PostgreSQL server."""
    if args.backend == "sqlite":
        yield str(Path(directory) / "bench.sqlite3")
        return
    import asyncpg

    schema = f"bench_{os.getpid()}"
    admin = await asyncpg.connect(args.postgres)
    try:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        joiner = "&" if "?" in args.postgres else "?"
        yield f"{args.postgres}{joiner}search_path={schema}"
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


def file_mb(path: str) -> int:
    return round(os.path.getsize(path) / 2**20) if os.path.exists(path) else 0


async def database_mb(location: str) -> int:
    if not location.startswith("postgresql://"):
        return file_mb(location)
    import asyncpg

    conn = await asyncpg.connect(location)
    try:
        size = await conn.fetchval(
            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
    finally:
        await conn.close()
    return round((size or 0) / 2**20)


async def worker(args: argparse.Namespace) -> None:
    from bot.storage import Storage

    legacy = not hasattr(Storage, "due_daily_posts")
    rng = random.Random(10)
    with tempfile.TemporaryDirectory(dir=args.db_dir) as directory:
        async with database(args, directory) as location:
            storage = await open_storage(args.backend, location)
            try:
                start = datetime(2024, 3, 5, 0, 0, tzinfo=UTC)
                subject = Subject(storage, legacy, [start])
                print(f"building ({'legacy' if legacy else 'current'} API)", file=sys.stderr)
                info = await build(subject, args, rng)
                print(f"built in {info['build_s']}", file=sys.stderr, flush=True)
                gc.collect()
                gc.freeze()  # as the bot does once it has started (PeacebotBot.setup_hook)
                results = await measure(subject, info, args, location)
            finally:
                await storage.close()
            size = await database_mb(location)
    meta = {"legacy": legacy, "build_s": info["build_s"], "db_mb": size}
    print(json.dumps({"meta": meta, "results": results}))


# -- the orchestrator ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def run_worker(code: Path, backend: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--worker", "--code", str(code), "--backend", backend]
    command += ["--servers", str(args.servers), "--log-rows", str(args.log_rows)]
    command += ["--answers", str(args.answers), "--samples", str(args.samples)]
    command += ["--budget", str(args.budget), "--insert-rows", str(args.insert_rows)]
    if args.db_dir:
        command += ["--db-dir", args.db_dir]
    if args.postgres:
        command += ["--postgres", args.postgres]
    if args.all_servers:
        command.append("--all-servers")
    print(f"worker: {code} on {backend}", file=sys.stderr, flush=True)
    out = subprocess.run(command, stdout=subprocess.PIPE, check=True, cwd=code)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def cell(values: list[float] | None) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50):.2f} / {percentile(values, 99):.2f} ({len(values)})"


def verdict(run: dict, key: str, target: float | None) -> str:
    if target is None:
        return "-"
    quiet = run["results"][key]["quiet"]
    locked = run["results"][key].get("locked") or []
    good = percentile(quiet, 99) <= target
    if key in READS and locked:
        good = good and max(locked) <= 100.0
    return "ok" if good else "MISSED"


def table(columns: list[tuple[str, dict]]) -> str:
    heads = ["figure", "target p99"]
    for name, _ in columns:
        heads += [f"{name}: quiet", f"{name}: foreign lock"]
    heads.append("targets met (last column)")
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    rows = [*FIGURES]
    if "stats_all_all" in columns[-1][1]["results"]:
        rows += [
            ("stats_all_30d", "`peacebot stats`, all servers, 30 days", None),
            ("stats_all_all", "`peacebot stats`, all servers, all time", None),
        ]
    for key, label, target in rows:
        cells = [label, f"{target:g} ms" if target else "-"]
        for _, run in columns:
            result = run["results"].get(key, {})
            cells += [cell(result.get("quiet")), cell(result.get("locked"))]
        cells.append(verdict(columns[-1][1], key, target))
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["query-log insert rate, rows/s (1,000 servers, onto the built log)", "50,000"]
    for _, run in columns:
        cells += [f"{run['results']['insert_rate']['rate']:,.0f}", "-"]
    lines.append("| " + " | ".join(cells) + " | - |")
    notes = []
    for name, run in columns:
        lost = sum(r.get("answers_failed", 0) for r in run["results"].values())
        notes.append(
            f"{name}: database {run['meta']['db_mb']} MB, built in {run['meta']['build_s']} s; "
            f"background quiz answers that failed while the lock was held: {lost}"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default=str(HERE), help=argparse.SUPPRESS)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument(
        "--backend", action="append", help="sqlite (default) or postgres; repeatable"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PEACEBOT_TEST_DATABASE_URL"),
        help="the PostgreSQL server for --backend postgres (default PEACEBOT_TEST_DATABASE_URL)",
    )
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--insert-rows", type=int, default=100_000, help="for the insert rate")
    parser.add_argument("--samples", type=int, default=200, help="most samples per figure")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per quiet figure")
    parser.add_argument("--db-dir", help="where the databases are built (default: temp)")
    parser.add_argument("--all-servers", action="store_true", help="also time `peacebot stats`")
    parser.add_argument("--quick", action="store_true", help="a small database, for a try-out")
    args = parser.parse_args()
    if args.quick:
        args.servers, args.log_rows, args.answers, args.samples = 1000, 50_000, 5000, 30
        args.insert_rows = 20_000
    if args.worker:
        args.backend = (args.backend or ["sqlite"])[0]
        use_code(Path(args.code).resolve())
        asyncio.run(worker(args))
        return
    backends = args.backend or ["sqlite"]
    if "postgres" in backends and not args.postgres:
        raise SystemExit("--backend postgres needs --postgres URL (or PEACEBOT_TEST_DATABASE_URL)")
    columns: list[tuple[str, dict]] = []
    if args.baseline is not None:
        for backend in backends:
            columns.append((f"baseline ({backend})", run_worker(args.baseline, backend, args)))
    for backend in backends:
        columns.append((f"this code ({backend})", run_worker(HERE, backend, args)))
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores; p50 / p99 ms (samples); "
        f"{args.servers:,} servers, {args.log_rows:,} log rows, {args.answers:,} quiz answers\n"
    )
    print(table(columns))


if __name__ == "__main__":
    main()
