"""`peacebot stats`, `prune`, `export` and `reports`: the query log, and the reports of
mistakes in the content, from the shell."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.cli._args import whole_number
from bot.config import ConfigError, load_config
from bot.reports import report_line
from bot.storage import QueryRow, Stats, Storage, StorageError, is_postgres_url

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AGE = re.compile(r"(\d+)\s*([smhdw])")
_AGES = re.compile(r"(?:\d+\s*[smhdw]\s*)+")
EXPORT_COLUMNS = [field.name for field in fields(QueryRow)]


class _Failure(Exception):
    """Stops a sub-command with one line for the user."""


def register(sub: argparse._SubParsersAction) -> None:
    stats = sub.add_parser(
        "stats",
        help="show what people look up, and what the content is missing",
        description="Summarise the query log: totals, top queries and entries, queries with "
        "no match, use per command and the median lookup time.",
    )
    _add_db(stats)
    _add_filters(stats)
    stats.add_argument("--limit", type=whole_number, default=10, help="rows per list (default 10)")
    stats.add_argument("--json", action="store_true", help="print JSON instead of a report")
    stats.set_defaults(handler=_stats)

    prune = sub.add_parser(
        "prune",
        help="delete old query-log rows",
        description="Delete query-log rows older than an age. Settings and scores are kept.",
    )
    _add_db(prune)
    prune.add_argument(
        "--older-than",
        required=True,
        type=parse_moment,
        metavar="AGE",
        help="e.g. 90d, 12w, 36h, or a date such as 2024-01-31",
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="only say how many rows would be deleted"
    )
    prune.add_argument(
        "--yes", "-y", action="store_true", help="do not ask for confirmation on a terminal"
    )
    prune.set_defaults(handler=_prune)

    export = sub.add_parser(
        "export",
        help="write the query log as CSV or JSON lines",
        description="Write query-log rows, oldest first, for analysis elsewhere.",
    )
    _add_db(export)
    _add_filters(export)
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default csv")
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="file to write (default: stdout)"
    )
    export.set_defaults(handler=_export)

    reports = sub.add_parser(
        "reports",
        help="list the reports of mistakes in the content",
        description='List the mistakes members reported with the "Report a mistake" button, '
        "oldest first, one tab-separated line each: time (UTC), entry id, content version, "
        "what is wrong, source (- if none).",
    )
    _add_db(reports)
    _add_since(reports, "reports")
    reports.set_defaults(handler=_reports)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite file or postgresql:// URL (default: DATABASE_URL, else PEACEBOT_DB)",
    )


def _add_since(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--since",
        type=parse_moment,
        metavar="AGE",
        help=f"only {what} newer than this: 7d, 24h, 30m, or a date such as 2024-05-01",
    )


def _add_filters(parser: argparse.ArgumentParser) -> None:
    _add_since(parser, "rows")
    parser.add_argument("--server", type=int, metavar="ID", help="only this server's rows")


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """`7d` / `12h` / `1w2d` (an age before now) or an ISO date or time, as an aware UTC time."""
    text = text.strip()
    if _AGES.fullmatch(text):
        try:
            delta = timedelta()
            for amount, unit in _AGE.findall(text):
                delta += timedelta(**{_UNITS[unit]: int(amount)})
            return (now or datetime.now(UTC)) - delta
        except OverflowError:
            raise argparse.ArgumentTypeError(
                f"{text!r} reaches back before the year 1; use a shorter age or a date"
            ) from None
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age or a date (try 7d, 12h, 30m or 2024-05-01)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- the handlers ---------------------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> None:
        stats = await storage.stats(since=args.since, guild_id=args.server, limit=args.limit)
        if args.json:
            print(json.dumps(stats.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(render_stats(stats, storage.path))

    return _run(args, work)


def _prune(args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> None:
        when = _when(args.older_than)
        if args.dry_run or (sys.stdin.isatty() and not args.yes):
            everything = await storage.stats(limit=1)
            newer = await storage.stats(since=args.older_than, limit=1)
            older = everything.total - newer.total
            if args.dry_run:
                print(f"would delete {older} query-log rows older than {when} (dry run)")
                return
            if older == 0:
                print(f"no query-log rows older than {when}")
                return
            question = f"Delete {older} query-log rows older than {when} from {storage.path}?"
            if not await asyncio.to_thread(_confirm, question):
                raise _Failure("nothing deleted")
        deleted = await storage.prune(args.older_than)
        print(f"deleted {deleted} query-log rows older than {when}")

    return _run(args, work)


def _reports(args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> None:
        found = await storage.mistake_reports(since=args.since)
        for report in found:
            print(report_line(report))
        scope = f" since {_when(args.since)}" if args.since else ""
        print(f"{len(found)} reports{scope}", file=sys.stderr)

    return _run(args, work)


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _export(args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> None:
        if args.output is None:
            count = await _write_rows(storage, args, sys.stdout)
            sys.stdout.flush()
            return
        try:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = await _write_rows(storage, args, out)
        except OSError as exc:
            raise _Failure(f"cannot write {args.output}: {exc.strerror or exc}") from exc
        print(f"exported {count} rows to {args.output}", file=sys.stderr)

    return _run(args, work)


async def _write_rows(storage: Storage, args: argparse.Namespace, out: TextIO) -> int:
    count = 0
    rows = storage.iter_queries(since=args.since, guild_id=args.server)
    if args.format == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        async for row in rows:
            writer.writerow([_cell(value) for value in row.to_dict().values()])
            count += 1
    else:
        async for row in rows:
            out.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value  # a query like "=HYPERLINK(...)" must not run in a spreadsheet
    return value


_FORMULA_STARTS = frozenset("=+-@\t\r")


def _run(args: argparse.Namespace, work: Callable[[Storage], Awaitable[None]]) -> int:
    """Open the database, do the work, and turn every expected failure into one line."""
    try:
        path = _database_path(args.db)

        async def main() -> None:
            storage = await Storage.open(path)
            try:
                await work(storage)
            finally:
                await storage.close()

        asyncio.run(main())
    except (_Failure, StorageError, ConfigError) as exc:
        print(f"peacebot {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def _database_path(given: str | None) -> str:
    path = given or load_config().database
    if is_postgres_url(path):
        return path
    # Reading commands must not leave an empty database behind for a mistyped path.
    if path != ":memory:" and not Path(path).is_file():
        raise _Failure(f"no database at {path} (pass --db PATH or set PEACEBOT_DB)")
    return path


# -- the report -----------------------------------------------------------------------------------


def render_stats(stats: Stats, path: str) -> str:
    scope = f"since {_when(stats.since)}" if stats.since else "all time"
    server = f"server {stats.guild_id}" if stats.guild_id is not None else "all servers"
    median = f"{stats.median_ms:.1f} ms" if stats.median_ms is not None else "-"
    lines = [
        f"Query log {path} ({scope}, {server})",
        f"Total queries:      {stats.total}",
        f"Failed:             {stats.failed}",
        f"Median lookup time: {median}",
        f"Mistake reports:    {stats.reports} (peacebot reports lists them)",
    ]
    for title, counts in (
        ("Use per command", stats.per_command),
        ("Top queries", stats.top_queries),
        ("Top entries", stats.top_entries),
        ("Content gaps: no match, or not covered by the guide", stats.no_match_queries),
    ):
        lines += ["", f"{title}:"]
        width = max((len(count.name) for count in counts), default=0)
        lines += [f"  {count.count:>7}  {count.name:<{width}}".rstrip() for count in counts]
        if not counts:
            lines.append("  (none)")
    return "\n".join(lines)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
