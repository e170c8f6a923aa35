"""The Discord client: the one module in `bot/` that imports discord.

`PeacebotBot` owns the library, the lookup engine, the librarian and the storage; the cogs in
`cogs/` reach them through `bot.librarian`, `bot.engine` and `bot.storage`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.backoff import ExponentialBackoff
from discord.ext import commands, tasks

from bot import __version__
from bot.answers import Answer, Librarian
from bot.config import Config
from bot.content import Library
from bot.loader import load_library
from bot.lookup import LookupEngine
from bot.shutdown import StopSignals, run_until_stopped
from bot.storage import QueryRecord, Shards, Storage, StorageError, check_writable

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
# Shutdown, within the 10 s `docker stop` allows: running commands get DRAIN_SECONDS to finish,
# the query log FLUSH_WAIT_SECONDS to be written (Storage.close() waits again for what is left,
# up to STORAGE_CLOSE_SECONDS), and closing the gateway and HTTP session the rest of the grace.
DRAIN_SECONDS = 3.0
FLUSH_WAIT_SECONDS = 2.0
SHUTDOWN_GRACE_SECONDS = 6.0
STORAGE_CLOSE_SECONDS = 3.0
RESTARTING = "peacebot is restarting; try again in a minute."
# The bot has no voice features. discord.py warns once, when the first client is made, that the
# voice libraries are missing unless these flags are off; its maintainers point to them as the
# way to say voice is not wanted (Rapptz/discord.py#9220).
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


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
    """Counts every slash command and autocomplete as running until it ends, and refuses new
    ones once shutdown has begun, with a reply instead of silence."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        client = interaction.client
        if isinstance(client, PeacebotBot) and not client.admit():
            if interaction.type is discord.InteractionType.application_command:
                with contextlib.suppress(discord.HTTPException):
                    await interaction.response.send_message(RESTARTING, ephemeral=True)
            return False
        return True


class PeacebotBot(commands.AutoShardedBot):
    """peacebot on Discord: an AutoShardedBot running the shards `config` names (all of them,
    as many as Discord recommends, when it names none).

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
            shard_count=config.shard_count,
            shard_ids=list(config.shard_ids) if config.shard_ids is not None else None,
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
        self.component_patterns: dict[type, re.Pattern[str] | None] = {}
        self._shutdown_done = False
        self._connect_task: asyncio.Task[Any] | None = None
        self._running: set[asyncio.Task[Any]] = set()  # tasks running a command or a button
        self.library: Library
        self.engine: LookupEngine
        self.librarian: Librarian
        self.use_library(library if library is not None else load_library(config.content_dir))

    # -- state shared with the cogs -------------------------------------------------------

    def own_shards(self) -> Shards | None:
        """The shards whose servers this process serves; None when it serves all of them."""
        count, ids = self.config.shard_count, self.config.shard_ids
        if count is None or ids is None or len(ids) == count:
            return None
        return Shards(count, frozenset(ids))

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
            self.component_patterns[item] = getattr(item, "PATTERN", None)

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
            await self.sync_if_changed()
        if self.heartbeat_path is not None:
            self._heartbeat.start()
        # Content, indexes and discord.py live for the whole run: keep them out of the garbage
        # collector's full passes, which otherwise stall the event loop for milliseconds.
        gc.freeze()

    def command_digest(self, guild: discord.abc.Snowflake | None = None) -> str:
        """A hash of exactly what a sync would send Discord for `guild` (None: global)."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        payload.sort(key=lambda command: (command.get("type", 1), command["name"]))
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    async def sync_if_changed(self, guild_id: int | None = None, *, force: bool = False) -> bool:
        """Sync the slash commands globally, or to `guild_id` (default PEACEBOT_DEV_GUILD, where
        changes show up at once), unless the database records that this very command tree
        was synced there already; returns whether it synced.

        The record is claimed atomically, so of many processes starting with one new tree
        exactly one syncs it, and syncing never burns Discord's daily command-creation limit
        on restarts. `force` (`peacebot sync`) syncs whatever the record says. A sync that
        fails puts the record back, so the next start tries again.
        """
        guild_id = guild_id if guild_id is not None else self.config.dev_guild_id
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        scope = "global" if guild is None else f"guild:{guild.id}"
        digest = self.command_digest(guild)
        try:
            claim = await self.storage.claim_command_sync(scope, digest)
        except StorageError as exc:
            if not force:
                log.warning("cannot tell whether the commands changed (%s); not syncing", exc)
                return False
            claim = None
        if claim is not None and not claim.claimed and not force:
            log.info("slash commands unchanged since they were last synced (%s)", scope)
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except BaseException:
            if claim is not None and claim.claimed:
                with contextlib.suppress(StorageError):
                    await self.storage.undo_command_sync(scope, digest, claim.previous)
            raise
        where = "globally" if guild is None else f"to server {guild.id}"
        log.info("synced %d app commands %s", len(synced), where)
        return True

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
        if self.admit():
            await super().process_commands(message)

    def admit(self) -> bool:
        """Called as a command, autocomplete or button starts, inside the task that runs it:
        False once shutdown has begun; otherwise the task counts as running until it ends, so
        that shutdown lets it finish before closing the HTTP session it is using."""
        if not self.accepting_commands:
            return False
        task = asyncio.current_task()
        if task is not None and task not in self._running:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return True

    async def connect(self, *, reconnect: bool = True) -> None:
        """discord.py's gateway loop, which one malformed frame must not end.

        discord.py lets an error decoding or parsing a single gateway frame (orjson refuses
        an unpaired surrogate in a message, say) escape its loop, which would end the bot.
        Such a frame is logged and dropped: discord.py cannot skip it and read on, so the
        broken connection is closed and a new session identified, after the same back-off
        discord.py uses for reconnects.
        """
        backoff = ExponentialBackoff()
        self._connect_task = asyncio.current_task()
        while True:
            try:
                await super().connect(reconnect=reconnect)
                return
            except discord.DiscordException:
                raise  # what discord.py means to raise: a bad token, intents, a closed session
            except Exception as exc:
                if self.is_closed():
                    return
                if not reconnect:
                    raise
                delay = backoff.delay()
                log.warning(
                    "dropped a gateway event discord.py could not read (%s: %s); "
                    "reconnecting in %.1f s",
                    type(exc).__name__,
                    exc,
                    delay,
                )
                if self.ws is not None:
                    with contextlib.suppress(Exception):
                        await self.ws.close()
                await asyncio.sleep(delay)

    async def close(self) -> None:
        """Stop taking commands, let running ones finish (for DRAIN_SECONDS at most), flush the
        query log, then close the gateway and the HTTP session. The owner of the storage closes
        it afterwards, which writes anything logged in the meantime.

        discord.py's sharded client calls this itself, from inside `connect()`, when a shard
        meets an error it does not handle (an unreadable frame) or a close it cannot resume
        from. That is not a shutdown: the shards are disconnected and `connect()` decides,
        reconnecting after an unreadable frame and raising after a fatal close (after which
        the owner closes the bot for real).
        """
        if (
            not self._shutdown_done
            and self._connect_task is not None
            and asyncio.current_task() is self._connect_task
        ):
            for shard in self.shards.values():
                with contextlib.suppress(Exception):
                    await shard.disconnect()
            return
        if not self._shutdown_done:
            self._shutdown_done = True
            self.accepting_commands = False
            log.info("shutting down")
            if self._heartbeat.is_running():
                self._heartbeat.cancel()
            await self._finish_running()
            try:
                if not await self.storage.flush(max_wait=FLUSH_WAIT_SECONDS):
                    log.warning("query log not fully written after %s s", FLUSH_WAIT_SECONDS)
            except Exception:
                log.exception("could not flush the query log")
        await super().close()

    async def _finish_running(self) -> None:
        running = self._running - {asyncio.current_task()}
        if not running:
            return
        log.info("waiting for %d running command(s) to finish", len(running))
        _, late = await asyncio.wait(running, timeout=DRAIN_SECONDS)
        if late:
            log.warning("%d command(s) still running after %s s; closing", len(late), DRAIN_SECONDS)

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


