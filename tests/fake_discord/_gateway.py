"""One bot's websocket connection to the fake gateway: HELLO, IDENTIFY, READY, then dispatches.

Frames are sent as uncompressed JSON text: discord.py asks for `compress=zlib-stream` but decodes
text frames as plain JSON, exactly as it does when Discord sends them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from ._server import FakeDiscord

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME = 0, 1, 2, 3, 6
REQUEST_MEMBERS, HELLO, HEARTBEAT_ACK = 8, 10, 11
HEARTBEAT_INTERVAL_MS = 41_250

INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15


class GatewaySession:
    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse) -> None:
        self.fake = fake
        self.ws = ws
        self.session_id = secrets.token_hex(16)
        self.sequence = 0
        self.intents: int | None = None
        self.shard: tuple[int, int] | None = None  # (id, count) from IDENTIFY
        self.heartbeats = 0
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        await self.send(HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})
        try:
            async for frame in self.ws:
                if frame.type is not WSMsgType.TEXT:
                    break
                await self._receive(json.loads(frame.data))
        finally:
            self.fake.session_ended(self)

    async def close(self) -> None:
        await self.ws.close(code=1000)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        async with self._send_lock:
            frame: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
            if op == DISPATCH:
                self.sequence += 1
                frame["s"] = self.sequence
            await self.ws.send_str(json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        """One text frame exactly as given: for frames Discord should never send."""
        async with self._send_lock:
            await self.ws.send_str(text)

    def owns(self, guild_id: int) -> bool:
        """Whether this session receives the guild's events: `(id >> 22) % count == shard`."""
        return self.shard is None or (guild_id >> 22) % self.shard[1] == self.shard[0]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        data = self._deliverable(event, data)
        if data is not None:
            await self.send(DISPATCH, data, event)

    def _deliverable(self, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """What Discord would deliver given the identified intents (None: not delivered)."""
        if event != "MESSAGE_CREATE" or self.intents is None:
            return data
        if not self.intents & INTENT_GUILD_MESSAGES:
            self.fake.dropped_events.append(
                f"MESSAGE_CREATE {data['content']!r}: no GUILD_MESSAGES"
            )
            return None
        bot_id = str(self.fake.world.bot.id)
        mentioned = any(user["id"] == bot_id for user in data.get("mentions", []))
        if not self.intents & INTENT_MESSAGE_CONTENT and not mentioned:
            self.fake.dropped_events.append(f"content of {data['content']!r}: no MESSAGE_CONTENT")
            return {**data, "content": "", "embeds": [], "attachments": [], "components": []}
        return data

    async def _receive(self, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await self.send(HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            await self._identify(data)
        elif op == RESUME:
            await self.send(DISPATCH, {}, "RESUMED")
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(data)
        elif op == PRESENCE:
            pass  # nothing in the fake depends on the bot's presence

    async def _identify(self, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            await self.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.intents = data.get("intents")
        if "shard" in data:
            shard_id, count = data["shard"]
            if not 0 <= shard_id < count:
                await self.ws.close(code=4010, message=b"Invalid shard.")
                return
            self.shard = (shard_id, count)
        self.fake.identifies.append(data)
        world = self.fake.world
        guilds = [g for g in world.guilds.values() if self.owns(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": self.session_id,
            "resume_gateway_url": self.fake.gateway_url,
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self.send(DISPATCH, ready, "READY")
        for guild in guilds:
            await self.send(DISPATCH, world.guild_create(self.intents, guild), "GUILD_CREATE")
        self.fake.session_started(self)

    async def _members_chunk(self, data: dict[str, Any]) -> None:
        world = self.fake.world
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            m.payload()
            for m in world.members.values()
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        chunk = {
            "guild_id": str(world.guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.send(DISPATCH, chunk, "GUILD_MEMBERS_CHUNK")
