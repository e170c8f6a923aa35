"""Every statement the storage runs, checked with EXPLAIN QUERY PLAN: per-server queries use an
index, leaderboards and progress group straight off their index, and no full table scan comes
back unnoticed (the two that read a whole table on purpose are named, with the reason)."""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.daily import DailyScheduler
from bot.exam import ExamRecord
from bot.reports import make_report
from bot.review import Rating, ReviewScheduler
from bot.storage import Storage
from bot.storage._scores import TOTALS_BOARD
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, OTHER, USER, opened, record
from tests.study_clock import FakeWallClock

NOW = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
# Whole-table reads that are the point of the statement.
SCANS_ON_PURPOSE = {
    # `peacebot stats` over every server and all time reads every row by definition.
    "FROM query_log WHERE 1\n",  # (the statistics statement over all servers, all time)
    # forget_user: user hashes arrive in random order, and an index on them made every logged
    # row several times dearer to write; this rare call may scan (see _migrations v2).
    "DELETE FROM query_log WHERE user_hash",
    # `peacebot reports` without --since lists every report, and `peacebot stats` counts them.
    "FROM mistake_reports WHERE 1",
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

    await store.answers_per_day(GUILD, USER, date(2024, 5, 1))
    mark("answers_per_day")

    user = store.user_hash(USER)
    for n, section in enumerate((None, "law", None)):
        started = NOW + timedelta(minutes=n)
        exam = ExamRecord(user, section, started, started + timedelta(minutes=3), 5, n, False)
        await store.save_exam(exam)
    for section in (None, "law"):
        await store.exam_history(user, section, 10)
    for entry in ("oas", "unef", "oas"):
        await store.add_report(
            make_report(entry_id=entry, content_version="v1", what="This date is wrong.",
                        source="a book", user_hash=user, at=NOW, guild_id=GUILD)
        )  # fmt: skip
    for since in (None, NOW - timedelta(days=1)):
        await store.mistake_reports(since)
        await store.count_reports(since)
    await store.set_report_channel(GUILD, 900)
    await store.report_channel(GUILD)
    await store.forget_exams(store.user_hash(OTHER))
    await store.forget_reports(store.user_hash(OTHER))
    reads_and_writes = ["save_exam", "exam_history", "add_report", "mistake_reports",
                        "count_reports", "set_report_channel", "report_channel", "forget_exams",
                        "forget_reports"]  # fmt: skip
    for name in reads_and_writes:
        mark(name)

    for i in range(50):
        store.log(record(f"q{i}", at=NOW - timedelta(days=i), guild_id=GUILD if i % 2 else 7))
    await store.flush()
    for guild in (None, GUILD):
        for since in (None, NOW - timedelta(days=30)):
            await store.stats(since=since, guild_id=guild)
            [row async for row in store.iter_queries(since=since, guild_id=guild)]
    await exercise_review(store, mark)
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


async def exercise_review(store: Storage, mark: Callable[[str], None]) -> None:
    """Every `ReviewStore` method, on two members with a few ratings and reminders."""
    scheduler = ReviewScheduler()
    users = [store.user_hash(USER), store.user_hash(OTHER)]
    for user in users:
        previous = None
        for n, rating in enumerate((Rating.Good, Rating.Again, Rating.Good)):
            state, entry = scheduler.rate(
                user, f"term:t{n % 2}", previous if n == 2 else None, rating, NOW, UTC_ZONE
            )
            await store.save_review(state, entry)
            previous = state
        await store.set_new_per_day(user, 5)
        await store.set_reminder(user, dm_user_id=1, remind_time="08:00", next_at=NOW)
    ann = users[0]
    await store.card_states(ann)
    await store.due_card_ids(ann, NOW + timedelta(days=2))
    await store.review_totals(ann)
    await store.review_days(ann, date(2024, 1, 1))
    await store.new_cards_on(ann, NOW.date())
    await store.review_settings(ann)
    await store.set_review_timezone(ann, "Asia/Tokyo", NOW + timedelta(hours=1))
    await store.move_reminder(ann, NOW)
    await store.due_reminders(NOW)
    await store.next_reminder_at()
    await store.claim_reminder(ann, NOW.date(), NOW + timedelta(days=1))
    await store.claim_reminder(ann, NOW.date(), NOW + timedelta(days=1))  # lost: a conflict
    await store.clear_reminder(users[1], notice="closed")
    await store.claim_reminder(users[1], NOW.date(), NOW + timedelta(days=1))  # off: taken back
    await store.dismiss_reminder_notice(users[1], "closed")
    await store.forget_reviews(users[1])
    names = (
        "save_review card_states due_card_ids review_totals review_days new_cards_on "
        "review_settings set_new_per_day set_reminder set_review_timezone move_reminder "
        "due_reminders next_reminder_at claim_reminder clear_reminder dismiss_reminder_notice "
        "forget_reviews"
    )
    for name in names.split():
        mark(name)


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
        reads_log = "review_log" in statement and statement.startswith("SELECT")
        if reads_log and not any("COVERING INDEX review_log_member" in d for d in details):
            problems.append(f"{statement[:120]}: reads the log's rows, not its index")
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
    "review_cards",
    "review_log",
    "review_settings",
    "review_reminders",
    "exam_results",
    "mistake_reports",
    "member_totals",
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
    # The all-time leaderboard walks the server's running totals in board order (no sort of
    # every member, let alone of their answers); only a tie on the last place is sorted by name.
    board = plan(path, TOTALS_BOARD.replace("?", "1"))
    assert board == [
        "SEARCH t USING COVERING INDEX member_totals_board (guild_id=?)",
        "SEARCH m USING INDEX sqlite_autoindex_members_1 (guild_id=? AND user_hash=?)",
        "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY",
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


def nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in nodes(child))]


async def test_postgresql_all_time_board_walks_the_totals_index(postgres: Backend) -> None:
    """As on SQLite: the server's running totals read in board order off member_totals_board,
    the walk stopped at the limit (an incremental sort orders ties by name), never a sort of
    all its members. On a test's few rows the planner would rather sort them, so full sorts,
    bitmap scans and sequential scans are priced out: the index must deliver the order. (On
    the benchmark's database it picks this plan unaided.)"""
    import asyncpg

    from bot.storage._scores_pg import TOTALS_BOARD

    async with postgres.opened() as store:
        for guild in (GUILD, OTHER, 7):
            await asyncio.gather(
                *(
                    store.record_answer(guild, user, f"m{user}", "q", "law", user % 3 > 0, NOW)
                    for user in range(1, 121)
                )
            )
    conn = await asyncpg.connect(postgres.location)
    try:
        await conn.execute("ANALYZE")
        async with conn.transaction():
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                await conn.execute(f"SET LOCAL {setting} = off")
            found = await conn.fetchval("EXPLAIN (FORMAT JSON) " + TOTALS_BOARD, GUILD, 10)
    finally:
        await conn.close()
    plan = nodes(json.loads(found)[0]["Plan"])
    totals = [node for node in plan if node.get("Relation Name") == "member_totals"]
    assert [node.get("Index Name") for node in totals] == ["member_totals_board"]
    assert "Sort" not in {node["Node Type"] for node in plan}
