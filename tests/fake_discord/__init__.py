"""A fake Discord API on 127.0.0.1 for end-to-end tests through discord.py's own HTTP and gateway.

`FakeDiscord` serves REST under /api/v10 and a websocket gateway (HELLO, READY, GUILD_CREATE,
heartbeats, INTERACTION_CREATE and MESSAGE_CREATE on demand) and records what the bot does. Like
Discord it refuses an interaction's first response after 3 s (404, code 10062), and it answers
chosen REST calls with 429 and Retry-After on demand (`FakeDiscord.rate_limit`).
`running_bot(fake, bot)` starts a discord.py client against it and yields a `BotHarness` with
user-level helpers: `slash`, `autocomplete`, `click`, `send_message`, `wait_for_message`.
Pytest fixtures live in `tests.fake_discord.fixtures`.
"""

from ._ratelimits import RateLimitHit
from ._records import (
    FakeInteraction,
    MessageRecord,
    MessageView,
    NoResponse,
    Rejection,
    Response,
    SyncRecord,
)
from ._server import FakeDiscord
from ._world import Channel, Member, Role, User, World
from .harness import BotHarness, discord_endpoints, running_bot
from .mentions import live_mentions

__all__ = [
    "BotHarness",
    "Channel",
    "FakeDiscord",
    "FakeInteraction",
    "Member",
    "MessageRecord",
    "MessageView",
    "NoResponse",
    "RateLimitHit",
    "Rejection",
    "Response",
    "Role",
    "SyncRecord",
    "User",
    "World",
    "discord_endpoints",
    "live_mentions",
    "running_bot",
]
