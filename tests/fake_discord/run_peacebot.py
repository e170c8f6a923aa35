"""`peacebot` as a real process that talks to a FakeDiscord instead of Discord.

    python tests/fake_discord/run_peacebot.py API_BASE GATEWAY_URL [peacebot arguments...]

Points discord.py's REST base and gateway address at the fake (as `discord_endpoints` does
inside the test process), then runs the command line as the `peacebot` script would.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str]) -> int:
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.cli import main as peacebot

    api_base, gateway_url, *args = argv
    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return peacebot(args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
