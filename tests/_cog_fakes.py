"""Small fakes for calling cog callbacks directly, built on real discord.py objects where it is
practical: the bot is a real `PeacebotBot` (never connected), contexts are real
`commands.Context`s over a stand-in message, and storage is a real in-memory `Storage`.
Interactions are stand-ins that record what would have been sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
from discord.ext import commands
from discord.ext.commands.view import StringView

from bot.client import EXTENSIONS, PeacebotBot
from bot.config import BUNDLED_CONTENT, Config
from bot.content import Library
from bot.storage import Storage

OWNER_ID = 4242
USER_ID = 1001
OTHER_ID = 2002
GUILD_ID = 777
CHANNEL_ID = 888


def make_config(prefix: str = "!", content_dir: Path | None = None) -> Config:
    return Config(
        token=None,
        content_dir=content_dir or BUNDLED_CONTENT,
        db_path=":memory:",
        prefix=prefix,
        dev_guild_id=None,
        log_level="INFO",
    )


async def make_bot(
    library: Library,
    *,
    prefix: str = "!",
    content_dir: Path | None = None,
    extensions: tuple[str, ...] = EXTENSIONS,
    database: str = ":memory:",
) -> PeacebotBot:
    """A bot with its cogs loaded and a database (in memory unless named), not connected to
    anything."""
    storage = await Storage.open(database)
    bot = PeacebotBot(
        make_config(prefix, content_dir),
        storage=storage,
        library=library,
        sync_commands=False,
        owner_id=OWNER_ID,
    )
    await bot.__aenter__()  # what `async with bot` does: binds the loop, without logging in
    for name in extensions:
        await bot.load_extension(name)
    return bot


async def close_bot(bot: PeacebotBot) -> None:
    await bot.close()
    await bot.storage.close()


@dataclass
class Sent:
    content: str | None
    kwargs: dict[str, Any]

    @property
    def embed(self) -> discord.Embed | None:
        return self.kwargs.get("embed")

    @property
    def view(self) -> discord.ui.View | None:
        return self.kwargs.get("view")


def member(user_id: int, permissions: discord.Permissions | None = None) -> SimpleNamespace:
    perms = permissions if permissions is not None else discord.Permissions.none()
    return SimpleNamespace(
        id=user_id,
        bot=False,
        name=f"user{user_id}",
        display_name=f"user{user_id}",
        guild_permissions=perms,
        mention=f"<@{user_id}>",
    )


class FakeContext(commands.Context):
    """A real Context for a prefix command; `send` records instead of calling Discord."""

    def __init__(
        self,
        bot: PeacebotBot,
        *,
        user_id: int = USER_ID,
        guild_id: int | None = GUILD_ID,
        permissions: discord.Permissions | None = None,
        command: commands.Command[Any, ..., Any] | None = None,
        invoked_with: str | None = None,
        rest: str = "",
        prefix: str = "!",
    ) -> None:
        author = member(user_id, permissions)
        guild = SimpleNamespace(id=guild_id, owner_id=0) if guild_id is not None else None
        channel = SimpleNamespace(id=CHANNEL_ID, type=discord.ChannelType.text)
        message = SimpleNamespace(
            id=555,
            author=author,
            guild=guild,
            channel=channel,
            content=rest,
            created_at=discord.utils.utcnow(),
            edited_at=None,
            attachments=[],
            _state=None,
        )
        super().__init__(
            message=message,  # type: ignore[arg-type]
            bot=bot,
            view=StringView(rest),
            prefix=prefix,
            command=command,
            invoked_with=invoked_with or (command.name if command else None),
        )
        # Context's cached properties are overridable per instance.
        self.author = author  # type: ignore[misc]
        self.guild = guild  # type: ignore[misc]
        self.channel = channel  # type: ignore[misc]
        self.permissions = permissions or discord.Permissions.none()  # type: ignore[misc]
        self.sent: list[Sent] = []
        self.deferred = False

    @property
    def clean_prefix(self) -> str:  # the real one needs the bot's member object
        return self.prefix or ""

    async def send(self, content: str | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        self.sent.append(Sent(content, kwargs))

    async def defer(self, *, ephemeral: bool = False) -> None:
        self.deferred = True


@dataclass
class FakeResponse:
    done: bool = False
    sent: list[Sent] = field(default_factory=list)
    edits: list[Sent] = field(default_factory=list)

    def is_done(self) -> bool:
        return self.done

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        assert not self.done, "an interaction can be answered only once"
        self.done = True
        self.sent.append(Sent(content, kwargs))

    async def edit_message(self, content: str | None = None, **kwargs: Any) -> None:
        assert not self.done, "an interaction can be answered only once"
        self.done = True
        self.edits.append(Sent(content, kwargs))


@dataclass
class FakeFollowup:
    sent: list[Sent] = field(default_factory=list)

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append(Sent(content, kwargs))


class FakeInteraction:
    """What a button or slash callback reads from an interaction, and what it answers."""

    def __init__(
        self,
        client: Any,
        *,
        user_id: int = USER_ID,
        guild_id: int | None = GUILD_ID,
        permissions: discord.Permissions | None = None,
        answered: bool = False,
    ) -> None:
        self.id = 999
        self.client = client
        self.user = member(user_id, permissions)
        self.guild_id = guild_id
        self.channel_id = CHANNEL_ID
        self.permissions = permissions or discord.Permissions.none()
        self.command = None
        self.response = FakeResponse(done=answered)
        self.followup = FakeFollowup()

    @property
    def replies(self) -> list[Sent]:
        """Everything sent or edited, in the order of the three channels."""
        return [*self.response.sent, *self.response.edits, *self.followup.sent]
