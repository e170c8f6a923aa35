"""Which mentions in a message would notify someone, by Discord's allowed-mentions rules.

Only `content` can ping (embeds never do). Without `allowed_mentions` every mention in the content
is live; with it, only the kinds in `parse` and the ids listed in `users` / `roles` are. The
author's MENTION_EVERYONE permission is ignored on purpose: the check answers "could this ping on
a server where the bot has every permission?", the worst case.
"""

from __future__ import annotations

import re
from typing import Any

_MENTION = re.compile(r"@(?P<everyone>everyone|here)|<@!?(?P<user>\d+)>|<@&(?P<role>\d+)>")


def live_mentions(content: str | None, allowed_mentions: dict[str, Any] | None) -> set[str]:
    """The mentions in `content` that would notify, e.g. {"@everyone", "<@123>", "<@&9>"}."""
    live: set[str] = set()
    allowed = allowed_mentions
    parse = set(allowed.get("parse") or []) if allowed is not None else None
    users = {str(u) for u in (allowed or {}).get("users") or []}
    roles = {str(r) for r in (allowed or {}).get("roles") or []}
    for match in _MENTION.finditer(content or ""):
        if match["everyone"]:
            if parse is None or "everyone" in parse:
                live.add("@" + match["everyone"])
        elif match["user"]:
            if parse is None or "users" in parse or match["user"] in users:
                live.add(f"<@{match['user']}>")
        elif parse is None or "roles" in parse or match["role"] in roles:
            live.add(f"<@&{match['role']}>")
    return live
