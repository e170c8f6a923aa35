"""FakeDiscord: the fake API's state, its lifecycle on 127.0.0.1, and what tests drive it with."""

from __future__ import annotations

import asyncio
import copy
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from ._gateway import GatewaySession
from ._holds import Hold, Holds
from ._ids import Snowflakes
from ._ratelimits import RateLimitHit, RateLimits
from ._records import (
    LOADING_FLAG,
    FakeInteraction,
    MessageLog,
    MessageRecord,
    NoResponse,
    Rejection,
    Response,
    SyncRecord,
)
from ._rest import build_app
from ._world import PUBLIC_THREAD, Channel, User, World, iso

T = TypeVar("T")
EDITABLE_MESSAGE_KEYS = ("content", "embeds", "components", "flags", "attachments", "poll")


class FakeDiscord:
    """A fake Discord API (REST under /api/v10 and a websocket gateway) on 127.0.0.1.

    Use as `async with FakeDiscord() as fake:`; point a client at `fake.api_base` and
    `fake.gateway_url` (see `harness.discord_endpoints`).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "peacebot",
        timeout: float = 5.0,
        interaction_deadline: float = 3.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.timeout = timeout
        # Discord forgets an interaction's token when its first response has not come within
        # 3 s: a late callback gets 404 "Unknown interaction" (10062). `clock` decides "late".
        self.interaction_deadline = interaction_deadline
        self.clock = clock
        self.late_callbacks: list[FakeInteraction] = []
        self.rate_limits = RateLimits()
        self.ids = Snowflakes()
        self.world = World(self.ids, bot_name=bot_name)
        self.token = token or "fake." + secrets.token_urlsafe(24)
        self.port: int | None = None

        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.responses: list[Response] = []
        self.message_log = MessageLog()
        self.message_store: dict[int, dict[str, Any]] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.sync_requests: list[SyncRecord] = []
        self.identifies: list[dict[str, Any]] = []
        self.rejected: list[Rejection] = []
        self.unhandled: list[str] = []
        self.dropped_events: list[str] = []

        self.sessions: list[GatewaySession] = []
        # What GET /gateway/bot recommends: discord.py's AutoShardedBot runs that many shards
        # when it is not told a count.
        self.recommended_shards = 1
        self._session_ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.holds = Holds()
        self.gateway_down = False  # refuse new gateway connections (see `drop_gateway`)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.port is not None, "FakeDiscord is not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + "/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/ws"

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self), access_log=None, handle_signals=False)
        await self._runner.setup()
        # Bind first so the OS picks a free port we can read back without private attributes.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        for session in list(self.sessions):
            await session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def hold(self, method: str, prefix: str) -> Hold:
        """Hold back REST requests like `hold("POST", "/interactions/")` until released."""
        return self.holds.add(method, prefix)

    # -- gateway -------------------------------------------------------------------------------

    def session_started(self, session: GatewaySession) -> None:
        self.sessions.append(session)
        self._session_ready.set()

    def session_ended(self, session: GatewaySession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
        if not self.sessions:
            self._session_ready.clear()

    async def wait_for_session(self) -> GatewaySession:
        """The identified gateway session of the connected bot."""
        await self._bounded(self._session_ready.wait(), "no bot identified on the gateway")
        return self.sessions[-1]

    def sessions_for(self, guild_id: int | None) -> list[GatewaySession]:
        """The sessions that receive a guild's events: those whose shard holds the guild.
        Two sessions that identified the same shard (a rolling deploy) both receive them, as
        on Discord; an interaction then takes the first callback and refuses the second."""
        if guild_id is None:  # direct messages arrive on shard 0
            return [s for s in self.sessions if s.shard is None or s.shard[0] == 0]
        return [s for s in self.sessions if s.owns(guild_id)]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) to every session that receives the event's guild (the
        guild of `data["guild_id"]`; the latest session when the event names none)."""
        await self.wait_for_session()
        guild = data.get("guild_id")
        targets = self.sessions_for(int(guild)) if guild else self.sessions[-1:]
        for session in targets:
            await session.dispatch(event, data)

    async def drop_gateway(self) -> None:
        """Discord's gateway goes away: every session is closed and reconnects are refused
        (503), so discord.py retries with its growing back-off until `gateway_down` is False."""
        self.gateway_down = True
        for session in list(self.sessions):
            await session.close()

    async def send_raw_frame(self, text: str) -> None:
        """Send `text` as one gateway frame, unchecked: a malformed frame, for instance a
        MESSAGE_CREATE whose content holds an unpaired surrogate (`\\ud83d`), which strict
        JSON decoders such as orjson refuse."""
        session = await self.wait_for_session()
        await session.send_raw(text)

    def register_interaction(self, payload: dict[str, Any], label: str) -> FakeInteraction:
        """Make an interaction known to the REST API (dispatch_interaction also sends it)."""
        interaction = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            label=label,
        )
        self.interactions[interaction.id] = interaction
        self.interactions_by_token[interaction.token] = interaction
        return interaction

    async def dispatch_interaction(self, payload: dict[str, Any], label: str) -> FakeInteraction:
        interaction = self.register_interaction(payload, label)
        await self.wait_for_session()
        interaction.dispatched_at = self.clock()
        for session in self.sessions_for(int(payload["guild_id"])):
            await session.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def rate_limit(
        self,
        method: str,
        path: str,
        *,
        times: int = 1,
        retry_after: float = 0.25,
        is_global: bool = False,
    ) -> None:
        """Answer the next `times` requests `METHOD path` (a regex over the path after
        /api/v10, e.g. r"/channels/\\d+/messages") with 429 and `retry_after` seconds."""
        self.rate_limits.add(
            method, path, times=times, retry_after=retry_after, is_global=is_global
        )

    @property
    def rate_limited(self) -> list[RateLimitHit]:
        """The requests answered with 429, in order."""
        return self.rate_limits.hits

    # -- waiting: each wait is bounded by `self.timeout` ----------------------------------------

    async def wait_for_response(self, interaction_id: int) -> Response:
        """The interaction's callback (type 4/5/6/7/8/9), as soon as it arrives."""
        interaction = self.interactions[interaction_id]
        await self._bounded(interaction.acknowledged.wait(), f"no callback for {interaction.label}")
        assert interaction.callback is not None
        return interaction.callback

    async def wait_for_answer(self, interaction_id: int) -> Response:
        """The first visible answer: a message callback, autocomplete result, followup or edit."""
        interaction = self.interactions[interaction_id]
        await self._bounded(interaction.answered.wait(), f"no answer to {interaction.label}")
        assert interaction.answer is not None
        return interaction.answer

    async def wait_for_responses(self, interaction_id: int, count: int) -> list[Response]:
        """The interaction's responses once there are at least `count` (callback, edits, ...)."""
        interaction = self.interactions[interaction_id]
        return await self._bounded(
            interaction.wait_until(lambda responses: len(responses) >= count),
            f"fewer than {count} responses to {interaction.label}",
        )

    async def wait_for_message(
        self,
        predicate: Callable[[MessageRecord], bool] | None = None,
        *,
        channel_id: int | None = None,
        after: MessageRecord | None = None,
        from_bot: bool = True,
    ) -> MessageRecord:
        """The first channel message (newer than `after`) matching all the given conditions."""
        after_id = after.id if after is not None else 0

        def matches(record: MessageRecord) -> bool:
            return (
                record.id > after_id
                and (channel_id is None or record.channel_id == channel_id)
                and (not from_bot or record.author_id == self.world.bot.id)
                and (predicate is None or predicate(record))
            )

        where = f"in channel {channel_id}" if channel_id else "in any channel"
        return await self._bounded(self.message_log.wait_until(matches), f"no message {where}")

    async def _bounded(self, waiting: Awaitable[T], failure: str) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await waiting
        except TimeoutError:
            raise NoResponse(f"{failure} within {self.timeout}s\n{self.diagnostics()}") from None

    def diagnostics(self) -> str:
        """What went wrong on the wire, for timeout messages."""
        lines = [f"bot responses so far: {self.responses[-5:]}"]
        recent = self.message_log.records[-5:]
        if recent:
            lines.append(f"latest channel messages: {recent}")
        if self.rejected:
            lines.append(f"requests the fake refused: {self.rejected[-5:]}")
        if self.unhandled:
            lines.append(f"routes the fake does not implement: {self.unhandled[-5:]}")
        if self.late_callbacks:
            late = [i.label for i in self.late_callbacks[-5:]]
            lines.append(
                f"first responses after the {self.interaction_deadline} s deadline: {late}"
            )
        if self.dropped_events:
            lines.append(f"events not delivered (intents): {self.dropped_events[-5:]}")
        return "\n".join(lines)

    # -- records for tests ---------------------------------------------------------------------

    @property
    def messages(self) -> list[MessageRecord]:
        """Messages the bot posted to channels and threads over REST, in order."""
        bot_id = self.world.bot.id
        return [r for r in self.message_log.records if r.author_id == bot_id]

    def command(self, name: str, guild_id: int | None = None) -> dict[str, Any]:
        """A synced command by name: from the guild's commands, else the global ones."""
        for scope in (guild_id or self.world.guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        synced = {scope: [c["name"] for c in cs] for scope, cs in self.commands.items()}
        raise AssertionError(f"/{name} was never synced; synced commands: {synced}")

    def forget_history(self) -> None:
        """Drop recorded interactions and messages (a long benchmark would hoard them all,
        and a growing heap slows every garbage collection, so every later request)."""
        self.interactions.clear()
        self.interactions_by_token.clear()
        self.responses.clear()
        self.message_store.clear()
        self.message_log = MessageLog()

    # -- state changes used by the REST routes -------------------------------------------------

    def new_message(
        self,
        channel_id: int,
        author: User,
        data: dict[str, Any],
        *,
        message_type: int = 0,
        files: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = self.ids.next()
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(self._guild_id_of(channel_id)),
            "author": author.payload(),
            "content": data.get("content") or "",
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": bool(data.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [_attachment(self.ids.next(), name) for name in files or []],
            "embeds": [_embed(e) for e in data.get("embeds") or []],
            "components": data.get("components") or [],
            "pinned": False,
            "type": message_type,
            "flags": int(data.get("flags") or 0),
        }
        message.update(extra or {})
        self.message_store[message_id] = message
        channel = self.world.channel(channel_id)
        if channel is not None:
            channel.last_message_id = message_id
            channel.message_count += 1
        return message

    def _guild_id_of(self, channel_id: int) -> int:
        channel = self.world.channel(channel_id)
        return channel.guild_id if channel is not None else self.world.guild_id

    def edit_message(self, message_id: int, data: dict[str, Any]) -> dict[str, Any]:
        message = self.message_store[message_id]
        for key in EDITABLE_MESSAGE_KEYS:
            if key in data and data[key] is not None:
                message[key] = [_embed(e) for e in data[key]] if key == "embeds" else data[key]
        message["flags"] = int(message.get("flags") or 0) & ~LOADING_FLAG
        message["edited_timestamp"] = iso()
        record = self.message_log.by_id.get(message_id)
        if record is not None:
            record.edits.append(dict(message))
        return message

    def snapshot(self, message_id: int | None) -> dict[str, Any] | None:
        """The message as it is now. A shallow copy is enough: every change to a stored
        message replaces top-level values and never mutates nested ones."""
        if message_id is None or message_id not in self.message_store:
            return None
        return dict(self.message_store[message_id])

    def add_response(self, response: Response) -> None:
        self.responses.append(response)
        response.interaction.add(response)

    def sync(self, guild_id: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite, keeping a command's id across syncs as Discord does."""
        previous = {(c.get("type", 1), c["name"]): c["id"] for c in self.commands.get(guild_id, [])}
        stored = []
        for command in commands:
            command = copy.deepcopy(command)
            command.setdefault("type", 1)
            command.setdefault("options", [])
            command.setdefault("default_member_permissions", None)
            command.setdefault("nsfw", False)
            key = (command["type"], command["name"])
            command["id"] = previous.get(key) or str(self.ids.next())
            command["application_id"] = str(self.world.application_id)
            command["version"] = str(self.ids.next())
            if guild_id is not None:
                command["guild_id"] = str(guild_id)
            stored.append(command)
        self.commands[guild_id] = stored
        self.sync_requests.append(SyncRecord(guild_id, copy.deepcopy(commands)))
        return stored

    def create_thread(
        self, parent: Channel, name: str, body: dict[str, Any], thread_id: int | None = None
    ) -> Channel:
        thread = Channel(
            id=thread_id or self.ids.next(),
            name=name,
            guild_id=parent.guild_id,
            type=int(body.get("type") or PUBLIC_THREAD),
            parent_id=parent.id,
            owner_id=self.world.bot.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        self.world.add_thread(thread)
        return thread


def _embed(embed: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich", **embed}


def _attachment(attachment_id: int, filename: str) -> dict[str, Any]:
    url = f"https://cdn.invalid/attachments/{attachment_id}/{filename}"
    return {"id": str(attachment_id), "filename": filename, "size": 0, "url": url, "proxy_url": url}
