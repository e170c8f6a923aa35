"""The fake Discord's world: guilds with channels, roles and members, as Discord sends them.

Payload builders return plain dicts in the shapes of Discord's API v10 so that discord.py parses
them exactly as it parses the real thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import discord

from ._ids import Snowflakes

TEXT_CHANNEL = 0
PUBLIC_THREAD = 11
THREAD_TYPES = frozenset({10, 11, 12})
INTENT_GUILD_MEMBERS = 1 << 1

EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_application_commands=True,
    use_external_emojis=True,
)
MODERATOR_PERMISSIONS = discord.Permissions(
    manage_guild=True, manage_messages=True, manage_threads=True, mention_everyone=True
)
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | discord.Permissions(
    manage_threads=True, manage_messages=True, create_private_threads=True
)


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: int
    name: str
    permissions: discord.Permissions
    position: int
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions.value),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Channel:
    """A text channel or a thread (type 11, with `parent_id` and `owner_id`)."""

    id: int
    name: str
    guild_id: int
    type: int = TEXT_CHANNEL
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    last_message_id: int | None = None
    message_count: int = 0
    auto_archive_duration: int = 1440
    archived: bool = False
    created_at: str = field(default_factory=iso)
    # The bot may not post here (a permission taken away in a way discord.py cannot see):
    # posts get 403 Missing Permissions, as on Discord.
    refuses_bot_posts: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        if self.is_thread:
            return self._thread_payload()
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": _sid(self.last_message_id),
            "rate_limit_per_user": 0,
            "parent_id": _sid(self.parent_id),
            "flags": 0,
        }

    def _thread_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": _sid(self.last_message_id),
            "rate_limit_per_user": 0,
            "message_count": self.message_count,
            "member_count": 1,
            "total_message_sent": self.message_count,
            "flags": 0,
            "thread_metadata": {
                "archived": self.archived,
                "auto_archive_duration": self.auto_archive_duration,
                "archive_timestamp": self.created_at,
                "locked": False,
                "create_timestamp": self.created_at,
            },
        }


@dataclass
class Member:
    user: User
    role_ids: list[int]
    joined_at: str = field(default_factory=iso)
    nick: str | None = None

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class Guild:
    """One server: its roles, its members (by user id) and its text channels (by name)."""

    id: int
    name: str
    roles: dict[str, Role]
    members: dict[int, Member]
    channels: dict[str, Channel]

    def shard(self, count: int) -> int:
        """The shard that receives this server's events: Discord's rule."""
        return (self.id >> 22) % count


class World:
    """What a fresh bot sees: its first guild with the bot, its owner and two ordinary people,
    and any more guilds a test adds (`add_guild`, for sharding: the same people in each).

    Named handles for tests, all of the first guild: `users["alice"]` (a member), `users["mod"]`
    (Manage Server), `users["owner"]` (the application's owner, otherwise an ordinary member),
    `channels["general"]` and `channels["study"]` (text channels).
    """

    def __init__(self, ids: Snowflakes, *, bot_name: str = "peacebot") -> None:
        self.ids = ids
        self.bot_name = bot_name
        self.bot = User(ids.next(), bot_name, bot=True)
        self.application_id = self.bot.id
        self.users: dict[str, User] = {"bot": self.bot}
        for name in ("owner", "alice", "mod"):
            self.users[name] = User(ids.next(), name, global_name=name.title())
        self.owner = self.users["owner"]
        self.guilds: dict[int, Guild] = {}
        self._channels_by_id: dict[int, Channel] = {}
        self.guild = self._new_guild(ids.next(), "Peace Studies")

    def _new_guild(self, guild_id: int, name: str) -> Guild:
        ids = self.ids
        roles = {
            "everyone": Role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
            "moderator": Role(ids.next(), "Moderator", MODERATOR_PERMISSIONS, 1),
            "bot": Role(ids.next(), self.bot_name, BOT_PERMISSIONS, 2, managed=True),
        }
        members = {
            self.bot.id: Member(self.bot, [roles["bot"].id]),
            self.owner.id: Member(self.owner, []),
            self.users["alice"].id: Member(self.users["alice"], []),
            self.users["mod"].id: Member(self.users["mod"], [roles["moderator"].id]),
        }
        channels = {
            name: Channel(ids.next(), name, guild_id, position=position)
            for position, name in enumerate(("general", "study"))
        }
        guild = Guild(guild_id, name, roles, members, channels)
        self.guilds[guild_id] = guild
        self._channels_by_id.update({c.id: c for c in channels.values()})
        return guild

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """Another server with the same people; `shard=(k, n)` picks an id in shard k of n."""
        guild_id = self.ids.next()
        if shard is not None:
            wanted, count = shard
            stamp = guild_id >> 22
            stamp += (wanted - stamp % count) % count
            guild_id = (stamp << 22) | (guild_id & 0x3FFFFF)
        return self._new_guild(guild_id, name)

    # The first guild's, for tests of one server.
    @property
    def guild_id(self) -> int:
        return self.guild.id

    @property
    def guild_name(self) -> str:
        return self.guild.name

    @property
    def roles(self) -> dict[str, Role]:
        return self.guild.roles

    @property
    def members(self) -> dict[int, Member]:
        return self.guild.members

    @property
    def channels(self) -> dict[str, Channel]:
        return self.guild.channels

    def add_user(self, name: str, *, role_ids: list[int] | None = None) -> User:
        """Another guild member (not in GUILD_CREATE for bots without the members intent)."""
        user = User(self.ids.next(), name, global_name=name.title())
        self.users[name] = user
        self.members[user.id] = Member(user, list(role_ids or []))
        return user

    # -- lookups -----------------------------------------------------------------------------

    def channel(self, channel_id: int) -> Channel | None:
        return self._channels_by_id.get(channel_id)

    def guild_of(self, channel: Channel) -> Guild:
        return self.guilds[channel.guild_id]

    def add_thread(self, thread: Channel) -> None:
        self._channels_by_id[thread.id] = thread

    @property
    def threads(self) -> list[Channel]:
        return [c for c in self._channels_by_id.values() if c.is_thread]

    def user(self, who: str | int | User) -> User:
        if isinstance(who, User):
            return who
        if isinstance(who, int):
            return self.members[who].user
        return self.users[who]

    def permissions(self, user_id: int, guild: Guild | None = None) -> discord.Permissions:
        """What Discord computes for a member at guild level (no channel overwrites here)."""
        guild = guild or self.guild
        value = guild.roles["everyone"].permissions.value
        by_id = {r.id: r for r in guild.roles.values()}
        for role_id in guild.members[user_id].role_ids:
            value |= by_id[role_id].permissions.value
        perms = discord.Permissions(value)
        return discord.Permissions.all() if perms.administrator else perms

    # -- payloads ------------------------------------------------------------------------------

    def guild_create(
        self, intents: int | None = None, guild: Guild | None = None
    ) -> dict[str, Any]:
        """GUILD_CREATE; without the GUILD_MEMBERS intent Discord only includes the bot itself."""
        guild = guild or self.guild
        members = list(guild.members.values())
        if intents is not None and not intents & INTENT_GUILD_MEMBERS:
            members = [guild.members[self.bot.id]]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(self.owner.id),
            "features": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "roles": [r.payload() for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in guild.channels.values()],
            "threads": [t.payload() for t in self.threads if t.guild_id == guild.id],
            "members": [m.payload() for m in members],
            "member_count": len(guild.members),
            "large": False,
            "unavailable": False,
            "joined_at": iso(),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def interaction_member(self, user_id: int, guild: Guild | None = None) -> dict[str, Any]:
        guild = guild or self.guild
        data = guild.members[user_id].payload()
        data["permissions"] = str(self.permissions(user_id, guild).value)
        return data

    def interaction_channel(self, channel: Channel, user_id: int) -> dict[str, Any]:
        data = channel.payload()
        data["permissions"] = str(self.permissions(user_id, self.guild_of(channel)).value)
        return data


def _sid(value: int | None) -> str | None:
    return None if value is None else str(value)
