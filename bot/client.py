"""The Discord client: the one module in `bot/` that imports discord.

`PeacebotBot` owns the library, the lookup engine, the librarian and the storage; the cogs in
`cogs/` reach them through `bot.librarian`, `bot.engine` and `bot.storage`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import __version__
from bot.answers import Answer, Librarian
from bot.config import Config
from bot.content import Library
from bot.loader import load_library
from bot.lookup import LookupEngine
from bot.storage import QueryRecord, Storage

log = logging.getLogger(__name__)

# Loaded in this order by `setup_hook`. `cogs._ui` registers the persistent buttons and
# `cogs.errors` installs the error handler, so both come before the cogs that rely on them.
EXTENSIONS: tuple[str, ...] = (
    "cogs._ui",
    "cogs.errors",
    "cogs.lookup",
    "cogs.meta",
    "cogs.admin",
    "cogs.daily",
    "cogs.quiz",
    "cogs.discuss",
)

HEARTBEAT_SECONDS = 60
FLUSH_WAIT_SECONDS = 5.0  # at shutdown; Storage.close() waits again for what is left


def build_intents(prefix: str) -> discord.Intents:
    """Only what the bot uses: guilds for slash commands; server messages (not privileged) so
    posts in discussion threads count towards study streaks; message content only for prefix
    commands."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    if prefix:
        intents.dm_messages = True
        intents.message_content = True  # privileged: only asked for when a prefix is set
    return intents


class PeacebotTree(app_commands.CommandTree):
    """Refuses new slash commands once shutdown has begun, with a reply instead of silence."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        client = interaction.client
        if isinstance(client, PeacebotBot) and not client.accepting_commands:
            if interaction.type is discord.InteractionType.application_command:
                with contextlib.suppress(discord.HTTPException):
                    await interaction.response.send_message(
                        "peacebot is restarting; try again in a minute.", ephemeral=True
                    )
            return False
        return True


class PeacebotBot(commands.Bot):
    """peacebot on Discord.

    `storage` belongs to the caller, who closes it after the bot has closed (the bot flushes
    it when closing). `library` defaults to the content in `config.content_dir`. Tests may
    pass `extensions` to load another set of cogs, and `sync_commands=False`.
    """

    def __init__(
        self,
        config: Config,
        *,
        storage: Storage,
        library: Library | None = None,
        extensions: Sequence[str] = EXTENSIONS,
        sync_commands: bool = True,
        heartbeat_path: Path | None = None,
        **options: Any,
    ) -> None:
        prefix = config.prefix
        super().__init__(
            command_prefix=commands.when_mentioned_or(prefix)
            if prefix
            else commands.when_mentioned,
            intents=build_intents(prefix),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,  # cogs.meta provides `help`
            tree_cls=PeacebotTree,
            case_insensitive=True,
            strip_after_prefix=True,
            **options,
        )
        self.config = config
        self.version = __version__
        self.extension_names: tuple[str, ...] = tuple(extensions)
        self.sync_commands = sync_commands
        self.heartbeat_path = heartbeat_path
        self.accepting_commands = True
        self.connected = False  # to the gateway, right now (kept by the events below)
        self.storage = storage
        # The custom-id pattern of each DynamicItem class in use, so a click that none of them
        # matches can be answered (cogs._ui).
        self.component_patterns: dict[type, re.Pattern[str]] = {}
        self._shutdown_done = False
        self.library: Library
        self.engine: LookupEngine
        self.librarian: Librarian
        self.use_library(library if library is not None else load_library(config.content_dir))

    # -- state shared with the cogs -------------------------------------------------------

    def use_library(self, library: Library) -> None:
        """Serve `library` from now on. Engine and librarian are built before anything is
        swapped, so a lookup in progress sees either the old set or the new set, never a mix.

        The old ones are freed: the librarian's answer caches make reference cycles, and
        `gc.freeze()` (see setup_hook) would keep cycles alive for good, so a reload thaws the
        frozen objects, collects, and freezes what is left.
        """
        engine = LookupEngine(library)
        librarian = Librarian(library, engine)
        replacing = hasattr(self, "library")
        self.library, self.engine, self.librarian = library, engine, librarian
        if replacing:
            del engine, librarian
            frozen = gc.get_freeze_count() > 0
            gc.unfreeze()
            gc.collect()
            if frozen:
                gc.freeze()

    def add_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().add_dynamic_items(*items)
        for item in items:
            pattern = getattr(item, "PATTERN", None)
            if pattern is not None:
                self.component_patterns[item] = pattern

    def remove_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().remove_dynamic_items(*items)
        for item in items:
            self.component_patterns.pop(item, None)

    def log_query(
        self,
        *,
        command: str,
        query: str,
        started: float,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int | None,
        answer: Answer | None = None,
        failed: bool = False,
    ) -> None:
        """Write one lookup, autocomplete pick or button click to the query log.

        `started` is a `time.perf_counter()` reading taken when the request arrived. Never
        raises: the query log must not stop the bot answering.
        """
        try:
            record = QueryRecord(
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=user_id,
                command=command,
                query=query,
                matched_id=answer.entry_id if answer is not None else None,
                outcome=str(answer.outcome) if answer is not None else "error",
                score=answer.score if answer is not None else None,
                failed=failed,
                duration_ms=(time.perf_counter() - started) * 1000.0,
            )
            self.storage.log(record)
        except Exception:
            log.exception("could not log a %s query", command)

    # -- lifecycle --------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        for name in self.extension_names:
            await self.load_extension(name)
        if self.sync_commands:
            await self.sync_app_commands()
        if self.heartbeat_path is not None:
            self._heartbeat.start()
        # Content, indexes and discord.py live for the whole run: keep them out of the garbage
        # collector's full passes, which otherwise stall the event loop for milliseconds.
        gc.freeze()

    async def sync_app_commands(self) -> list[app_commands.AppCommand]:
        """Globally, or only to PEACEBOT_DEV_GUILD, where changes show up at once."""
        if self.config.dev_guild_id is None:
            synced = await self.tree.sync()
            log.info("synced %d app commands globally", len(synced))
        else:
            guild = discord.Object(id=self.config.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d app commands to server %s", len(synced), guild.id)
        return synced

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("connected as %s (%s) in %d servers", self.user, self.user.id, len(self.guilds))
        self.connected = True
        self.touch_heartbeat()

    async def on_connect(self) -> None:
        self.connected = True

    async def on_resumed(self) -> None:
        self.connected = True

    async def on_disconnect(self) -> None:
        self.connected = False  # discord.py reconnects; the heartbeat waits until it has

    async def process_commands(self, message: discord.Message, /) -> None:
        if self.accepting_commands:
            await super().process_commands(message)

    async def close(self) -> None:
        """Stop taking commands, flush the query log, then close the gateway. The owner of the
        storage closes it afterwards, which writes anything logged in the meantime."""
        if not self._shutdown_done:
            self._shutdown_done = True
            self.accepting_commands = False
            log.info("shutting down")
            if self._heartbeat.is_running():
                self._heartbeat.cancel()
            try:
                if not await self.storage.flush(max_wait=FLUSH_WAIT_SECONDS):
                    log.warning("query log not fully written after %s s", FLUSH_WAIT_SECONDS)
            except Exception:
                log.exception("could not flush the query log")
        await super().close()

    @tasks.loop(seconds=HEARTBEAT_SECONDS)
    async def _heartbeat(self) -> None:
        if self.connected and self.is_ready() and not self.is_closed():
            self.touch_heartbeat()

    def touch_heartbeat(self) -> None:
        """Tell the container's health check that the bot is alive and connected."""
        if self.heartbeat_path is None:
            return
        try:
            self.heartbeat_path.touch()
        except OSError as exc:
            log.warning("could not touch heartbeat file %s: %s", self.heartbeat_path, exc)


