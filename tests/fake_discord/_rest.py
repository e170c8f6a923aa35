"""The fake REST API under /api/v10: login, application commands, guild, channels and threads.

Interaction callbacks and webhook followups live in `_rest_interactions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import _rest_interactions
from ._gateway import GatewaySession
from ._http import (
    RECEIVED_AT,
    Body,
    DiscordError,
    invalid_form,
    no_content,
    ok,
    read_body,
    snowflake,
    unknown,
)
from ._limits import check_commands, check_message
from ._records import MessageRecord, Rejection
from ._world import Channel, Guild

if TYPE_CHECKING:
    from ._server import FakeDiscord

API = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Routes a bot reaches with its token; interaction callbacks and webhooks carry their own token.
UNAUTHENTICATED = ("/interactions/", "/webhooks/")


def build_app(fake: FakeDiscord) -> web.Application:
    routes = _Routes(fake)
    app = web.Application(middlewares=[routes.middleware])
    app.router.add_get("/gateway/ws", routes.gateway)
    table = [
        ("GET", "/gateway", routes.get_gateway),
        ("GET", "/gateway/bot", routes.get_gateway),
        ("GET", "/users/@me", routes.me),
        ("GET", "/users/{user_id}", routes.get_user),
        ("GET", "/oauth2/applications/@me", routes.application),
        ("GET", "/applications/{app_id}/commands", routes.get_commands),
        ("PUT", "/applications/{app_id}/commands", routes.put_commands),
        ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", routes.get_commands),
        ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", routes.put_commands),
        ("GET", "/guilds/{guild_id}", routes.get_guild),
        ("GET", "/guilds/{guild_id}/channels", routes.get_guild_channels),
        ("GET", "/guilds/{guild_id}/roles", routes.get_roles),
        ("GET", "/guilds/{guild_id}/members", routes.get_members),
        ("GET", "/guilds/{guild_id}/members/{user_id}", routes.get_member),
        ("GET", "/guilds/{guild_id}/threads/active", routes.active_threads),
        ("GET", "/channels/{channel_id}", routes.get_channel),
        ("PATCH", "/channels/{channel_id}", routes.edit_channel),
        ("POST", "/channels/{channel_id}/typing", routes.accept),
        ("POST", "/channels/{channel_id}/messages", routes.post_message),
        ("GET", "/channels/{channel_id}/messages/{message_id}", routes.get_message),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}", routes.edit_message),
        ("DELETE", "/channels/{channel_id}/messages/{message_id}", routes.delete_message),
        (
            "POST",
            "/channels/{channel_id}/messages/{message_id}/threads",
            routes.thread_from_message,
        ),
        ("POST", "/channels/{channel_id}/threads", routes.thread_without_message),
        ("PUT", "/channels/{channel_id}/thread-members/@me", routes.accept),
        (
            "PUT",
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
            routes.accept,
        ),
    ]
    table += _rest_interactions.routes(fake)
    for method, path, handler in table:
        app.router.add_route(method, API + path, handler)
    app.router.add_route("*", "/{tail:.*}", routes.not_found)
    return app


class _Routes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request[RECEIVED_AT] = self.fake.clock()
        path = request.path.removeprefix(API)
        needs_token = request.path.startswith(API) and not path.startswith(UNAUTHENTICATED)
        try:
            if needs_token and request.headers.get("Authorization") != f"Bot {self.fake.token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            await self.fake.holds.wait_if_held(request, path)
            limited = self.fake.rate_limits.check(request.method, path, request[RECEIVED_AT])
            if limited is not None:
                return limited
            return await handler(request)
        except DiscordError as exc:
            if exc.status != 404 or handler != self.not_found:
                self.fake.rejected.append(_rejection(request, exc))
            return exc.response()

    async def not_found(self, request: web.Request) -> web.Response:
        self.fake.unhandled.append(f"{request.method} {request.path}")
        raise DiscordError(404, 0, "404: Not Found")

    # -- gateway and login ---------------------------------------------------------------------

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        if self.fake.gateway_down:
            raise DiscordError(503, 0, "503: Service Unavailable")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await GatewaySession(self.fake, ws).run()
        return ws

    async def get_gateway(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        shards = self.fake.recommended_shards
        return ok({"url": self.fake.gateway_url, "shards": shards, "session_start_limit": limit})

    async def me(self, request: web.Request) -> web.Response:
        return ok({**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def get_user(self, request: web.Request) -> web.Response:
        member = self.world.members.get(snowflake(request, "user_id"))
        if member is None:
            raise unknown("User", 10013)
        return ok(member.user.payload())

    async def application(self, request: web.Request) -> web.Response:
        return ok(
            {
                "id": str(self.world.application_id),
                "name": self.world.bot.username,
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.world.owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "interactions_endpoint_url": None,
                "bot": self.world.bot.payload(),
            }
        )

    # -- application commands ------------------------------------------------------------------

    def _scope(self, request: web.Request) -> int | None:
        if snowflake(request, "app_id") != self.world.application_id:
            raise unknown("Application", 10002)
        if "guild_id" not in request.match_info:
            return None
        guild_id = snowflake(request, "guild_id")
        if guild_id not in self.world.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return guild_id

    async def get_commands(self, request: web.Request) -> web.Response:
        return ok(self.fake.commands.get(self._scope(request), []))

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        commands = await request.json()
        problems = check_commands(commands)
        if problems:
            raise invalid_form(problems)
        return ok(self.fake.sync(scope, commands))

    # -- guild -----------------------------------------------------------------------------------

    def _guild(self, request: web.Request) -> Guild:
        guild = self.world.guilds.get(snowflake(request, "guild_id"))
        if guild is None:
            raise unknown("Guild", 10004)
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        data = self.world.guild_create(guild=self._guild(request))
        for key in ("channels", "threads", "members", "voice_states", "presences"):
            data.pop(key)
        return ok(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        return ok([c.payload() for c in self._guild(request).channels.values()])

    async def get_roles(self, request: web.Request) -> web.Response:
        return ok([r.payload() for r in self._guild(request).roles.values()])

    async def get_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        after = int(request.query.get("after", 0))
        limit = int(request.query.get("limit", 1))
        members = sorted(guild.members.values(), key=lambda m: m.user.id)
        return ok([m.payload() for m in members if m.user.id > after][:limit])

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(snowflake(request, "user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return ok(member.payload())

    async def active_threads(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        threads = [
            t.payload() for t in self.world.threads if not t.archived and t.guild_id == guild.id
        ]
        return ok({"threads": threads, "members": []})

    # -- channels and messages -----------------------------------------------------------------

    def _channel(self, request: web.Request) -> Channel:
        channel = self.world.channel(snowflake(request, "channel_id"))
        if channel is None:
            raise unknown("Channel", 10003)
        return channel

    def _message(self, request: web.Request) -> dict[str, Any]:
        channel = self._channel(request)
        message = self.fake.message_store.get(snowflake(request, "message_id"))
        if message is None or int(message["channel_id"]) != channel.id:
            raise unknown("Message", 10008)
        return message

    async def get_channel(self, request: web.Request) -> web.Response:
        return ok(self._channel(request).payload())

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = await request.json()
        channel.name = body.get("name", channel.name)
        channel.archived = bool(body.get("archived", channel.archived))
        return ok(channel.payload())

    async def accept(self, request: web.Request) -> web.Response:
        """Typing, joining a thread, reacting: nothing to record beyond "the channel exists"."""
        self._channel(request)
        return no_content()

    async def post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if channel.refuses_bot_posts:
            raise DiscordError(403, 50013, "Missing Permissions")
        body = await read_body(request)
        problems = check_message(body.data, files=len(body.files))
        if problems:
            raise invalid_form(problems)
        record = await self._post(channel, body)
        return ok(record.message)

    async def _post(self, channel: Channel, body: Body) -> MessageRecord:
        extra: dict[str, Any] = {}
        message_type = 0
        reference = body.data.get("message_reference")
        if reference:
            referenced = self.fake.message_store.get(int(reference["message_id"]))
            extra["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel.id),
                "guild_id": str(channel.guild_id),
            }
            extra["referenced_message"] = referenced
            message_type = 19
        message = self.fake.new_message(
            channel.id,
            self.world.bot,
            body.data,
            message_type=message_type,
            files=body.files,
            extra=extra,
        )
        record = MessageRecord(message=message, body=body.data, files=body.files)
        await self.fake.message_log.add(record)
        return record

    async def get_message(self, request: web.Request) -> web.Response:
        return ok(self._message(request))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        body = await read_body(request)
        problems = check_message(body.data, files=len(body.files), editing=True)
        if problems:
            raise invalid_form(problems)
        edited = self.fake.edit_message(int(message["id"]), body.data)
        await self.fake.message_log.touched()
        return ok(edited)

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message["deleted"] = True
        return no_content()

    # -- threads ---------------------------------------------------------------------------------

    async def thread_from_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        body = await request.json()
        parent = self._channel(request)
        # A thread started from a message shares the message's id, as on Discord.
        thread = self.fake.create_thread(parent, body["name"], body, thread_id=int(message["id"]))
        message["thread"] = thread.payload()
        return await self._announce_thread(thread)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        body = await request.json()
        thread = self.fake.create_thread(parent, body["name"], body)
        return await self._announce_thread(thread)

    async def _announce_thread(self, thread: Channel) -> web.Response:
        payload = thread.payload()
        if self.fake.sessions:
            await self.fake.dispatch("THREAD_CREATE", {**payload, "newly_created": True})
        return ok(payload, status=201)


def _rejection(request: web.Request, exc: DiscordError) -> Rejection:
    return Rejection(request.method, request.path.removeprefix(API), exc.status, exc.body)
