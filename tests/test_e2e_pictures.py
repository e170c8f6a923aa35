"""End to end: pictures through the real bot and the fake Discord API, drawn in the bot's own
process pool: PNGs that carry alt text, and the same data as text."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from bot.content import Library
from bot.pictures import MAX_PNG_BYTES, PictureError, PictureRenderer
from cogs.pictures import UNDRAWN
from tests.fake_discord import BotHarness, Response
from tests.fake_discord.fixtures import StartPeacebot

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = datetime(2024, 3, 15, 12, tzinfo=UTC)
ALT_MAX = 1024


def the_png(answer: Response, filename: str) -> tuple[bytes, str]:
    """The one PNG sent with `answer`, checked: its header, size and alt text."""
    (listed,) = answer.attachments
    (sent,) = answer.files
    assert listed["filename"] == sent.filename == filename
    assert sent.data.startswith(PNG_SIGNATURE) and sent.data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", sent.data[16:24])
    assert width == 1000 and 150 <= height <= 2400
    assert 0 < len(sent.data) <= MAX_PNG_BYTES and listed["size"] == len(sent.data)
    assert sent.description and len(sent.description) <= ALT_MAX
    assert listed["description"] == sent.description
    assert answer.embed["image"]["url"] == f"attachment://{filename}"  # shown in the card
    return sent.data, sent.description


async def text_version(harness: BotHarness, answer: Response, user: str = "alice") -> str:
    button = answer.button("Text version")
    words = await harness.click(button["custom_id"], answer, user=user)
    assert words.ephemeral
    return words.text()


async def test_the_bot_starts_its_picture_workers_and_stops_them(
    start_peacebot: StartPeacebot,
) -> None:
    renderer = PictureRenderer(workers=1, eager=False)
    harness = await start_peacebot(pictures=renderer)
    assert harness.bot.pictures is renderer and renderer.running  # started in setup_hook
    await harness.bot.close()
    assert not renderer.running


async def test_progress_is_a_picture_with_alt_text_and_a_text_version(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    pictures = harness.bot.get_cog("Pictures")
    pictures.now = lambda: NOW  # type: ignore[union-attr]
    storage, guild = harness.bot.storage, harness.world.guild_id
    alice = harness.world.users["alice"].id
    today = NOW.date()
    section = next(iter(library.sections.values()))
    for correct in (True, True, False):
        await storage.record_answer(guild, alice, "Alice", "q", section.id, correct, today)

    answer = await harness.slash("progress", user="alice")
    assert answer.ephemeral
    _, alt = the_png(answer, "progress.png")
    assert alt.startswith("Bar chart of quiz accuracy by section:")
    assert f"{section.title} 67% of 3" in alt and "Calendar of study activity" in alt
    assert "**2** right of **3**" in answer.embed["description"]
    fields = {f["name"]: f["value"] for f in answer.embed["fields"]}
    assert "No exams yet" in fields["Exams"]

    words = await text_version(harness, answer)
    assert f"{section.title}: 67% (2/3 right)" in words
    assert "3 activities" in words  # the day's three answers, in the calendar's words


async def test_the_timeline_is_a_picture_of_the_missions_asked_for(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    answer = await harness.slash(
        "timeline", {"organisation": "NATO", "from": 1995, "to": 2000}, user="alice"
    )
    assert not answer.ephemeral  # a picture for the whole study group
    assert answer.embed["title"] == "Missions and operations led by NATO, 1995-2000"
    _, alt = the_png(answer, "timeline.png")
    assert "led by NATO" in alt and "KFOR (NATO)" in alt and "IFOR (NATO)" in alt
    assert "(UN)" not in alt

    words = await text_version(harness, answer, user="mod")  # anyone may ask for the words
    assert "KFOR:" in words and "led by NATO" in words and "led by UN" not in words

    nothing = await harness.slash("timeline", {"organisation": "OAS", "from": 2020})
    assert nothing.ephemeral and "no missions match" in nothing.content


async def test_a_picture_that_cannot_be_drawn_is_sent_in_words(
    start_peacebot: StartPeacebot, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await start_peacebot()

    async def broken(data: object) -> None:
        raise PictureError("the workers are gone")

    monkeypatch.setattr(harness.bot.pictures, "render", broken)
    answer = await harness.slash("timeline", {"organisation": "AU"})
    assert not answer.files and not answer.attachments
    text = answer.text()
    assert UNDRAWN in text and "AMISOM" in text and "led by AU" in text
