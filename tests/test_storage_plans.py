"""Every statement the storage runs, checked with EXPLAIN QUERY PLAN: per-server queries use an
index, leaderboards and progress group straight off their index, and no full table scan comes
back unnoticed (the two that read a whole table on purpose are named, with the reason)."""

from __future__ import annotations

import inspect
import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.daily import DailyScheduler
from bot.storage import Storage
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, OTHER, USER, opened, record
from tests.study_clock import FakeWallClock

NOW = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
# Whole-table reads that are the point of the statement.
SCANS_ON_PURPOSE = {
    # `peacebot stats` over every server and all time reads every row by definition.
    "FROM query_log WHERE 1\n",  # (the statistics statement over all servers, all time)
    # forget_user: user hashes arrive in random order, and an index on them made every logged
    # row several times dearer to write; this rare call may scan (see _migrations v2).
    "DELETE FROM query_log WHERE user_hash",
}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


async def exercise(store: Storage) -> set[str]:
    """Call every public storage coroutine (on a little data in every table); return their
    names."""
    called: set[str] = set()

    def mark(name: str) -> None:
        called.add(name)

    async def deliver(settings, fact_id) -> None:  # type: ignore[no-untyped-def]
        return None

    scheduler = DailyScheduler(
        lambda: store, lambda: ["f1", "f2"], deliver, clock=FakeWallClock(NOW)
    )
    await scheduler.configure(GUILD, 5, "09:00", "UTC", False)  # get_settings, enable_daily
    await scheduler.configure(OTHER, 6, "23:00", "Asia/Tokyo", False)
    await scheduler.wake_up()  # due_daily_posts, claim_daily_posts, reschedule, next_daily_due
    await scheduler.settle()
    await scheduler.post_now(await store.get_settings(GUILD))  # get_deck, save_deck
    mark_all = (
        "get_settings enable_daily due_daily_posts claim_daily_posts reschedule_daily "
        "next_daily_due get_deck save_deck"
    )
    for name in mark_all.split():
        mark(name)
    await store.reschedule_daily({OTHER: NOW + timedelta(hours=1)})
    await store.set_daily_problem(GUILD, "x", local_date=NOW.date())
    await store.last_daily_claim(GUILD)
    await store.disable_daily(GUILD)
    for name in ("set_daily_problem", "last_daily_claim", "disable_daily"):
        mark(name)

    for day in range(3):
        for user in (USER, OTHER):
            answered = date(2024, 5, 1) + timedelta(days=day)
            await store.record_answer(GUILD, user, "Ann", "q1", "law", day % 2 == 0, answered)
    await store.record_activity(GUILD, USER, "Ann", date(2024, 5, 6))
    for section in (None, "law"):
        for since in (None, date(2024, 5, 1)):
            await store.leaderboard(GUILD, section=section, since=since)
    await store.progress(GUILD, USER)
    await store.activity_dates(GUILD, USER)
    await store.activity_dates_of(GUILD, [store.user_hash(USER), store.user_hash(OTHER)])
    for name in [
        "record_answer",
        "record_activity",
        "leaderboard",
        "progress",
        "activity_dates",
        "activity_dates_of",
    ]:
        mark(name)

    for i in range(50):
        store.log(record(f"q{i}", at=NOW - timedelta(days=i), guild_id=GUILD if i % 2 else 7))
    await store.flush()
    for guild in (None, GUILD):
        for since in (None, NOW - timedelta(days=30)):
            await store.stats(since=since, guild_id=guild)
            [row async for row in store.iter_queries(since=since, guild_id=guild)]
    await store.prune(NOW - timedelta(days=40))
    await store.forget_user(USER)
    for name in ("flush", "stats", "iter_queries", "prune", "forget_user"):
        mark(name)
    claim = await store.claim_command_sync("global", "tree")
    await store.undo_command_sync("global", "tree", claim.previous)
    await store.publish("test")
    await store.listening(0)
    for name in ("claim_command_sync", "undo_command_sync", "publish", "listening"):
        mark(name)
    await store.close()
    mark("close")
    return called


def statements_run(trace: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for statement in trace:
        if statement.split()[0].upper() not in TRANSACTION_CONTROL:
            seen.setdefault(statement, None)
    return list(seen)


def plan(path: Path, statement: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement)]


