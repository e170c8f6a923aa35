"""The review cog's pieces: custom ids that fit Discord and survive a restart, who may press what,
which process sends reminders, and what a refused direct message becomes."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.content import ID_MAX
from bot.review import QUIZ, TERM, Kind, ReminderUndeliverable, ReviewSettings, card_id
from cogs.review import (
    NOT_YOURS,
    Review,
    ReviewButton,
    StartReviewButton,
    owns_direct_messages,
)
from tests._cog_fakes import OTHER_ID, USER_ID, FakeInteraction

LONGEST_USER = 2**64 - 1  # 20 digits


@pytest.mark.parametrize("act", ["a", "1", "2", "3", "4", "c"])
@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("card_kind", [TERM, QUIZ])
async def test_review_buttons_fit_and_rebuild_from_their_custom_id(
    act: str, kind: Kind, card_kind: str
) -> None:
    card = card_id(card_kind, "x" * ID_MAX)
    button = ReviewButton(act, LONGEST_USER, kind, True, card, "Good")
    custom_id = button.custom_id
    assert len(custom_id) <= 100
    match = ReviewButton.PATTERN.fullmatch(custom_id)
    assert match is not None
    rebuilt = await ReviewButton.from_custom_id(None, button.item, match)  # type: ignore[arg-type]
    assert (rebuilt.act, rebuilt.owner_id, rebuilt.kind, rebuilt.scoped, rebuilt.card) == (
        act,
        LONGEST_USER,
        kind,
        True,
        card,
    )
    assert rebuilt.custom_id == custom_id


async def test_the_start_button_rebuilds_and_only_its_owner_may_press_it() -> None:
    button = StartReviewButton(USER_ID)
    match = StartReviewButton.PATTERN.fullmatch(button.custom_id)
    assert match is not None
    rebuilt = await StartReviewButton.from_custom_id(None, button.item, match)  # type: ignore[arg-type]
    assert rebuilt.owner_id == USER_ID
    client = SimpleNamespace(get_cog=lambda name: object())
    interaction = FakeInteraction(client, user_id=OTHER_ID)
    await rebuilt.callback(interaction)  # type: ignore[arg-type]
    assert [sent.content for sent in interaction.replies] == [NOT_YOURS]


async def test_another_member_cannot_press_a_review_button() -> None:
    button = ReviewButton("3", USER_ID, Kind.ALL, False, "term:roe", "Good")
    cog = SimpleNamespace()  # refused before the cog's state is touched
    client = SimpleNamespace(
        get_cog=lambda name: SimpleNamespace(on_press=partial(Review.on_press, cog))
    )
    interaction = FakeInteraction(client, user_id=OTHER_ID)
    await button.callback(interaction)  # type: ignore[arg-type]
    assert [sent.content for sent in interaction.replies] == [NOT_YOURS]


class _Client(discord.Client):
    pass


@pytest.mark.parametrize(
    ("options", "owns"),
    [
        ({}, True),
        ({"shard_id": 0, "shard_count": 4}, True),
        ({"shard_id": 2, "shard_count": 4}, False),
    ],
)
async def test_reminders_run_in_the_process_that_owns_shard_0(
    options: dict[str, int], owns: bool
) -> None:
    client = _Client(intents=discord.Intents.none(), **options)
    assert owns_direct_messages(client) is owns


@pytest.mark.parametrize(("shard_ids", "owns"), [(None, True), ([0, 1], True), ([2, 3], False)])
async def test_an_auto_sharded_process_owns_reminders_when_it_runs_shard_0(
    shard_ids: list[int] | None, owns: bool
) -> None:
    client = discord.AutoShardedClient(
        intents=discord.Intents.none(), shard_ids=shard_ids, shard_count=4 if shard_ids else None
    )
    assert owns_direct_messages(client) is owns


class _Response:
    status, reason = 403, "Forbidden"


async def test_a_refused_direct_message_makes_the_reminder_undeliverable() -> None:
    class Bot:
        async def create_dm(self, user: Any) -> Any:
            class Channel:
                async def send(self, *args: Any, **kwargs: Any) -> None:
                    raise discord.Forbidden(
                        _Response(), {"code": 50007, "message": "Cannot send messages to this user"}
                    )

            return Channel()

    cog: Any = SimpleNamespace(bot=Bot())
    settings = ReviewSettings("a" * 32, remind=True, dm_user_id=USER_ID)
    with pytest.raises(ReminderUndeliverable, match="Cannot send messages"):
        await Review.send_reminder(cog, settings, "You have 1 card due.")
    with pytest.raises(ReminderUndeliverable):
        await Review.send_reminder(cog, ReviewSettings("a" * 32), "no id kept")
