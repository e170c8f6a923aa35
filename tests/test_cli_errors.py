"""Every sub-command given bad arguments: one clear line, no traceback, the documented exit code."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.loader import ContentError, load_library
from tests.conftest import TEST_LIBRARY
from tests.processes import clean_env, run_peacebot
from tests.storage_helpers import opened, record


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def one_error_line(result: subprocess.CompletedProcess[str], code: int, start: str) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(start), lines[0]
    return lines[0]


def test_plain_peacebot_prints_the_help_and_version_works(cwd: Path) -> None:
    result = run_peacebot(cwd=cwd)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: peacebot") and "console" in result.stdout
    version = run_peacebot("--version", cwd=cwd)
    assert version.returncode == 0 and version.stdout.startswith("peacebot 0.")


def test_a_usage_error_is_one_line(cwd: Path) -> None:
    one_error_line(run_peacebot("chek", cwd=cwd), 2, "peacebot: argument COMMAND: invalid choice")
    line = one_error_line(run_peacebot("lookup", "--limit", "abc", "roe", cwd=cwd), 2, "peacebot")
    assert "argument --limit: needs a whole number of 1 or more, got 'abc'" in line
    assert line.endswith("(see 'peacebot lookup --help')")
    line = one_error_line(run_peacebot("stats", "--limit", "²", cwd=cwd), 2, "peacebot stats")
    assert "needs a whole number" in line


# -- schema ----------------------------------------------------------------------------------


def test_schema_to_stdout(cwd: Path) -> None:
    result = run_peacebot("schema", "--output", "-", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "peacebot content file"
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(
    ("target", "reason"),
    [("no/such/folder/schema.json", "No such file or directory"), (".", "it is a folder")],
)
def test_schema_to_a_place_it_cannot_write_is_one_line(cwd: Path, target: str, reason: str) -> None:
    line = one_error_line(
        run_peacebot("schema", "--output", target, cwd=cwd), 1, "peacebot schema: cannot write"
    )
    assert line.endswith(reason)


# -- ages that do not fit a date ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("stats", "--since", "99999999d"),
        ("export", "--since", "99999999d"),
        ("prune", "--older-than", "99999999d"),
    ],
)
def test_an_age_too_long_is_one_line(cwd: Path, args: tuple[str, ...]) -> None:
    line = one_error_line(run_peacebot(*args, cwd=cwd), 2, f"peacebot {args[0]}: argument")
    assert "'99999999d' reaches back before the year 1" in line


# -- check ------------------------------------------------------------------------------------


def test_check_of_the_root_folder_is_one_line(cwd: Path) -> None:
    line = one_error_line(run_peacebot("check", "/", cwd=cwd), 1, "/: more than 10,000 files")
    assert line.endswith("not a content folder")


def test_check_names_files_relative_to_the_working_directory(cwd: Path) -> None:
    library = cwd / "library"
    (library / "more").mkdir(parents=True)
    (library / "more" / "bad.yaml").write_text("facts: 3\n", encoding="utf-8")
    result = run_peacebot("check", "library", cwd=cwd)
    assert result.returncode == 1
    assert result.stderr.startswith("library/more/bad.yaml:1: facts: expected a list")
    assert (cwd / result.stderr.split(":")[0]).is_file()  # it opens as printed
    nested = run_peacebot("check", ".", cwd=library)
    assert nested.stderr.startswith("more/bad.yaml:1:")


class UnreadableFolder:
    """A folder whose listing fails, as a folder without read permission does."""

    name = "secret"

    def is_dir(self) -> bool:
        return True

    def iterdir(self):
        raise PermissionError(13, "Permission denied")

    def __str__(self) -> str:
        return "content/secret"


def test_a_folder_that_cannot_be_read_is_a_problem() -> None:
    with pytest.raises(ContentError) as caught:
        load_library(UnreadableFolder())
    assert [str(p) for p in caught.value.problems] == [
        "content/secret: cannot read this folder: Permission denied"
    ]


def without_root_file_access() -> None:
    """Run as root without the capabilities that let root read any folder.

    A root process keeps at exec only the capabilities in its bounding set, so dropping
    CAP_DAC_OVERRIDE (1) and CAP_DAC_READ_SEARCH (2) there makes a folder with mode 0 as
    unreadable to the child as it is to everyone else."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(97)