async def open_storage(config: Config) -> Storage:
    """The bot's database (PostgreSQL at DATABASE_URL, else SQLite at PEACEBOT_DB), or
    StartupError saying why it cannot be used. Never a stand-in: what users believe is saved
    must still be there after a restart."""
    if config.database_url is not None:
        try:
            return await Storage.open(config.database_url, close_timeout=STORAGE_CLOSE_SECONDS)
        except StorageError as exc:
            raise StartupError(f"cannot use the database: {exc}; check DATABASE_URL") from exc
    try:
        await asyncio.to_thread(check_writable, config.db_path)
        return await Storage.open(config.db_path, close_timeout=STORAGE_CLOSE_SECONDS)
    except StorageError as exc:
        raise StartupError(
            f"cannot use the database: {exc}; set PEACEBOT_DB to a file peacebot may write"
        ) from exc


class StartupError(Exception):
    """Discord would not let the bot in; the message says what to do about it."""


class RedactToken(logging.Filter):
    """Replace the token wherever it appears as a whole word in a log line, whoever logs it
    (inside a longer run of token characters it is not the token, and stays)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._pattern = re.compile(rf"(?<![\w.-]){re.escape(token)}(?![\w.-])")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token and self.token in message:
            redacted = self._pattern.sub("[token]", message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


def setup_logging(level: int, token: str) -> None:
    discord.utils.setup_logging(level=level, root=True)
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def serve(config: Config, library: Library, heartbeat_path: Path | None = None) -> None:
    """Run the bot until SIGINT/SIGTERM; raise `StartupError` when it cannot start."""
    assert config.token is not None
    token = config.token

    async def main() -> None:
        storage = await open_storage(config)
        bot: PeacebotBot | None = None
        try:
            bot = PeacebotBot(
                config, storage=storage, library=library, heartbeat_path=heartbeat_path
            )
            with StopSignals() as stop:
                await run_until_stopped(
                    bot.start(token), stop, on_stop=bot.close, grace=SHUTDOWN_GRACE_SECONDS
                )
        finally:
            if bot is not None:
                # Closes a bot that failed to start; after a stop signal `on_stop` has closed it
                # already, and a close that overran the grace period is not waited for again.
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await bot.close()
            await storage.close()  # writes every query-log row still queued

    try:
        asyncio.run(main())
    except discord.LoginFailure as exc:
        raise StartupError(REJECTED) from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise StartupError(
            "Discord refused the message content intent; enable it for the bot in the Developer "
            "Portal, or set PEACEBOT_PREFIX= (empty) to turn prefix commands off"
        ) from exc
    except discord.ConnectionClosed as exc:
        if exc.code == 4004:
            raise StartupError(REJECTED) from exc
        raise StartupError(
            f"Discord closed the gateway connection (code {exc.code}: {exc.reason or 'no reason'})"
        ) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        reason = str(exc) or "no answer in time"
        raise StartupError(f"cannot reach Discord ({reason}); check the network") from exc
    except discord.HTTPException as exc:
        raise StartupError(
            f"Discord refused a start-up request ({exc.status}: {exc.text or exc})"
        ) from exc
    except discord.DiscordException as exc:
        raise StartupError(f"Discord would not let the bot in ({exc})") from exc


REJECTED = "Discord rejected DISCORD_TOKEN; copy the token again from the Developer Portal"
