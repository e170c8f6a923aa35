"""End to end: reporting a mistake from an answer card, through the form, to the moderators'
channel and the database."""

from __future__ import annotations

import pytest

from bot.content import Library
from bot.storage import StorageBusy
from cogs.reports import DUPLICATE, NOT_SAVED
from tests.fake_discord import BotHarness, live_mentions
from tests.fake_discord.fixtures import StartPeacebot

pytestmark = pytest.mark.e2e

WHAT = "@everyone the start year here is wrong, <@123> **says** so"


async def open_report_form(harness: BotHarness, user: str = "alice"):  # type: ignore[no-untyped-def]
    answer = await harness.slash("define", {"term": "roe"}, user=user)
    button = answer.button("Report a mistake")
    assert button["custom_id"].endswith(":roe")
    form = await harness.click(button["custom_id"], answer, user=user)
    assert form.callback_type == 9  # the form is the first response: no deferral before it
    return form


async def test_every_answer_card_about_one_entry_opens_the_report_form(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    """Definitions, sections and facts (the quiz reveal: test_e2e_study; the daily post goes
    through the same renderer as /fact). The button names the entry and the content version the
    card showed, and opens the form for that entry, for anyone who reads the card."""
    harness = await start_peacebot()
    section = library.sections["international-law"]
    fact = await harness.slash("fact", {"section": section.title})
    (fact_id,) = [f.id for f in library.facts.values() if f.text == fact.embed["description"]]
    cards = {
        "roe": await harness.slash("define", {"term": "roe"}),
        section.id: await harness.slash("section", {"name": section.title}),
        fact_id: fact,
    }
    for entry_id, card in cards.items():
        button = card.button("Report a mistake")
        assert button["custom_id"] == f"pb:report:{library.version}:{entry_id}"
        form = await harness.click(button["custom_id"], card, user="mod")
        assert form.callback_type == 9, entry_id
        assert form.data["custom_id"] == f"pb:reportform:{library.version}:{entry_id}"


async def test_a_report_reaches_the_moderators_channel_and_the_database(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    study = harness.world.channels["study"]
    refused = await harness.slash("reports channel", {"channel": "study"}, user="alice")
    assert "Manage Server" in refused.content  # checked by the bot, not only hidden by Discord
    set_reply = await harness.slash("reports channel", {"channel": "study"}, user="mod")
    assert set_reply.ephemeral and f"<#{study.id}>" in set_reply.content

    form = await open_report_form(harness)
    thanks = await harness.submit_modal(form, {"what": WHAT, "source": "UN website"})
    assert thanks.ephemeral and "sent to this server's moderators" in thanks.text()

    post = await harness.wait_for_message(
        lambda m: bool(m.embeds) and m.embed["title"] == "Mistake reported", channel_id=study.id
    )
    fields = {f["name"]: f["value"] for f in post.embed["fields"]}
    assert fields["Entry"].startswith("Rules of engagement")
    assert "roe" in fields["Entry"]
    assert "@\u200beveryone" in fields["What is wrong"]  # inert: no ping, no markdown
    assert "\\*\\*says\\*\\*" in fields["What is wrong"]
    assert fields["Source given"] == "UN website"
    assert library.version in post.embed["footer"]["text"]
    assert live_mentions(post.content, post.allowed_mentions) == set()
    assert post.allowed_mentions == {"parse": []}

    (stored,) = await harness.bot.storage.mistake_reports()
    assert (stored.entry_id, stored.content_version) == ("roe", library.version)
    assert stored.user_hash == harness.bot.storage.user_hash(harness.world.users["alice"].id)
    assert stored.guild_id == harness.world.guild_id

    # One report per member, entry and day.
    again = await harness.submit_modal(await open_report_form(harness), {"what": WHAT})
    assert again.text() == DUPLICATE
    assert len(await harness.bot.storage.mistake_reports()) == 1


async def test_a_report_that_cannot_be_saved_is_told_with_what_was_written(
    start_peacebot: StartPeacebot, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await start_peacebot()

    async def busy(report: object) -> bool:
        raise StorageBusy("the database is busy")

    monkeypatch.setattr(harness.bot.storage, "add_report", busy)
    reply = await harness.submit_modal(await open_report_form(harness), {"what": WHAT})
    assert reply.ephemeral and reply.text().startswith(NOT_SAVED)
    assert "the start year here is wrong" in reply.text()  # nothing the member wrote is lost
    assert live_mentions(reply.content, reply.allowed_mentions) == set()
    assert not [m for m in harness.messages if m.embeds and m.embed["title"] == "Mistake reported"]


async def test_without_a_reports_channel_the_report_is_only_kept(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    reply = await harness.submit_modal(await open_report_form(harness), {"what": WHAT})
    assert "saved for the content maintainers." in reply.text()
    assert "moderators" not in reply.text()
    assert await harness.bot.storage.count_reports() == 1
