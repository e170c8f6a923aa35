"""Placeholder: filled in by its own issue."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="not available yet")
    parser.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    print("peacebot: this command is not available yet", file=sys.stderr)
    return 2
