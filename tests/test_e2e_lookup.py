"""End to end: the real PeacebotBot, through discord.py's HTTP and gateway code, against the fake
Discord API on 127.0.0.1. Expected answers come from the core (`Librarian`), so these tests check
the wiring and the Discord side, not the wording of the content.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.answers import Card, Librarian
from bot.content import Library
from bot.lookup import LookupEngine
from tests.fake_discord import BotHarness, MessageView, live_mentions
from tests.fake_discord.fixtures import StartPeacebot

pytestmark = pytest.mark.e2e

LOOKUPS = {"define": "term", "section": "name", "search": "question"}


@pytest.fixture(scope="module")
def librarian(library: Library) -> Librarian:
    return Librarian(library, LookupEngine(library))


def assert_shows(reply: MessageView, card: Card) -> None:
    """The reply's embed is `card`, as the one embed renderer draws it."""
    embed = reply.embed
    assert embed["title"] == card.title
    assert embed.get("description") == (card.description or None)
    assert [(f["name"], f["value"]) for f in embed.get("fields", [])] == [
        (f.name, f.value) for f in card.fields
    ]


# -- sync --------------------------------------------------------------------------------------


async def test_lookups_are_synced_globally_with_autocompleted_options(peacebot: BotHarness):
    (sync,) = peacebot.fake.sync_requests
    assert sync.guild_id is None
    synced = {c["name"]: c for c in sync.commands}
    for name, option_name in LOOKUPS.items():
        (option,) = synced[name]["options"]
        assert option["name"] == option_name
        assert option["type"] == 3  # string
        assert option["required"] is True
        assert option["autocomplete"] is True
        assert synced[name]["description"]


async def test_dev_guild_gets_the_commands_instead(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot(dev_guild=True)
    assert [s.guild_id for s in harness.fake.sync_requests] == [harness.world.guild_id]
    assert set(LOOKUPS) <= {c["name"] for c in harness.fake.commands[harness.world.guild_id]}
    answer = await harness.slash("define", {"term": "roe"})  # dispatched as a guild command
    assert answer.embed["title"] == "Rules of engagement"


# -- slash commands and autocomplete -----------------------------------------------------------


async def test_slash_define_with_a_typo_answers_with_the_right_embed(
    peacebot: BotHarness, librarian: Librarian
) -> None:
    expected = librarian.define("rules of engagment")
    assert expected.entry_id == "roe"

    answer = await peacebot.slash("define", {"term": "rules of engagment"})

    assert answer.kind == "callback" and answer.callback_type == 4
    assert not answer.ephemeral
    assert_shows(answer, expected.pages[0])
    assert answer.embed["title"] == "Rules of engagement"


@pytest.mark.parametrize(("command", "option"), LOOKUPS.items())
async def test_autocomplete_offers_choices_within_discord_limits(
    peacebot: BotHarness, command: str, option: str
) -> None:
    choices = await peacebot.autocomplete(command, option, "peace")
    assert 1 <= len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100
        assert 1 <= len(choice["value"]) <= 100


async def test_an_autocomplete_pick_opens_that_entry(
    peacebot: BotHarness, librarian: Librarian
) -> None:
    choices = await peacebot.autocomplete("define", "term", "rules of")
    assert "roe" in [c["value"] for c in choices]

    answer = await peacebot.slash("define", {"term": "roe"})

    assert_shows(answer, librarian.open("roe").pages[0])


async def test_did_you_mean_button_swaps_in_the_entry(
    peacebot: BotHarness, librarian: Librarian
) -> None:
    asked = librarian.define("mandat")
    assert asked.outcome == "suggestions" and asked.suggestions[0].entry_id == "mandate"

    shown = await peacebot.slash("define", {"term": "mandat"})
    assert_shows(shown, asked.pages[0])
    labels = [b["label"] for b in shown.buttons]
    assert [s.label for s in asked.suggestions] == labels[: len(asked.suggestions)]

    swapped = await peacebot.click(shown.button("Mandate")["custom_id"], shown)

    assert swapped.callback_type == 7  # the asker's own message now shows the entry
    assert_shows(swapped, librarian.open("mandate").pages[0])
    assert "Mandate" not in [b["label"] for b in swapped.buttons]


async def test_did_you_mean_for_someone_else_opens_privately(
    peacebot: BotHarness, librarian: Librarian
) -> None:
    shown = await peacebot.slash("define", {"term": "mandat"})

    opened = await peacebot.click(shown.button("Mandate")["custom_id"], shown, user="mod")

    assert opened.callback_type == 4 and opened.ephemeral
    assert_shows(opened, librarian.open("mandate").pages[0])
    original = peacebot.fake.message_store[int(shown.message["id"])]
    assert original["embeds"][0]["title"] == shown.embed["title"]  # untouched


# -- prefix commands ---------------------------------------------------------------------------


async def test_prefix_define_is_answered(peacebot: BotHarness, librarian: Librarian) -> None:
    asked = await peacebot.send_message("!define roe")

    reply = await peacebot.wait_for_message(after=asked)

    assert_shows(reply, librarian.define("roe").pages[0])


async def test_with_prefix_commands_off_a_mention_works_without_message_content(
    start_peacebot, librarian: Librarian
) -> None:
    """The default for a verified bot: no prefix, so no privileged intent asked for. Discord
    still delivers the text of a message that mentions the bot (the fake does too, and blanks
    every other message's text), so `@peacebot define roe` is answered."""
    harness = await start_peacebot(prefix="")
    (identify,) = harness.fake.identifies
    intents = discord.Intents._from_value(identify["intents"])
    assert not intents.message_content and not intents.members and not intents.presences
    bot = harness.world.bot
    asked = await harness.send_message(f"{bot.mention} define roe", mentions=[bot])
    reply = await harness.wait_for_message(after=asked)
    assert_shows(reply, librarian.define("roe").pages[0])
    ignored = await harness.send_message("!define roe")  # no prefix: the text is not even seen
    answered = await harness.send_message(f"{bot.mention} define mandate", mentions=[bot])
    second = await harness.wait_for_message(after=ignored)
    assert second.id > answered.id  # the first reply after "!define roe" answers the mention
    assert "content of '!define roe': no MESSAGE_CONTENT" in harness.fake.dropped_events


# -- mentions ----------------------------------------------------------------------------------


def _mentions(harness: BotHarness) -> list[str]:
    world = harness.world
    return ["@everyone", "@here", world.users["mod"].mention, f"<@&{world.roles['moderator'].id}>"]


def assert_inert(reply: MessageView, allowed: dict[str, Any] | None, raw: list[str]) -> None:
    assert allowed is not None and allowed.get("parse") == []
    assert not allowed.get("users") and not allowed.get("roles")
    assert live_mentions(reply.content, allowed) == set()
    visible = reply.text()
    assert not [m for m in raw if m in visible], visible  # echoed input is neutralised too


async def test_everyone_in_a_prefix_command_is_answered_without_a_live_mention(
    peacebot: BotHarness,
) -> None:
    raw = _mentions(peacebot)
    asked = await peacebot.send_message("!define " + " ".join(raw))

    reply = await peacebot.wait_for_message(after=asked)

    assert reply.embeds  # answered (no match), not ignored
    assert_inert(reply, reply.allowed_mentions, raw)


async def test_everyone_in_a_slash_command_is_answered_without_a_live_mention(
    peacebot: BotHarness,
) -> None:
    raw = _mentions(peacebot)

    answer = await peacebot.slash("search", {"question": "who pings " + " ".join(raw)})

    assert answer.embeds
    assert_inert(answer, answer.allowed_mentions, raw)
