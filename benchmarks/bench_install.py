"""Install and start-up benchmark: the built wheel in a fresh virtual environment.

    python benchmarks/bench_install.py [--runs 7]

Builds the wheel, makes a fresh virtual environment, installs the locked dependencies
(requirements.lock, with hashes, as the Docker image does) and then the wheel, timing each;
then times commands of the installed peacebot from a folder outside the checkout, beside two
baselines run the same way: the bare interpreter (`python -c pass`) and importing discord.py,
which `peacebot run` needs and the offline commands do not load. Prints a markdown table of
medians. Downloads come from the package index (or pip's cache), so install times include
the network as a user sees it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE")
SOURCES = (*FILES, "bot", "cogs", "content")
CACHES = shutil.ignore_patterns("__pycache__")


def timed(args: list[str], *, cwd: Path, stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, input=stdin, text=True, check=True, capture_output=True)
    return time.perf_counter() - started


def median_ms(args: list[str], runs: int, *, cwd: Path, stdin: str | None = None) -> float:
    timed(args, cwd=cwd, stdin=stdin)  # warm the file cache once
    return statistics.median(timed(args, cwd=cwd, stdin=stdin) for _ in range(runs)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        dist, venv, elsewhere = work / "dist", work / "venv", work / "elsewhere"
        elsewhere.mkdir()
        source = work / "source"  # a copy: setuptools leaves build/ beside what it builds
        source.mkdir()
        for name in SOURCES:
            copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
            copy(ROOT / name, source / name, **({} if name in FILES else {"ignore": CACHES}))
        pip = [sys.executable, "-m", "pip", "--quiet"]
        build = timed([*pip, "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)], cwd=work)
        wheel = next(dist.glob("peacebot-*.whl"))
        make_venv = timed([sys.executable, "-m", "venv", str(venv)], cwd=work)
        python = str(venv / "bin" / "python")
        lock = str(ROOT / "requirements.lock")
        vpip = [python, "-m", "pip", "--quiet", "install", "--no-deps"]
        deps = timed([*vpip, "--require-hashes", "-r", lock], cwd=work)
        own = timed([*vpip, str(wheel)], cwd=work)
        peacebot = str(venv / "bin" / "peacebot")
        runs = args.runs
        rows = [
            ("baseline: `python -c pass`", median_ms([python, "-c", "pass"], runs, cwd=elsewhere)),
            (
                "baseline: `python -c 'import discord'`",
                median_ms([python, "-c", "import discord"], runs, cwd=elsewhere),
            ),
            ("`peacebot --version`", median_ms([peacebot, "--version"], runs, cwd=elsewhere)),
            ("`peacebot check`", median_ms([peacebot, "check"], runs, cwd=elsewhere)),
            (
                "`peacebot lookup --json roe`",
                median_ms([peacebot, "lookup", "--json", "roe"], runs, cwd=elsewhere),
            ),
            (
                '`echo "define roe" \\| peacebot console --db none`',
                median_ms(
                    [peacebot, "console", "--db", "none"], runs, cwd=elsewhere, stdin="define roe\n"
                ),
            ),
        ]
    print(f"| step | seconds |\n|---|---:|\n| build the wheel (`pip wheel`) | {build:.1f} |")
    print(f"| fresh virtual environment | {make_venv:.1f} |")
    print(f"| install the locked dependencies (pinned, with hashes) | {deps:.1f} |")
    print(f"| install the wheel | {own:.1f} |")
    print(f"\n| command, from a folder outside the checkout (median of {runs}) | ms |\n|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |")


if __name__ == "__main__":
    main()