async def test_every_query_uses_an_index(tmp_path: Path) -> None:
    path = tmp_path / "plans.sqlite3"
    trace: list[str] = []
    store = await Storage.open(path, log_interval=0.01)
    engine = store._engine
    for conn in (engine._writer, *engine._all_readers, store._writer.sink.connection):
        await conn.set_trace_callback(trace.append)
    called = await exercise(store)

    public = {
        name
        for name, member in inspect.getmembers(Storage)
        if not name.startswith("_")
        and (inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member))
    } - {"open"}
    assert public <= called, f"add these to the plan test: {sorted(public - called)}"

    statements = statements_run(trace)
    assert len(statements) > 30
    problems = []
    for statement in statements:
        details = plan(path, statement)
        scans = [d for d in details if d.startswith("SCAN ") and d.split()[1] in TABLES]
        if scans and not any(mark in statement for mark in SCANS_ON_PURPOSE):
            problems.append(f"{statement[:120]}: {scans}")
        if "quiz_answers" in statement and "USE TEMP B-TREE FOR GROUP BY" in details:
            problems.append(f"{statement[:120]}: sorts a server's answers to group them")
    assert not problems, "\n".join(problems)


TABLES = {
    "query_log",
    "guild_settings",
    "fact_deck",
    "members",
    "quiz_answers",
    "activity",
    "daily_claims",
    "meta",
}


async def test_per_server_queries_name_their_index(tmp_path: Path) -> None:
    path = tmp_path / "one.sqlite3"
    async with opened(path):
        pass
    since = "2024-05-01T00:00:00.000Z"
    one_server = plan(
        path, f"SELECT COUNT(*) FROM query_log WHERE guild_id = 1 AND at >= '{since}'"
    )
    assert one_server == [
        "SEARCH query_log USING COVERING INDEX query_log_guild_at (guild_id=? AND at>?)"
    ]
    due = plan(
        path,
        "SELECT guild_id FROM guild_settings WHERE daily_next_at IS NOT NULL "
        f"AND daily_next_at <= '{since}' ORDER BY daily_next_at LIMIT 500",
    )
    assert due == [
        "SEARCH guild_settings USING COVERING INDEX guild_settings_daily_due (daily_next_at>? AND "
        "daily_next_at<?)"
    ]


# -- PostgreSQL ------------------------------------------------------------------------------------


def seq_scans(plan: dict) -> list[str]:
    """Tables of ours read whole somewhere in an EXPLAIN (FORMAT JSON) plan."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += seq_scans(child)
    return found


async def test_every_postgresql_query_uses_an_index(postgres: Backend) -> None:
    """The same exercise on PostgreSQL. Its planner reads a tiny table whole whatever indexes
    it has, so each statement is planned with sequential scans priced out
    (`enable_seqscan = off`): a Seq Scan left in a plan means no index can serve it."""
    import asyncpg

    store = await postgres.open(log_interval=0.01)
    engine = store._engine
    logged: dict[str, tuple] = {}

    def remember(query) -> None:  # type: ignore[no-untyped-def]
        logged.setdefault(query.query, tuple(query.args))

    def logging(method):  # type: ignore[no-untyped-def]
        async def run(work):  # type: ignore[no-untyped-def]
            async def with_log(conn):  # type: ignore[no-untyped-def]
                conn.add_query_logger(remember)
                try:
                    return await work(conn)
                finally:
                    conn.remove_query_logger(remember)

            return await method(with_log)

        return run

    engine.read, engine.write = logging(engine.read), logging(engine.write)
    called = await exercise(store)
    assert "stats" in called and "claim_daily_posts" in called
    statements = {
        sql: args
        for sql, args in logged.items()
        if sql.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
        and "pg_notify" not in sql
        and "set_config" not in sql
    }
    assert len(statements) > 30
    conn = await asyncpg.connect(postgres.location)
    problems = []
    try:
        for sql, args in statements.items():
            async with conn.transaction():
                await conn.execute("SET LOCAL enable_seqscan = off")
                plan = await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)
            scans = seq_scans(json.loads(plan)[0]["Plan"])
            if scans and not any(mark in sql for mark in PG_SCANS_ON_PURPOSE):
                problems.append(f"{sql[:120]}: {scans}")
    finally:
        await conn.close()
    assert not problems, "\n".join(problems)


PG_SCANS_ON_PURPOSE = {
    "FROM query_log WHERE true\n",  # `peacebot stats` over every server and all time
    "DELETE FROM query_log WHERE user_hash",  # forget_user: no index on hashes, on purpose
}
