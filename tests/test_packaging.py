"""requirements.lock (what the Docker image installs) matches pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

from tools.check_lock import declared, read_lock, static_problems

ROOT = Path(__file__).resolve().parent.parent


def test_the_lock_pins_every_dependency_in_range_with_hashes() -> None:
    lock = read_lock((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    requirements = declared(ROOT / "pyproject.toml")
    assert {"discord-py", "aiosqlite", "rapidfuzz", "pyyaml"} <= set(lock)
    assert static_problems(lock, requirements) == []


def test_a_stale_lock_is_caught() -> None:
    lock = read_lock(
        "aiosqlite==0.19.0 \\\n    --hash=sha256:aa\norjson==3.10.0 ; python_version >= '3.11'\n"
    )
    requirements = [Requirement(r) for r in ("aiosqlite>=0.20", "orjson>=3.9", "tzdata>=2024.1")]
    assert static_problems(lock, requirements) == [
        "orjson==3.10.0 has no --hash",
        "aiosqlite>=0.20 (pyproject.toml) but the lock pins 0.19.0",
        "tzdata>=2024.1 (pyproject.toml) is not in the lock",
    ]
