"""`peacebot stats`, `prune`, `export` and `reports`, run as real processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli._stats import parse_moment
from bot.reports import make_report
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, opened, record

ROOT = Path(__file__).resolve().parent.parent


def peacebot(*args: object, cwd: Path, env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PEACEBOT_")}
    environment.update(PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,  # not the repository: no .env there to change the defaults
        env=environment,
        timeout=60,
    )


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    """A log with rows 1, 2 (no match), 3 and 100 days old, on two servers."""
    path = tmp_path / "log.sqlite3"
    now = datetime.now(UTC)
    async with opened(path) as store:
        store.log(record("UN Charter", at=now - timedelta(days=1), duration_ms=2.0))
        store.log(record("sofa", matched_id=None, outcome="none", at=now - timedelta(days=2)))
        store.log(record("ROE", command="search", guild_id=99, at=now - timedelta(days=3)))
        store.log(record('old, "quoted"\nline', at=now - timedelta(days=100), duration_ms=9.0))
        assert await store.flush()
    return path


def test_stats_report(db: Path, tmp_path: Path) -> None:
    result = peacebot("stats", "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Total queries:      4" in out
    assert "Median lookup time: 1.5 ms" in out
    assert "Content gaps: no match, or not covered by the guide:\n        1  sofa" in out
    assert "Use per command:\n        3  define\n        1  search" in out
    assert "Top entries:\n        3  un-charter" in out


def test_stats_json_since_and_server(db: Path, tmp_path: Path) -> None:
    args = ("stats", "--db", db, "--since", "7d", "--server", GUILD, "--json")
    result = peacebot(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 2
    assert data["guild_id"] == GUILD
    assert data["no_match_queries"] == [{"name": "sofa", "count": 1}]
    assert data["per_command"] == [{"name": "define", "count": 2}]


def test_stats_default_database_from_peacebot_db(db: Path, tmp_path: Path) -> None:
    result = peacebot("stats", "--json", cwd=tmp_path, env={"PEACEBOT_DB": str(db)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 4


def test_export_csv_to_stdout_and_jsonl_to_a_file(db: Path, tmp_path: Path) -> None:
    result = peacebot("export", "--db", db, "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    # Oldest first, by time (the rows were logged newest first).
    assert [row["query"] for row in table] == ['old, "quoted" line', "ROE", "sofa", "UN Charter"]
    assert table[2]["matched_id"] == "" and table[2]["failed"] == "0"
    assert set(table[0]) >= {"at", "user_hash", "command", "outcome", "score", "duration_ms"}

    out = tmp_path / "recent.jsonl"
    args = ("export", "--db", db, "--format", "jsonl", "--since", "7d", "-o", out)
    result = peacebot(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"exported 3 rows to {out}"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["query"] for line in lines] == ["ROE", "sofa", "UN Charter"]
    assert lines[1]["matched_id"] is None and lines[0]["guild_id"] == 99


def test_prune_older_than(db: Path, tmp_path: Path) -> None:
    result = peacebot("prune", "--db", db, "--older-than", "90d", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted 1 query-log rows older than ")
    stats = json.loads(peacebot("stats", "--db", db, "--json", cwd=tmp_path).stdout)
    assert stats["total"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stats", "--db", "missing.sqlite3"), "peacebot stats: no database at missing.sqlite3"),
        (("export", "--db", "{db}", "-o", "no/such/dir/x.csv"), "peacebot export: cannot write"),
    ],
)
def test_errors_are_one_clear_line(db: Path, tmp_path: Path, args, message: str) -> None:
    result = peacebot(*(str(a).format(db=db) for a in args), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "missing.sqlite3").exists()  # no empty database left behind


def test_bad_age_is_a_usage_error(tmp_path: Path) -> None:
    result = peacebot("prune", "--older-than", "ninety", cwd=tmp_path)
    assert result.returncode == 2
    assert "'ninety' is not an age or a date" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_for_each_sub_command(tmp_path: Path) -> None:
    for command in ("stats", "prune", "export", "reports"):
        result = peacebot(command, "--help", cwd=tmp_path)
        assert result.returncode == 0
        assert f"usage: peacebot {command}" in result.stdout


def test_parse_moment() -> None:
    now = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    assert parse_moment("7d", now) == now - timedelta(days=7)
    assert parse_moment("1w 2d 3h", now) == now - timedelta(days=9, hours=3)
    assert parse_moment("90m", now) == now - timedelta(minutes=90)
    assert parse_moment("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_moment("2024-05-01T10:00+02:00") == datetime(2024, 5, 1, 8, tzinfo=UTC)


async def test_csv_export_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    path = tmp_path / "formula.sqlite3"
    async with opened(path) as store:
        store.log(record('=HYPERLINK("http://example.com","x")'))
        store.log(record("-1+2"))
        store.log(record("plain"))
        assert await store.flush()
    result = peacebot("export", "--db", path, "--format", "csv", cwd=tmp_path)
    queries = [row["query"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert queries == ['\'=HYPERLINK("http://example.com","x")', "'-1+2", "plain"]


async def test_reports_are_listed_and_counted_from_the_shell(
    backend: Backend, tmp_path: Path
) -> None:
    """On either engine: `peacebot reports` lists them oldest first, one line each;
    `peacebot stats` counts them in its period and server."""
    april, may = datetime(2024, 4, 30, 9, tzinfo=UTC), datetime(2024, 5, 2, 9, tzinfo=UTC)
    async with backend.opened() as store:
        ann = store.user_hash(1)
        for entry, at, guild, source in (
            ("oas", april, GUILD, None),
            ("oas", may + timedelta(hours=1), 99, "a book"),  # the same entry, another day
            ("unef", may, GUILD, None),
        ):
            what = f"The {entry} dates are wrong,\nsee below."
            await store.add_report(make_report(entry_id=entry, content_version="v7", what=what,
                                               source=source, user_hash=ann, at=at,
                                               guild_id=guild))  # fmt: skip
    db = backend.location
    listed = peacebot("reports", "--db", db, "--since", "2024-05-01", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "2024-05-02 09:00\tunef\tv7\tThe unef dates are wrong, see below.\t-",
        "2024-05-02 10:00\toas\tv7\tThe oas dates are wrong, see below.\ta book",
    ]
    assert listed.stderr.strip() == "2 reports since 2024-05-01 00:00 UTC"
    everything = peacebot("reports", "--db", db, cwd=tmp_path)
    assert [line.split("\t")[1] for line in everything.stdout.splitlines()] == [
        "oas", "unef", "oas"
    ]  # fmt: skip

    def counted(*args: object) -> int:
        result = peacebot("stats", "--db", db, "--json", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["reports"]

    assert counted() == 3
    assert counted("--since", "2024-05-01") == 2
    assert counted("--server", GUILD) == 2
    assert counted("--server", GUILD, "--since", "2024-05-01") == 1
    text = peacebot("stats", "--db", db, cwd=tmp_path).stdout
    assert "Mistake reports:    3 (peacebot reports lists them)" in text
