"""Check that requirements.lock matches pyproject.toml.

    python -m tests.check_lock                      # every dependency pinned in range, hashed
    python -m tests.check_lock --site SITE_PACKAGES # and the lock holds exactly what the
                                                    # peacebot installed there needs

The Docker image installs its dependencies from requirements.lock alone (pinned versions, hashes),
so a dependency added to pyproject.toml but not locked, a range the pin no longer satisfies, or
a pin nothing needs any more must fail CI. Regenerate the lock with

    uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \\
        -o requirements.lock

The `--site` check walks the installed peacebot's requirements (markers evaluated for that
Python) and compares them with the lock's pins whose markers hold there.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# `name==version`, an optional `; marker`, and the backslash before the --hash lines.
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


@dataclass
class Pin:
    name: str
    version: str
    marker: Marker | None
    hashes: int


def read_lock(text: str) -> dict[str, list[Pin]]:
    """The pins of a `pip-compile`/`uv pip compile` lock file, by canonical name (a universal
    lock may pin one package twice, under markers for different Pythons)."""
    pins: dict[str, list[Pin]] = {}
    current: Pin | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _PIN.match(stripped)
        if match:
            marker = match["marker"]
            current = Pin(
                canonicalize_name(match["name"]),
                match["version"],
                Marker(marker) if marker else None,
                hashes=0,
            )
            pins.setdefault(current.name, []).append(current)
        elif stripped.startswith("--hash=") and current is not None:
            current.hashes += 1
    return pins


def declared(pyproject: Path) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def static_problems(lock: dict[str, list[Pin]], requirements: list[Requirement]) -> list[str]:
    everything = [pin for pins in lock.values() for pin in pins]
    problems = [f"{p.name}=={p.version} has no --hash" for p in everything if not p.hashes]
    for requirement in requirements:
        pins = lock.get(canonicalize_name(requirement.name), [])
        if not pins:
            problems.append(f"{requirement} (pyproject.toml) is not in the lock")
        for pin in pins:
            if not requirement.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{requirement} (pyproject.toml) but the lock pins {pin.version}")
    return problems


def installed_problems(lock: dict[str, list[Pin]], site: Path) -> list[str]:
    """What the peacebot installed in `site` needs, against the lock's pins that apply there."""
    distributions = metadata.distributions(path=[str(site)])
    found = {canonicalize_name(d.metadata["Name"]): d for d in distributions}
    if "peacebot" not in found:
        return [f"peacebot is not installed in {site}"]
    needed: set[str] = set()
    waiting = ["peacebot"]
    while waiting:
        name = waiting.pop()
        distribution = found.get(name)
        if distribution is None:
            continue  # reported below as missing from the lock, or by pip check
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                child = canonicalize_name(requirement.name)
                if child not in needed:
                    needed.add(child)
                    waiting.append(child)
    applies = {
        name
        for name, pins in lock.items()
        if any(pin.marker is None or pin.marker.evaluate() for pin in pins)
    }
    problems = [f"{name} is needed but not in the lock" for name in sorted(needed - applies)]
    problems += [f"{name} is in the lock but nothing needs it" for name in sorted(applies - needed)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--site", type=Path, help="site-packages holding an installed peacebot")
    args = parser.parse_args(argv)
    lock = read_lock(args.lock.read_text(encoding="utf-8"))
    problems = static_problems(lock, declared(args.pyproject))
    if args.site is not None:
        problems += installed_problems(lock, args.site)
    for problem in problems:
        print(f"{args.lock.name}: {problem}", file=sys.stderr)
    if problems:
        print("regenerate it: see tests/check_lock.py", file=sys.stderr)
        return 1
    print(f"{args.lock.name}: {len(lock)} packages pinned as {args.pyproject.name} asks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
