"""The query log across real processes: stop signals, a hard kill, two writers at once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "storage_driver.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture
def start():
    """`start(mode, ...)` runs the driver; any still running after the test is killed."""
    procs: list[subprocess.Popen[str]] = []

    def start_(*args: object) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        procs.append(proc)
        return proc

    yield start_
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def read_line(proc: subprocess.Popen[str]) -> str:
    line = proc.stdout.readline().strip()  # type: ignore[union-attr]
    if not line:
        proc.kill()
        raise AssertionError(f"driver exited early: {proc.communicate()[1]}")
    return line


def query_rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [q for (q,) in conn.execute("SELECT query FROM query_log ORDER BY id")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_flushes_every_queued_row(start, tmp_path: Path, sig: signal.Signals) -> None:
    path = tmp_path / "signal.sqlite3"
    proc = start("hold", path, 5000)
    # All 5000 rows are in memory only: the writer's interval is an hour.
    assert read_line(proc) == "ready 5000 0"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert query_rows(path) == [f"hold {i}" for i in range(5000)]


def test_hard_kill_mid_burst_leaves_a_sound_database_of_whole_batches(
    start, tmp_path: Path
) -> None:
    path = tmp_path / "kill.sqlite3"
    group = 37
    proc = start("burst", path, group)
    assert read_line(proc) == "ready"
    # Let it write a good many batches, then kill it without warning, mid-write most likely.
    deadline = time.monotonic() + 60
    while len(query_rows(path)) < group * 40 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    stored = query_rows(path)
    assert len(stored) >= group * 40
    # Whole groups (each one transaction), in order, with no gaps: at most the batch in
    # flight is missing.
    assert len(stored) % group == 0
    assert stored == [f"{n}:{i}" for n in range(len(stored) // group) for i in range(group)]


def test_two_processes_writing_at_once_both_succeed(start, tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"  # new: both also run the migrations at the same time
    procs = [start("write", path, 3000, tag) for tag in ("alpha", "beta")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "done 3000 0"
    stored = query_rows(path)
    assert len(stored) == 6000
    for tag in ("alpha", "beta"):
        assert [q for q in stored if q.startswith(tag)] == [f"{tag} {i}" for i in range(3000)]