def test_check_of_an_unreadable_folder_is_one_line(cwd: Path) -> None:
    secret = cwd / "secret"
    secret.mkdir()
    secret.chmod(0)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "check", "secret"],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=clean_env(),
            timeout=60,
            check=False,
            preexec_fn=without_root_file_access if os.geteuid() == 0 else None,
        )
        one_error_line(result, 1, "secret: cannot read")
    finally:
        secret.chmod(0o755)


ENTRY = """\
terms:
  - id: {id}
    name: {name}
    definition: A definition.
    section: international-law
    sources: [{{title: A source, url: "{url}"}}]
"""


@pytest.mark.parametrize(
    ("entry_id", "url", "problem"),
    [
        ("Rules_Of_War", "https://example.org/a", "id 'Rules_Of_War': use lower-case words"),
        ("rules--of-war", "https://example.org/a", "id 'rules--of-war': use lower-case words"),
        ("rules-of-war", "ftp://example.org/a", "url 'ftp://example.org/a': not an http(s)"),
        ("rules-of-war", "https:///no-host", "url 'https:///no-host': not an http(s)"),
        ("rules-of-war", "example.org/a", "url 'example.org/a': not an http(s)"),
    ],
)
def test_check_rejects_bad_ids_and_source_urls(
    cwd: Path, entry_id: str, url: str, problem: str
) -> None:
    library = cwd / "library"
    library.mkdir()
    for source in TEST_LIBRARY.glob("*.yaml"):
        (library / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    text = ENTRY.format(id=entry_id, name="Rules of war", url=url)
    (library / "extra.yaml").write_text(text, encoding="utf-8")
    result = run_peacebot("check", "library", cwd=cwd)
    assert result.returncode == 1
    assert problem in result.stderr, result.stderr


# -- lookup's exit codes ------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "code"), [("roe", 0), ("rules of engagment", 0), ("zzqxv", 1)])
def test_lookup_exits_the_same_with_and_without_json(cwd: Path, query: str, code: int) -> None:
    text = run_peacebot("lookup", query, cwd=cwd)
    as_json = run_peacebot("lookup", "--json", query, cwd=cwd)
    assert text.returncode == as_json.returncode == code
    assert json.loads(as_json.stdout)["query"] == query


def test_lookup_on_invalid_content_exits_2(cwd: Path) -> None:
    (cwd / "bad.yaml").write_text("terms: [\n", encoding="utf-8")
    for args in (("lookup", "--content", ".", "roe"), ("lookup", "--json", "--content", ".", "x")):
        assert run_peacebot(*args, cwd=cwd).returncode == 2


# -- prune ------------------------------------------------------------------------------------


@pytest.fixture
async def log_db(cwd: Path) -> Path:
    """Two rows 100 days old, one a day old."""
    path = cwd / "log.sqlite3"
    now = datetime.now(UTC)
    async with opened(path) as store:
        store.log(record("old one", at=now - timedelta(days=100)))
        store.log(record("old two", at=now - timedelta(days=100)))
        store.log(record("recent", at=now - timedelta(days=1)))
        assert await store.flush()
    return path


def rows(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [q for (q,) in connection.execute("SELECT query FROM query_log ORDER BY id")]


def test_prune_dry_run_deletes_nothing(cwd: Path, log_db: Path) -> None:
    result = run_peacebot("prune", "--db", log_db, "--older-than", "90d", "--dry-run", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("would delete 2 query-log rows older than ")
    assert rows(log_db) == ["old one", "old two", "recent"]


def prune_on_a_terminal(cwd: Path, db: Path, answer: str, *extra: str) -> tuple[int, str]:
    """`peacebot prune` with a terminal as its stdin; types `answer` at the prompt."""
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "prune", "--db", str(db), "--older-than", "90d", *extra],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=clean_env(),
        )
        os.write(primary, answer.encode() + b"\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)
    return process.returncode, out + err


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
def test_prune_asks_on_a_terminal(cwd: Path, log_db: Path) -> None:
    code, output = prune_on_a_terminal(cwd, log_db, "n")
    assert code == 1 and "Delete 2 query-log rows older than" in output
    assert "peacebot prune: nothing deleted" in output
    assert len(rows(log_db)) == 3
    code, output = prune_on_a_terminal(cwd, log_db, "yes")
    assert code == 0 and "deleted 2 query-log rows" in output
    assert rows(log_db) == ["recent"]


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
def test_prune_yes_does_not_ask(cwd: Path, log_db: Path) -> None:
    code, output = prune_on_a_terminal(cwd, log_db, "n", "--yes")
    assert code == 0 and "Delete" not in output and "deleted 2 query-log rows" in output
