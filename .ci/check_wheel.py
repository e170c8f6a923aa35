"""Check that a built wheel holds the whole of peacebot, and nothing else.

    python .ci/check_wheel.py dist/peacebot-*.whl

Every module of bot/ and cogs/ (subpackages included), bot/py.typed, and every file of the
repository's content/ folder (as bot/study_content/) must be in the wheel; tests and
benchmarks must not. `.ci/run` runs this on the wheel it builds, so a file that packaging
would leave out fails CI rather than a user's first command.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where each source folder lands inside the wheel.
PLACES = {"bot": "bot", "cogs": "cogs", "content": "bot/study_content"}


def expected_files(root: Path = ROOT) -> set[str]:
    expected = set()
    for folder, place in PLACES.items():
        for path in (root / folder).rglob("*"):
            relative = path.relative_to(root / folder)
            if path.is_file() and "__pycache__" not in relative.parts:
                expected.add(f"{place}/{relative.as_posix()}")
    return expected


def problems(wheel: Path, root: Path = ROOT) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if ".dist-info/" not in name}
    expected = expected_files(root)
    missing = sorted(expected - names)
    extra = sorted(names - expected)  # e.g. a module removed since, left in build/ by setuptools
    return [f"missing from the wheel: {name}" for name in missing] + [
        f"does not belong in the wheel: {name}" for name in extra
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    wheel = Path(argv[0])
    found = problems(wheel)
    for problem in found:
        print(f"{wheel.name}: {problem}", file=sys.stderr)
    if not found:
        print(f"{wheel.name}: all {len(expected_files())} files of bot/, cogs/ and content/")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
