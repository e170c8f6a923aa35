"""Bounded memory: what the bot holds per library, per quiz and per server is let go."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

from bot.loader import load_library
from tests._cog_fakes import GUILD_ID, close_bot, make_bot
from tests.conftest import TEST_LIBRARY


async def test_reload_frees_the_old_library_engine_and_answer_cache() -> None:
    bot = await make_bot(
        load_library(TEST_LIBRARY),
        content_dir=TEST_LIBRARY,
        extensions=("cogs._ui", "cogs.errors", "cogs.admin", "cogs.lookup"),
    )
    try:
        bot.librarian.define("mandate")  # fills the answer cache, which the librarian holds
        old = [weakref.ref(thing) for thing in (bot.library, bot.engine, bot.librarian)]
        gc.collect()
        gc.freeze()  # as the bot does once it has started: the old objects are frozen now
        try:
            admin = bot.get_cog("Admin")
            assert admin is not None
            ok, reply = await admin.reload_content()
            assert ok and reply.startswith("Reloaded the content")
            gc.collect()
            assert [ref() is None for ref in old] == [True] * 3
            assert gc.get_freeze_count() > 0  # and the bot is frozen again afterwards
        finally:
            gc.unfreeze()
    finally:
        await close_bot(bot)


async def test_a_server_leaving_is_forgotten_in_memory() -> None:
    bot = await make_bot(
        load_library(TEST_LIBRARY), extensions=("cogs._ui", "cogs.errors", "cogs.daily")
    )
    try:
        await bot.storage.get_settings(GUILD_ID)
        assert len(bot.storage.settings_cache) == 1
        daily = bot.get_cog("Daily")
        assert daily is not None
        await daily.on_guild_remove(SimpleNamespace(id=GUILD_ID))
        assert len(bot.storage.settings_cache) == 0
    finally:
        await close_bot(bot)