async def open_storage(db_path: str) -> Storage:
    """Open the database; if it cannot be opened, answer anyway with an in-memory one."""
    try:
        return await Storage.open(db_path)
    except Exception:
        log.exception("could not open database %s; using a temporary in-memory one", db_path)
        return await Storage.open(":memory:")


_shutdowns: set[asyncio.Task[None]] = set()  # references, so a running shutdown is not collected


def close_on_signals(bot: PeacebotBot) -> None:
    """Close `bot` gracefully on SIGINT or SIGTERM. Call from inside the running event loop."""
    loop = asyncio.get_running_loop()

    def request_close() -> None:
        task = loop.create_task(bot.close(), name="peacebot-shutdown")
        _shutdowns.add(task)
        task.add_done_callback(_shutdowns.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, request_close)


class StartupError(Exception):
    """Discord would not let the bot in; the message says what to do about it."""


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


def setup_logging(level: int, token: str) -> None:
    discord.utils.setup_logging(level=level, root=True)
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def serve(config: Config, library: Library, heartbeat_path: Path | None = None) -> None:
    """Run the bot until SIGINT/SIGTERM; raise `StartupError` when Discord refuses it."""
    assert config.token is not None

    async def main() -> None:
        storage = await open_storage(config.db_path)
        try:
            bot = PeacebotBot(
                config, storage=storage, library=library, heartbeat_path=heartbeat_path
            )
            async with bot:
                close_on_signals(bot)
                await bot.start(config.token)
        finally:
            await storage.close()  # writes every query-log row still queued

    try:
        asyncio.run(main())
    except discord.LoginFailure as exc:
        raise StartupError(
            "Discord rejected DISCORD_TOKEN; copy the token again from the Developer Portal"
        ) from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise StartupError(
            "Discord refused the message content intent; enable it for the bot in the Developer "
            "Portal, or set PEACEBOT_PREFIX= (empty) to turn prefix commands off"
        ) from exc
