"""stats (Manage Server, checked on the server) and reload (bot owner)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.client import PeacebotBot
from bot.content import Library
from bot.storage import QueryRecord
from tests._cog_fakes import GUILD_ID, OWNER_ID, FakeContext, FakeInteraction, close_bot, make_bot

TEST_LIBRARY = Path(__file__).parent / "data" / "library"
MANAGER = discord.Permissions(manage_guild=True)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(TEST_LIBRARY, target)
    return target


@pytest.fixture
async def bot(small_library: Library, content_dir: Path) -> AsyncIterator[PeacebotBot]:
    made = await make_bot(small_library, content_dir=content_dir)
    yield made
    await close_bot(made)


def command(bot: PeacebotBot, name: str) -> commands.HybridCommand:
    found = bot.get_command(name)
    assert isinstance(found, commands.HybridCommand)
    return found


# -- stats --------------------------------------------------------------------------------------


async def test_stats_needs_manage_server_for_prefix_use(bot: PeacebotBot) -> None:
    stats = command(bot, "stats")
    with pytest.raises(commands.MissingPermissions) as caught:
        await stats.can_run(FakeContext(bot, command=stats))
    assert caught.value.missing_permissions == ["manage_guild"]
    assert await stats.can_run(FakeContext(bot, command=stats, permissions=MANAGER))
    with pytest.raises(commands.NoPrivateMessage):
        await stats.can_run(FakeContext(bot, command=stats, guild_id=None, permissions=MANAGER))


async def test_stats_checks_manage_server_for_slash_use_too(bot: PeacebotBot) -> None:
    app_command = command(bot, "stats").app_command
    assert app_command is not None
    # hidden from members by default, and refused on the server even if an admin un-hides it
    assert app_command.default_permissions == MANAGER
    assert app_command.guild_only
    assert app_command.checks
    for check in app_command.checks:
        with pytest.raises(app_commands.MissingPermissions):
            check(FakeInteraction(bot))  # type: ignore[arg-type]
        assert check(FakeInteraction(bot, permissions=MANAGER))  # type: ignore[arg-type]


async def test_stats_reports_this_server_only(bot: PeacebotBot) -> None:
    def record(guild: int, query: str, matched: str | None) -> QueryRecord:
        return QueryRecord(
            guild_id=guild,
            channel_id=1,
            user_id=5,
            command="define",
            query=query,
            matched_id=matched,
            outcome="exact" if matched else "none",
            score=100.0 if matched else None,
            failed=False,
            duration_ms=2.0,
        )

    bot.storage.log(record(GUILD_ID, "roe", "roe"))
    bot.storage.log(record(GUILD_ID, "roe", "roe"))
    bot.storage.log(record(GUILD_ID, "@everyone **x**", None))
    bot.storage.log(record(GUILD_ID + 1, "elsewhere", None))
    ctx = FakeContext(bot, permissions=MANAGER)
    stats = command(bot, "stats")
    await stats.callback(stats.cog, ctx, days=7)  # type: ignore[misc]
    (sent,) = ctx.sent
    embed = sent.embed
    assert embed is not None and sent.kwargs["ephemeral"] is True
    assert "**3** lookups in the last 7 day(s)" in (embed.description or "")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Top queries"].startswith("2 × roe")
    assert "elsewhere" not in str(embed.to_dict())
    # what users typed is shown inert
    assert "@everyone" not in fields["No match"] and "\\*\\*x\\*\\*" in fields["No match"]
    assert fields["Per command"] == "3 × define"


# -- reload -------------------------------------------------------------------------------------


async def test_reload_is_for_the_bot_owner(bot: PeacebotBot) -> None:
    reload = command(bot, "reload")
    with pytest.raises(commands.NotOwner):
        await reload.can_run(FakeContext(bot, command=reload, permissions=MANAGER))
    assert await reload.can_run(FakeContext(bot, command=reload, user_id=OWNER_ID))
    assert reload.app_command is not None
    assert reload.app_command.default_permissions == discord.Permissions(administrator=True)


async def test_reload_swaps_in_valid_content(bot: PeacebotBot, content_dir: Path) -> None:
    before = bot.library.version
    (content_dir / "library.yaml").write_text(
        (content_dir / "library.yaml")
        .read_text(encoding="utf-8")
        .replace("name: No-fly zone", "name: No-fly area"),
        encoding="utf-8",
    )
    ctx = FakeContext(bot, user_id=OWNER_ID)
    reload = command(bot, "reload")
    await reload.callback(reload.cog, ctx)  # type: ignore[misc]
    assert bot.library.version != before
    assert bot.librarian.define("no-fly area").entry_id == "no-fly-zone"
    (sent,) = ctx.sent
    assert sent.content is not None and sent.content.startswith("Reloaded the content")
    assert sent.kwargs["ephemeral"] is True


async def test_reload_keeps_serving_when_the_content_is_invalid(
    bot: PeacebotBot, content_dir: Path
) -> None:
    before = bot.library
    text = (content_dir / "library.yaml").read_text(encoding="utf-8")
    broken = text.replace("section: international-law", "section: no-such-section", 1)
    (content_dir / "library.yaml").write_text(broken, encoding="utf-8")
    (content_dir / "bad.yaml").write_text("terms: [\n", encoding="utf-8")
    ctx = FakeContext(bot, user_id=OWNER_ID)
    reload = command(bot, "reload")
    await reload.callback(reload.cog, ctx)  # type: ignore[misc]
    assert bot.library is before
    assert bot.librarian.define("roe").entry_id == "roe"
    reply = ctx.sent[0].content or ""
    assert f"still serving version {before.version}" in reply
    assert "content/bad.yaml:" in reply  # file:line: message
    assert "content/library.yaml:" in reply and "no-such-section" in reply
    assert len(reply) <= 2000
