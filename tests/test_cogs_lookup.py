"""define, section and search, called directly with real contexts and a real library."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from discord import app_commands

from bot.client import PeacebotBot
from bot.content import Library
from cogs._ui import CHOICES_MAX
from cogs.lookup import SEARCH_MAX, Lookup
from tests._cog_fakes import USER_ID, FakeContext, FakeInteraction, close_bot, make_bot


@pytest.fixture
async def bot(small_library: Library) -> AsyncIterator[PeacebotBot]:
    made = await make_bot(small_library)
    yield made
    await close_bot(made)


def cog(bot: PeacebotBot) -> Lookup:
    # load_extension executes the module afresh, so compare by name, not by class identity
    found = bot.get_cog("Lookup")
    assert found is not None
    return found  # type: ignore[return-value]


async def run(bot: PeacebotBot, name: str, text: str) -> FakeContext:
    command = bot.get_command(name)
    assert command is not None
    ctx = FakeContext(bot, command=command)
    param = next(iter(command.clean_params))
    await command.callback(cog(bot), ctx, **{param: text})  # type: ignore[misc]
    return ctx


async def logged(bot: PeacebotBot) -> list[tuple[str, str, Any]]:
    await bot.storage.flush()
    rows = [row async for row in bot.storage.iter_queries()]
    return [(r.command, r.query, r.matched_id) for r in rows]


# -- define, section, search -------------------------------------------------------------------


async def test_define_with_a_typo_answers_the_term(bot: PeacebotBot) -> None:
    ctx = await run(bot, "define", "chapter vij")
    (sent,) = ctx.sent
    assert sent.embed is not None and sent.embed.title == "Chapter VII of the UN Charter"
    related = [b.custom_id for b in sent.view.children]  # type: ignore[union-attr]
    assert f"pb:open:n:{USER_ID}:article-41" in related
    assert await logged(bot) == [("define", "chapter vij", "chapter-vii")]


async def test_define_unsure_offers_did_you_mean_buttons(bot: PeacebotBot) -> None:
    ctx = await run(bot, "define", "article")
    (sent,) = ctx.sent
    assert sent.embed is not None and sent.embed.title == "Did you mean…?"
    ids = {b.custom_id for b in sent.view.children}  # type: ignore[union-attr]
    assert ids == {
        f"pb:open:s:{USER_ID}:article-41",
        f"pb:open:s:{USER_ID}:article-42",
        f"pb:list:{USER_ID}:terms",  # and the glossary, not only guesses
    }


async def test_define_no_match_suggests_search_and_the_glossary(bot: PeacebotBot) -> None:
    ctx = await run(bot, "define", "xyzzy")
    (sent,) = ctx.sent
    assert sent.embed is not None and sent.embed.title == "No match"
    assert "/search" in (sent.embed.description or "")
    assert "/terms" in (sent.embed.description or "")
    (browse,) = sent.view.children  # type: ignore[union-attr]
    assert browse.custom_id == f"pb:list:{USER_ID}:terms"
    assert await logged(bot) == [("define", "xyzzy", None)]


async def test_section_no_match_offers_the_sections(bot: PeacebotBot) -> None:
    ctx = await run(bot, "section", "xyzzy")
    (browse,) = ctx.sent[0].view.children  # type: ignore[union-attr]
    assert browse.custom_id == f"pb:list:{USER_ID}:sections"


async def test_section_named_by_a_term_says_so_and_offers_it(bot: PeacebotBot) -> None:
    ctx = await run(bot, "section", "roe")
    (sent,) = ctx.sent
    assert sent.embed is not None and sent.embed.title == "A glossary term, not a section"
    assert "Rules of engagement" in (sent.embed.description or "")
    ids = [b.custom_id for b in sent.view.children]  # type: ignore[union-attr]
    assert ids[0] == f"pb:open:s:{USER_ID}:roe"


async def test_define_names_a_section_offers_it(bot: PeacebotBot) -> None:
    ctx = await run(bot, "define", "case studies")
    (sent,) = ctx.sent
    ids = [b.custom_id for b in sent.view.children]  # type: ignore[union-attr]
    assert ids[0] == f"pb:open:s:{USER_ID}:successes-case-studies"


async def test_sections_lists_every_section_with_a_menu(bot: PeacebotBot) -> None:
    command = bot.get_command("sections")
    assert command is not None
    ctx = FakeContext(bot, command=command)
    await command.callback(cog(bot), ctx)  # type: ignore[misc]
    (sent,) = ctx.sent
    text = sent.embed.description or ""  # type: ignore[union-attr]
    assert all(s.title in text for s in bot.library.sections.values())
    (menu,) = sent.view.children  # type: ignore[union-attr]
    assert {o.value for o in menu.item.options} == set(bot.library.sections)


async def test_terms_filters_by_section_and_letter(bot: PeacebotBot) -> None:
    command = bot.get_command("terms")
    assert command is not None
    ctx = FakeContext(bot, command=command)
    law = bot.library.sections["international-law"]
    await command.callback(cog(bot), ctx, law, "a")  # type: ignore[misc]
    (sent,) = ctx.sent
    (menu,) = sent.view.children  # type: ignore[union-attr]
    picked = [bot.library.terms[o.value] for o in menu.item.options]
    assert picked and all(t.section == law.id and t.name.lower().startswith("a") for t in picked)


async def test_define_does_not_answer_with_a_section(bot: PeacebotBot) -> None:
    # An autocomplete value is only a suggestion: a section id sent to /define is re-resolved
    # as text among terms, not opened.
    ctx = await run(bot, "define", "international-law")
    (sent,) = ctx.sent
    assert sent.embed is not None
    assert sent.embed.title != "International Laws Governing Peace Missions"


async def test_an_autocomplete_pick_opens_that_entry(bot: PeacebotBot) -> None:
    ctx = await run(bot, "define", "no-fly-zone")
    assert ctx.sent[0].embed.title == "No-fly zone"  # type: ignore[union-attr]
    ctx = await run(bot, "section", "successes-case-studies")
    assert ctx.sent[0].embed.title == "Successes and Case Studies in Peace Enforcement"  # type: ignore[union-attr]


async def test_section_with_a_typo(bot: PeacebotBot) -> None:
    ctx = await run(bot, "section", "internatonal law")
    (sent,) = ctx.sent
    assert sent.embed is not None
    assert sent.embed.title == "International Laws Governing Peace Missions"


async def test_search_lists_hits_that_open_privately(bot: PeacebotBot) -> None:
    ctx = await run(bot, "search", "what happened in liberia")
    (sent,) = ctx.sent
    assert sent.embed is not None and sent.embed.title == "Search: what happened in liberia"
    ids = [b.custom_id for b in sent.view.children]  # type: ignore[union-attr]
    assert f"pb:open:n:{USER_ID}:unmil" in ids
    (row,) = await logged(bot)
    assert row[:2] == ("search", "what happened in liberia") and row[2] in {"unmil", "unmil-1509"}


async def test_search_for_a_name_answers_with_the_entry(bot: PeacebotBot) -> None:
    ctx = await run(bot, "search", "ROE")
    assert ctx.sent[0].embed.title == "Rules of engagement"  # type: ignore[union-attr]


async def test_search_query_is_bounded(bot: PeacebotBot) -> None:
    ctx = await run(bot, "search", "liberia " * 40)
    title = ctx.sent[0].embed.title or ""  # type: ignore[union-attr]
    assert len(title) <= len("Search: ") + SEARCH_MAX
    (_, query, _) = (await logged(bot))[0]
    assert len(query) <= SEARCH_MAX


async def test_input_with_mentions_is_echoed_inert(bot: PeacebotBot) -> None:
    ctx = await run(bot, "define", "@everyone <@123> <@&456>")
    embed = ctx.sent[0].embed
    assert embed is not None
    text = embed.description or ""
    assert "@everyone" not in text and "<@123>" not in text and "<@&456>" not in text


async def test_a_reload_is_seen_by_the_next_lookup(bot: PeacebotBot, library: Library) -> None:
    bot.use_library(library)  # the bundled content has far more terms than the test library
    ctx = await run(bot, "define", "mandate")
    assert ctx.sent[0].embed.title == "Mandate"  # type: ignore[union-attr]


# -- autocomplete -------------------------------------------------------------------------------


async def test_autocomplete_offers_terms_by_id(bot: PeacebotBot) -> None:
    choices = await cog(bot).term_choices(FakeInteraction(bot), "chap")  # type: ignore[arg-type]
    assert choices[0] == app_commands.Choice(
        name="Chapter VII of the UN Charter", value="chapter-vii"
    )
    assert all(bot.library.get(c.value).kind == "term" for c in choices)  # type: ignore[union-attr]


async def test_autocomplete_for_sections_offers_only_sections(bot: PeacebotBot) -> None:
    choices = await cog(bot).section_choices(FakeInteraction(bot), "")  # type: ignore[arg-type]
    assert {c.value for c in choices} == {"international-law", "successes-case-studies"}


async def test_autocomplete_stays_within_discord_limits(bot: PeacebotBot, library: Library) -> None:
    bot.use_library(library)
    for partial in ("", "a", "un", "x" * 5000, "\x00\u202e@everyone"):
        choices = await cog(bot).entry_choices(FakeInteraction(bot), partial)  # type: ignore[arg-type]
        assert len(choices) <= CHOICES_MAX
        assert all(1 <= len(c.name) <= 100 and 1 <= len(c.value) <= 100 for c in choices)
    assert len(await cog(bot).entry_choices(FakeInteraction(bot), "")) == CHOICES_MAX  # type: ignore[arg-type]


class _BrokenEngine:
    def autocomplete(self, *args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("index is broken")


async def test_autocomplete_failure_answers_with_no_choices(bot: PeacebotBot) -> None:
    bot.engine = _BrokenEngine()  # type: ignore[assignment]
    assert await cog(bot).term_choices(FakeInteraction(bot), "chap") == []  # type: ignore[arg-type]


async def test_every_lookup_option_is_described_and_autocompleted(bot: PeacebotBot) -> None:
    for name in ("define", "section", "search"):
        app_command = bot.tree.get_command(name)
        assert isinstance(app_command, app_commands.Command)
        (param,) = app_command.parameters
        assert param.autocomplete and param.required
        assert param.description and param.description != "…"
