"""The `peacebot` command line: one sub-command module per job, each with `register()`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__
from bot.cli import _console, _content, _deploy, _run, _stats
from bot.cli._args import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="peacebot",
        description="A Discord study bot for multinational peace enforcement missions.",
    )
    parser.add_argument("--version", action="version", version=f"peacebot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (_run, _deploy, _console, _content, _stats):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # plain `peacebot`: show what it can do
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `peacebot lookup ... | head`
        sys.stderr.close()
        return 0
