"""The bot as a whole: extensions, intents, mentions, command names, syncing and shutdown."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.client import EXTENSIONS, PeacebotBot, build_intents
from bot.content import Library
from bot.storage import QueryRecord
from cogs._ui import OpenEntryButton, PageButton
from tests._cog_fakes import (
    OWNER_ID,
    USER_ID,
    FakeContext,
    FakeInteraction,
    Sent,
    close_bot,
    make_bot,
)

HOSTILE = "@everyone @here <@123> <@!123> <@&456> **bold** chapter"
LIVE_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>")
EVERYONE = discord.Permissions.all()
NOBODY = {"parse": []}  # AllowedMentions.to_dict(): no @everyone, users, roles or reply ping


@pytest.fixture
async def bot(small_library: Library) -> AsyncIterator[PeacebotBot]:
    made = await make_bot(small_library)
    yield made
    await close_bot(made)


# -- command names ------------------------------------------------------------------------------


def shadowed_names(bot: commands.Bot) -> list[str]:
    """Names (or aliases) that lead to two different commands, for prefix or slash users."""
    problems: list[str] = []
    owners: dict[tuple[str, str], Any] = {}

    def claim(space: str, name: str, command: Any) -> None:
        key = (space, name.casefold())
        other = owners.setdefault(key, command)
        if other is not command:
            problems.append(f"{space} {name!r}: {other.qualified_name} / {command.qualified_name}")

    for command in bot.walk_commands():
        parent = command.full_parent_name
        for name in (command.name, *command.aliases):
            claim(f"prefix {parent}".strip(), name, command)
    for app_command in bot.tree.walk_commands():
        parent = app_command.parent.qualified_name if app_command.parent else ""
        claim(f"slash {parent}".strip(), app_command.name, app_command)
    # A slash command and a prefix command (or alias) of the same name must be one hybrid
    # command; otherwise `/x` and `!x` do different things and `help` can show only one.
    for app_command in bot.tree.get_commands():
        command = bot.get_command(app_command.name)
        if command is not None and getattr(command, "app_command", None) is not app_command:
            problems.append(f"/{app_command.name} and !{app_command.name} are different commands")
    return problems


async def test_no_command_or_alias_shadows_another(bot: PeacebotBot) -> None:
    assert set(bot.extensions) == set(EXTENSIONS)  # every listed extension loaded
    assert len(set(EXTENSIONS)) == len(EXTENSIONS)
    assert shadowed_names(bot) == []


class _Clashing(commands.Cog):
    @commands.command(name="trivia", aliases=["t"])
    async def prefix_trivia(self, ctx: commands.Context[Any]) -> None: ...

    @app_commands.command(name="trivia", description="another quiz")
    async def slash_trivia(self, interaction: discord.Interaction) -> None: ...


async def test_the_shadow_check_catches_a_clash(bot: PeacebotBot) -> None:
    await bot.add_cog(_Clashing())
    assert shadowed_names(bot) == ["/trivia and !trivia are different commands"]
    with pytest.raises(commands.CommandRegistrationError):  # discord.py refuses exact repeats

        @bot.command(name="find", aliases=["define"])
        async def find(ctx: commands.Context[Any]) -> None: ...


# -- mentions -----------------------------------------------------------------------------------


async def test_the_bot_never_pings_anyone(bot: PeacebotBot) -> None:
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == NOBODY


def assert_inert(bot: PeacebotBot, sent: Sent) -> None:
    override = sent.kwargs.get("allowed_mentions")
    allowed = bot.allowed_mentions
    assert allowed is not None
    effective = allowed.merge(override) if override is not None else allowed
    assert effective.to_dict() == NOBODY
    payload = [sent.content or ""]
    if sent.embed is not None:
        payload.append(json.dumps(sent.embed.to_dict(), ensure_ascii=False))
    for text in payload:
        assert not LIVE_MENTION.search(text), text


def _arguments(command: commands.Command[Any, ..., Any]) -> dict[str, Any] | None:
    arguments: dict[str, Any] = {}
    for name, param in command.clean_params.items():
        if param.converter is str:
            arguments[name] = HOSTILE
        elif param.default is not param.empty:
            arguments[name] = param.default
        else:
            return None  # a parameter type this test does not know how to fill
    return arguments


async def test_every_reply_has_no_live_mention(bot: PeacebotBot) -> None:
    ran: list[str] = []
    for command in bot.walk_commands():
        arguments = _arguments(command)
        if arguments is None:
            continue
        ctx = FakeContext(bot, user_id=OWNER_ID, permissions=EVERYONE, command=command)
        await command.callback(command.cog, ctx, **arguments)  # type: ignore[misc]
        assert ctx.sent, f"{command.name} sent nothing"
        for sent in ctx.sent:
            assert_inert(bot, sent)
        ran.append(command.name)
    assert {"define", "section", "search", "help", "about", "stats", "reload"} <= set(ran)


async def test_button_and_error_replies_have_no_live_mention(bot: PeacebotBot) -> None:
    for button in (
        OpenEntryButton(USER_ID, "chapter-vii", HOSTILE, swap=True),
        OpenEntryButton(USER_ID, "chapter-vii", HOSTILE),
        PageButton(USER_ID, "s", HOSTILE[:64], 0, "Next"),
    ):
        for clicker in (USER_ID, OWNER_ID):
            interaction = FakeInteraction(bot, user_id=clicker)
            await button.callback(interaction)  # type: ignore[arg-type]
            for sent in interaction.replies:
                assert_inert(bot, sent)
    ctx = FakeContext(bot)
    await bot.get_cog("ErrorHandler").on_command_error(  # type: ignore[union-attr]
        ctx, commands.BadArgument(f'Member "{HOSTILE}" not found')
    )
    assert_inert(bot, ctx.sent[0])


async def test_a_mistyped_command_reply_has_no_live_mention(bot: PeacebotBot) -> None:
    ctx = FakeContext(bot, invoked_with="defien", rest=" " + HOSTILE)
    await bot.get_cog("Meta").on_unknown_command(ctx)  # type: ignore[union-attr]
    assert len(ctx.sent) == 2
    for sent in ctx.sent:
        assert_inert(bot, sent)


# -- intents, syncing, the query log, shutdown --------------------------------------------------


def test_intents_are_minimal() -> None:
    with_prefix = build_intents("!")
    assert with_prefix.message_content and with_prefix.guild_messages and with_prefix.guilds
    assert not (with_prefix.members or with_prefix.presences or with_prefix.reactions)
    slash_only = build_intents("")
    assert slash_only.guilds
    assert not (slash_only.message_content or slash_only.dm_messages)
    assert slash_only.guild_messages  # discussion-thread posts count towards streaks


async def test_slash_only_bot_asks_for_no_message_content(small_library: Library) -> None:
    made = await make_bot(small_library, prefix="")
    try:
        assert not made.intents.message_content
        assert made.allowed_mentions is not None
        assert made.allowed_mentions.to_dict() == NOBODY
    finally:
        await close_bot(made)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[discord.abc.Snowflake | None] = []

    async def __call__(self, *, guild: discord.abc.Snowflake | None = None) -> list[Any]:
        self.calls.append(guild)
        return []


async def test_commands_sync_globally_or_to_the_dev_server(
    bot: PeacebotBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(bot.tree, "sync", recorder)
    assert await bot.sync_if_changed()
    assert recorder.calls == [None]
    assert not await bot.sync_if_changed()  # the same tree: no second sync
    assert recorder.calls == [None]
    assert await bot.sync_if_changed(force=True)  # `peacebot sync` syncs whatever
    bot.config = dataclasses.replace(bot.config, dev_guild_id=5)
    assert await bot.sync_if_changed()
    assert recorder.calls[2] is not None and recorder.calls[2].id == 5
    names = {c.name for c in bot.tree.get_commands(guild=discord.Object(id=5))}
    assert {"define", "section", "search"} <= names


async def test_a_changed_command_tree_is_synced_again_and_a_failed_sync_retried(
    bot: PeacebotBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(bot.tree, "sync", recorder)
    assert await bot.sync_if_changed()
    first = bot.command_digest()

    @bot.tree.command(name="extra", description="a command added by a new version")
    async def extra(interaction: discord.Interaction) -> None: ...

    assert bot.command_digest() != first

    async def failing(*, guild: object = None) -> list[Any]:
        raise discord.HTTPException(_FakeResponse(), "Discord is down")

    monkeypatch.setattr(bot.tree, "sync", failing)
    with pytest.raises(discord.HTTPException):
        await bot.sync_if_changed()
    monkeypatch.setattr(bot.tree, "sync", recorder)
    assert await bot.sync_if_changed()  # the failed sync was not recorded as done
    assert recorder.calls == [None, None]


class _FakeResponse:
    status = 503
    reason = "Service Unavailable"


async def test_log_query_records_a_lookup(bot: PeacebotBot) -> None:
    answer = bot.librarian.define("roe")
    bot.log_query(
        command="define",
        query="roe",
        started=0.0,
        guild_id=1,
        channel_id=2,
        user_id=USER_ID,
        answer=answer,
    )
    await bot.storage.flush()
    (row,) = [row async for row in bot.storage.iter_queries()]
    assert (row.command, row.matched_id, row.outcome) == ("define", "roe", "alias")
    assert row.user_hash != str(USER_ID)


class _BrokenStorage:
    def log(self, record: QueryRecord) -> None:
        raise RuntimeError("disk full")


async def test_log_query_never_raises(bot: PeacebotBot) -> None:
    real = bot.storage
    bot.storage = _BrokenStorage()  # type: ignore[assignment]
    try:
        bot.log_query(
            command="define", query="x", started=0.0, guild_id=None, channel_id=None, user_id=None
        )
    finally:
        bot.storage = real


async def test_closing_stops_commands_and_flushes_the_log(small_library: Library) -> None:
    made = await make_bot(small_library)
    made.log_query(command="define", query="roe", started=0.0, guild_id=1, channel_id=2, user_id=3)
    await made.close()
    assert not made.accepting_commands
    assert made.storage.log_pending == 0
    rows = [row async for row in made.storage.iter_queries()]
    assert [r.query for r in rows] == ["roe"]
    await made.storage.close()


async def test_slash_commands_during_shutdown_are_answered(bot: PeacebotBot) -> None:
    bot.accepting_commands = False
    interaction = FakeInteraction(bot)
    interaction.type = discord.InteractionType.application_command  # type: ignore[attr-defined]
    assert await bot.tree.interaction_check(interaction) is False  # type: ignore[arg-type]
    (sent,) = interaction.response.sent
    assert "restarting" in (sent.content or "") and sent.kwargs["ephemeral"] is True


async def test_heartbeat_file_is_touched(bot: PeacebotBot, tmp_path: Path) -> None:
    bot.heartbeat_path = tmp_path / "heartbeat"
    bot.touch_heartbeat()
    assert bot.heartbeat_path.exists()


async def test_use_library_swaps_engine_and_librarian(bot: PeacebotBot, library: Library) -> None:
    old = bot.librarian
    bot.use_library(library)
    assert bot.library is library and bot.librarian is not old
    assert bot.librarian.library is library and bot.engine.library is library
