"""`peacebot run`: connect to Discord and serve the study guide until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

MAX_PROBLEMS_SHOWN = 10


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


class RedactToken(logging.Filter):
    """Replace the token wherever it would appear in a log line, whoever logs it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[token]"), None
        return True


def _fail(message: str) -> int:
    print(f"peacebot: {message}", file=sys.stderr)
    return 2


def _handler(args: argparse.Namespace) -> int:
    # Imported here so `peacebot --help` and the other sub-commands do not pay for discord.py.
    import discord

    from bot.client import PeacebotBot, close_on_signals, open_storage
    from bot.config import ConfigError, load_config
    from bot.loader import ContentError, load_library

    try:
        config = load_config()
    except ConfigError as exc:
        return _fail(str(exc))
    if not config.token:
        return _fail("DISCORD_TOKEN is not set; put the bot token in the environment or .env")
    level = logging.getLevelNamesMapping().get(config.log_level)
    if level is None:
        return _fail(f"PEACEBOT_LOG_LEVEL {config.log_level!r} is not a logging level")
    try:
        library = load_library(config.content_dir)
    except ContentError as exc:
        shown = "\n".join(str(problem) for problem in exc.problems[:MAX_PROBLEMS_SHOWN])
        return _fail(f"the content in {config.content_dir} is invalid:\n{shown}")

    discord.utils.setup_logging(level=level, root=True)
    redact = RedactToken(config.token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)

    async def serve() -> None:
        storage = await open_storage(config.db_path)
        try:
            bot = PeacebotBot(
                config, storage=storage, library=library, heartbeat_path=args.heartbeat
            )
            async with bot:
                close_on_signals(bot)
                await bot.start(config.token)
        finally:
            await storage.close()  # writes every query-log row still queued

    try:
        asyncio.run(serve())
    except discord.LoginFailure:
        return _fail(
            "Discord rejected DISCORD_TOKEN; copy the token again from the Developer Portal"
        )
    except discord.PrivilegedIntentsRequired:
        return _fail(
            "Discord refused the message content intent; enable it for the bot in the Developer "
            "Portal, or set PEACEBOT_PREFIX= (empty) to turn prefix commands off"
        )
    return 0
