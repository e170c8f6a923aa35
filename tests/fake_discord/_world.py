"""The fake Discord's world: one guild with channels, roles and members, as Discord sends them.

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
DM_CHANNEL = 1
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
    # The user's privacy settings let the bot send direct messages; when False, a DM gets 403
    # "Cannot send messages to this user" (50007), as on Discord.
    accepts_dms: bool = True

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
    """A text channel, a thread (type 11, with `parent_id` and `owner_id`) or a direct-message
    channel with one user (type 1, with `recipient`)."""

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
    recipient: User | None = None  # a DM channel's other end

    @property
    def is_dm(self) -> bool:
        return self.type == DM_CHANNEL

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        if self.is_thread:
            return self._thread_payload()
        if self.is_dm:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM_CHANNEL,
                "last_message_id": _sid(self.last_message_id),
                "recipients": [self.recipient.payload()],
                "flags": 0,
            }
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


class World:
    """One guild, as a fresh bot sees it: the bot, its owner and two ordinary people.

    Named handles for tests: `users["alice"]` (a member), `users["mod"]` (Manage Server),
    `users["owner"]` (the application's owner, otherwise an ordinary member),
    `channels["general"]` and `channels["study"]` (text channels).
    """

    def __init__(self, ids: Snowflakes, *, bot_name: str = "peacebot") -> None:
        self.ids = ids
        self.bot = User(ids.next(), bot_name, bot=True)
        self.application_id = self.bot.id
        self.guild_id = ids.next()
        self.guild_name = "Peace Studies"
        self.users: dict[str, User] = {"bot": self.bot}
        for name in ("owner", "alice", "mod"):
            self.users[name] = User(ids.next(), name, global_name=name.title())
        self.owner = self.users["owner"]

        self.roles: dict[str, Role] = {
            "everyone": Role(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
            "moderator": Role(ids.next(), "Moderator", MODERATOR_PERMISSIONS, 1),
            "bot": Role(ids.next(), bot_name, BOT_PERMISSIONS, 2, managed=True),
        }
        self.members: dict[int, Member] = {
            self.bot.id: Member(self.bot, [self.roles["bot"].id]),
            self.owner.id: Member(self.owner, []),
            self.users["alice"].id: Member(self.users["alice"], []),
            self.users["mod"].id: Member(self.users["mod"], [self.roles["moderator"].id]),
        }
        self.channels: dict[str, Channel] = {}
        for position, name in enumerate(("general", "study")):
            self.channels[name] = Channel(ids.next(), name, self.guild_id, position=position)
        self._channels_by_id: dict[int, Channel] = {c.id: c for c in self.channels.values()}
        self.dm_channels: dict[int, Channel] = {}  # by the user's id

    def add_user(self, name: str, *, role_ids: list[int] | None = None) -> User:
        """Another guild member (not in GUILD_CREATE for bots without the members intent)."""
        user = User(self.ids.next(), name, global_name=name.title())
        self.users[name] = user
        self.members[user.id] = Member(user, list(role_ids or []))
        return user

    # -- lookups -----------------------------------------------------------------------------

    def channel(self, channel_id: int) -> Channel | None:
        return self._channels_by_id.get(channel_id)

    def add_thread(self, thread: Channel) -> None:
        self._channels_by_id[thread.id] = thread

    def open_dm(self, user: User) -> Channel:
        """The bot's direct-message channel with `user` (one per user, made on first use)."""
        found = self.dm_channels.get(user.id)
        if found is None:
            found = Channel(self.ids.next(), "", 0, type=DM_CHANNEL, recipient=user)
            self.dm_channels[user.id] = found
            self._channels_by_id[found.id] = found
        return found

    @property
    def threads(self) -> list[Channel]:
        return [c for c in self._channels_by_id.values() if c.is_thread]

    def user(self, who: str | int | User) -> User:
        if isinstance(who, User):
            return who
        if isinstance(who, int):
            return self.members[who].user
        return self.users[who]

    def permissions(self, user_id: int) -> discord.Permissions:
        """What Discord computes for a member at guild level (no channel overwrites here)."""
        value = self.roles["everyone"].permissions.value
        by_id = {r.id: r for r in self.roles.values()}
        for role_id in self.members[user_id].role_ids:
            value |= by_id[role_id].permissions.value
        perms = discord.Permissions(value)
        return discord.Permissions.all() if perms.administrator else perms

    # -- payloads ------------------------------------------------------------------------------

    def guild_create(self, intents: int | None = None) -> dict[str, Any]:
        """GUILD_CREATE; without the GUILD_MEMBERS intent Discord only includes the bot itself."""
        members = list(self.members.values())
        if intents is not None and not intents & INTENT_GUILD_MEMBERS:
            members = [self.members[self.bot.id]]
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
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
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [t.payload() for t in self.threads],
            "members": [m.payload() for m in members],
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": iso(),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def interaction_member(self, user_id: int) -> dict[str, Any]:
        data = self.members[user_id].payload()
        data["permissions"] = str(self.permissions(user_id).value)
        return data

    def interaction_channel(self, channel: Channel, user_id: int) -> dict[str, Any]:
        data = channel.payload()
        data["permissions"] = str(self.permissions(user_id).value)
        return data


def _sid(value: int | None) -> str | None:
    return None if value is None else str(value)
