"""The interaction benchmark still runs end to end (tiny sizes; its numbers are not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_interactions.py"


def test_benchmark_prints_a_table_for_every_cell() -> None:
    tiny = ["--rounds", "1", "--samples", "3", "--bursts", "1", "--concurrency", "4"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *tiny],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and " ms " in line]
    cells = [row.split("|")[1:3] for row in rows]
    assert [(name.split()[0], n.strip()) for name, n in cells] == [
        ("define", "1"),
        ("define", "4"),
        ("autocomplete", "1"),
        ("autocomplete", "4"),
    ]
