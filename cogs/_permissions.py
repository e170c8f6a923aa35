"""The one check of what the bot may do in a channel, in the words Discord shows people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from cogs.errors import permission_label

POST = ("view_channel", "send_messages", "embed_links")  # an embed of our own in the channel
THREADS = ("create_public_threads", "send_messages_in_threads")  # a thread from a post there


def missing_permissions(channel: Any, guild: Any, needs: Sequence[str] = POST) -> list[str]:
    """The permissions the bot lacks in `channel` among `needs` (labels such as "Embed Links").

    Interaction replies need none of these (Discord always allows them); posts of our own do.
    Outside a server, or in a channel discord.py has not cached, there is nothing to check.
    In a thread, Send Messages means Send Messages in Threads.
    """
    if guild is None or isinstance(channel, discord.PartialMessageable):
        return []
    permissions_for = getattr(channel, "permissions_for", None)
    if permissions_for is None:
        return []
    permissions = permissions_for(guild.me)
    in_thread = isinstance(channel, discord.Thread)
    wanted = dict.fromkeys(
        "send_messages_in_threads" if in_thread and name == "send_messages" else name
        for name in needs
    )
    return [permission_label(name) for name in wanted if not getattr(permissions, name)]
