"""Running `peacebot` as a real process, as a user does, for the command-line tests.

Each process starts in a folder the test chose (never the repository, whose `.env` could change
the defaults) with every DISCORD_* and PEACEBOT_* variable removed, then only what the test sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without peacebot's settings, plus `settings`; imports this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PEACEBOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def run_peacebot(
    *args: object, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`peacebot ARGS...` to completion, with output captured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        timeout=60,
        check=False,
    )
