"""`peacebot run`: connect to Discord and serve the study guide until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        help="connect to Discord and serve the study guide",
        description="Connect to Discord with DISCORD_TOKEN and answer commands until stopped "
        "with Ctrl+C or SIGTERM.",
    )
    parser.add_argument(
        "--heartbeat",
        type=Path,
        metavar="FILE",
        help="touch FILE every minute while connected (for container health checks)",
    )
    parser.set_defaults(handler=_handler)


def _fail(message: str) -> int:
    print(f"peacebot: {message}", file=sys.stderr)
    return 2


def _handler(args: argparse.Namespace) -> int:
    # Imported here so `peacebot --help` and the other sub-commands do not pay for discord.py.
    from bot.client import StartupError, serve, setup_logging
    from bot.config import ConfigError, check_token, load_config
    from bot.loader import ContentError, display_path, load_library

    try:
        config = load_config()
        check_token(config.token)
    except ConfigError as exc:
        return _fail(str(exc))
    level = logging.getLevelNamesMapping().get(config.log_level)
    if level is None:
        return _fail(f"PEACEBOT_LOG_LEVEL {config.log_level!r} is not a logging level")
    try:
        library = load_library(config.content_dir)
    except ContentError as exc:
        first, count = exc.problems[0], len(exc.problems)
        more = f" (and {count - 1} more: run `peacebot check` on it)" if count > 1 else ""
        return _fail(f"the content in {display_path(config.content_dir)} is invalid: {first}{more}")

    setup_logging(level, config.token or "")
    try:
        serve(config, library, args.heartbeat)
    except StartupError as exc:
        return _fail(str(exc))
    except Exception:
        logging.getLogger("peacebot").exception("stopped by an unexpected error")
        return _fail("stopped by an unexpected error (logged above)")
    return 0
