"""Run a real discord.py client against FakeDiscord and talk to it the way users would.

async with FakeDiscord() as fake, running_bot(fake, bot) as harness:
    answer = await harness.slash("define", {"term": "rules of engagment"})
    assert answer.embed["title"] == ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from ._interactions import InteractionBuilder
from ._records import FakeInteraction, MessageRecord, MessageView, NoResponse, Response
from ._server import FakeDiscord
from ._world import Channel, User

START_TIMEOUT = 20.0

Who = str | int | User
Where = str | Channel


@contextmanager
def discord_endpoints(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and gateway address at the fake, restoring both after.

    discord.py builds every REST URL from the class attribute `Route.BASE`. The non-sharded
    client opens the gateway at the class attribute `DiscordWebSocket.DEFAULT_GATEWAY` (it only
    asks `GET /gateway/bot` when sharded, which the fake also answers).
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@asynccontextmanager
async def running_bot(fake: FakeDiscord, bot: discord.Client) -> AsyncIterator[BotHarness]:
    """Log `bot` in to the fake, wait for on_ready, yield a harness, then close the bot."""
    with discord_endpoints(fake):
        harness = BotHarness(fake, bot)
        try:
            await harness.start()
            yield harness
        finally:
            await harness.stop()


class BotHarness:
    """A running bot plus helpers acting as a guild member (default: alice in #general)."""

    def __init__(self, fake: FakeDiscord, bot: discord.Client) -> None:
        self.fake = fake
        self.bot = bot
        self.world = fake.world
        self.build = InteractionBuilder(fake)
        self.user: User = self.world.users["alice"]
        self.channel: Channel = self.world.channels["general"]
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (setup_hook runs, commands sync), connect, and wait for on_ready."""
        async with asyncio.timeout(START_TIMEOUT):
            await self.bot.login(self.fake.token)
        self._task = asyncio.create_task(self.bot.connect(reconnect=False))
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            failure = self._task.exception() if self._task in done else None
            if failure is not None:
                raise RuntimeError("the bot stopped before it was ready") from failure
            raise NoResponse(
                f"the bot was not ready within {START_TIMEOUT}s\n{self.fake.diagnostics()}"
            )
        if self.bot.get_guild(self.world.guild_id) is None:
            # on_ready can precede the guild when the client's guild_ready_timeout is short;
            # GUILD_CREATE (unavailable: false) then arrives as "guild_available".
            await self.bot.wait_for(
                "guild_available",
                check=lambda g: g.id == self.world.guild_id,
                timeout=START_TIMEOUT,
            )

    async def stop(self) -> None:
        await self.bot.close()
        if self._task is not None:
            with suppress(asyncio.CancelledError, discord.ConnectionClosed):
                await asyncio.wait_for(self._task, self.fake.timeout)

    # -- records -------------------------------------------------------------------------------

    @property
    def responses(self) -> list[Response]:
        """Every interaction callback, followup and edit, in arrival order."""
        return self.fake.responses

    @property
    def messages(self) -> list[MessageRecord]:
        """Every message the bot posted to a channel or thread, in order."""
        return self.fake.messages

    # -- acting as a user ----------------------------------------------------------------------

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: Who | None = None,
        channel: Where | None = None,
    ) -> Response:
        """Run `/name` (subcommands as "group sub") and return the bot's visible answer."""
        interaction = await self.dispatch_slash(name, options, user=user, channel=channel)
        return await self.fake.wait_for_answer(interaction.id)

    async def dispatch_slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: Who | None = None,
        channel: Where | None = None,
    ) -> FakeInteraction:
        payload = self.build.slash(name, options or {}, self._user(user), self._channel(channel))
        return await self.fake.dispatch_interaction(payload, f"/{name} {options or {}}")

    async def autocomplete(
        self,
        name: str,
        option: str,
        value: str,
        *,
        options: dict[str, Any] | None = None,
        user: Who | None = None,
        channel: Where | None = None,
    ) -> list[dict[str, Any]]:
        """Type `value` into `option` of `/name`; returns the choices the bot offered."""
        interaction = await self.dispatch_autocomplete(
            name, option, value, options=options, user=user, channel=channel
        )
        response = await self.fake.wait_for_response(interaction.id)
        return response.choices

    async def dispatch_autocomplete(
        self,
        name: str,
        option: str,
        value: str,
        *,
        options: dict[str, Any] | None = None,
        user: Who | None = None,
        channel: Where | None = None,
    ) -> FakeInteraction:
        payload = self.build.autocomplete(
            name, option, value, options or {}, self._user(user), self._channel(channel)
        )
        label = f"/{name} {option}={value!r} (autocomplete)"
        return await self.fake.dispatch_interaction(payload, label)

    async def click(
        self,
        custom_id: str,
        message: MessageView | dict[str, Any],
        *,
        user: Who | None = None,
        values: list[str] | None = None,
    ) -> Response:
        """Click button (or pick `values` in select) `custom_id` on `message`, as it is now."""
        interaction = await self.dispatch_click(custom_id, message, user=user, values=values)
        return await self.fake.wait_for_answer(interaction.id)

    async def dispatch_click(
        self,
        custom_id: str,
        message: MessageView | dict[str, Any],
        *,
        user: Who | None = None,
        values: list[str] | None = None,
    ) -> FakeInteraction:
        current = self._current(message)
        payload = self.build.component(custom_id, current, self._user(user), values)
        return await self.fake.dispatch_interaction(payload, f"click {custom_id!r}")

    async def submit_modal(
        self,
        modal: Response,
        values: dict[str, str],
        *,
        user: Who | None = None,
    ) -> Response:
        """Fill in and submit the modal the bot answered `modal`'s interaction with."""
        interaction = await self.dispatch_modal(modal, values, user=user)
        return await self.fake.wait_for_answer(interaction.id)

    async def dispatch_modal(
        self, modal: Response, values: dict[str, str], *, user: Who | None = None
    ) -> FakeInteraction:
        assert modal.callback_type == 9, f"{modal!r} is not a modal"
        opened_by = modal.interaction.payload
        who = self._user(user)
        assert opened_by["member"]["user"]["id"] == str(who.id), "only its opener sees a modal"
        channel = self.world.channel(int(opened_by["channel_id"]))
        assert channel is not None
        payload = self.build.modal_submit(
            modal.data, values, who, channel, opened_by.get("message")
        )
        label = f"modal {modal.data.get('custom_id')!r}"
        return await self.fake.dispatch_interaction(payload, label)

    async def send_message(
        self,
        content: str,
        *,
        user: Who | None = None,
        channel: Where | None = None,
        mentions: Sequence[Who] = (),
    ) -> MessageRecord:
        """Post `content` as a user (MESSAGE_CREATE); await `wait_for_message(after=...)` next."""
        who = self._user(user)
        message, event = self.build.user_message(
            content, who, self._channel(channel), [self._user(m) for m in mentions]
        )
        record = MessageRecord(message=message, body={"content": content})
        await self.fake.message_log.add(record)
        await self.fake.dispatch("MESSAGE_CREATE", event)
        return record

    async def wait_for_message(
        self,
        predicate: Callable[[MessageRecord], bool] | None = None,
        *,
        after: MessageRecord | None = None,
        channel_id: int | None = None,
    ) -> MessageRecord:
        """The bot's first channel message matching `predicate`, newer than `after` and, by
        default, in the same channel as `after`."""
        if after is not None and channel_id is None:
            channel_id = after.channel_id
        return await self.fake.wait_for_message(predicate, channel_id=channel_id, after=after)

    # -- helpers -------------------------------------------------------------------------------

    def _user(self, who: Who | None) -> User:
        return self.user if who is None else self.world.user(who)

    def _channel(self, where: Where | None) -> Channel:
        if where is None:
            return self.channel
        return where if isinstance(where, Channel) else self.world.channels[where]

    def _current(self, message: MessageView | dict[str, Any]) -> dict[str, Any]:
        if isinstance(message, Response):
            raw = message.message
            assert raw is not None, f"{message!r} carries no message to click on"
        elif isinstance(message, MessageRecord):
            raw = message.message
        else:
            raw = message  # type: ignore[assignment]
        return self.fake.snapshot(int(raw["id"])) or raw
