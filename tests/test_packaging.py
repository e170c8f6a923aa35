"""Packaging: requirements.lock (what the Docker image installs) matches pyproject.toml, and the
content is read through importlib.resources wherever the package lives."""

from __future__ import annotations

import zipfile
from importlib import resources
from pathlib import Path

from packaging.requirements import Requirement

from bot.config import BUNDLED_CONTENT
from bot.loader import load_library
from tests.check_lock import declared, read_lock, static_problems
from tests.conftest import TEST_LIBRARY

ROOT = Path(__file__).resolve().parent.parent


def test_the_lock_pins_every_dependency_in_range_with_hashes() -> None:
    lock = read_lock((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    requirements = declared(ROOT / "pyproject.toml")
    assert {"discord-py", "aiosqlite", "rapidfuzz", "pyyaml"} <= set(lock)
    assert static_problems(lock, requirements) == []


def test_a_stale_lock_is_caught() -> None:
    lock = read_lock(
        "aiosqlite==0.19.0 \\\n    --hash=sha256:aa\n"
        "orjson==3.10.0 ; python_version >= '3.11'\n"
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:bb\n"
        "numpy==2.5.5 ; python_full_version >= '3.12' \\\n    --hash=sha256:cc\n"
    )
    assert [pin.version for pin in lock["numpy"]] == ["2.4.6", "2.5.5"]
    wanted = ("aiosqlite>=0.20", "orjson>=3.9", "tzdata>=2024.1", "numpy<2.5")
    assert static_problems(lock, [Requirement(r) for r in wanted]) == [
        "orjson==3.10.0 has no --hash",
        "aiosqlite>=0.20 (pyproject.toml) but the lock pins 0.19.0",
        "tzdata>=2024.1 (pyproject.toml) is not in the lock",
        "numpy<2.5 (pyproject.toml) but the lock pins 2.5.5",
    ]


def test_content_loads_from_inside_a_zip_file(tmp_path: Path) -> None:
    """importlib.resources hands the loader a zipfile.Path when peacebot runs from a zip."""
    archive = tmp_path / "peacebot.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(TEST_LIBRARY.rglob("*.yaml")):
            zipped.write(path, f"bot/study_content/{path.relative_to(TEST_LIBRARY)}")
    library = load_library(zipfile.Path(archive, "bot/study_content/"))
    assert library.counts() == load_library(TEST_LIBRARY).counts()


def test_the_bundled_content_is_the_package_bot_study_content() -> None:
    package = resources.files("bot.study_content")
    assert package == BUNDLED_CONTENT
    assert package.joinpath("sections.yaml").is_file()
