"""Settings read from the environment (and a `.env` file); the only place that reads them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from dotenv import load_dotenv


def _bundled_content() -> Traversable:
    """The study content shipped with peacebot.

    An installed peacebot (a wheel, or an editable install) holds it as the package
    `bot.study_content`, which setup.py maps to the repository's content/ folder; a source
    checkout that was never installed has it in content/ beside bot/.
    """
    try:
        return resources.files("bot.study_content")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "content"


BUNDLED_CONTENT: Traversable = _bundled_content()


@dataclass(frozen=True, slots=True)
class Config:
    token: str | None
    content_dir: Traversable
    db_path: str
    prefix: str
    dev_guild_id: int | None
    log_level: str

    def __repr__(self) -> str:  # keeps the token out of logs and tracebacks
        return (
            f"Config(token={'set' if self.token else 'missing'}, content_dir={self.content_dir}, "
            f"db_path={self.db_path!r}, prefix={self.prefix!r}, dev_guild_id={self.dev_guild_id}, "
            f"log_level={self.log_level!r})"
        )


def content_dir() -> Traversable:
    """PEACEBOT_CONTENT, or the bundled content."""
    chosen = os.environ.get("PEACEBOT_CONTENT")
    return Path(chosen) if chosen else BUNDLED_CONTENT


class ConfigError(ValueError):
    """A setting has a value the bot cannot use."""


# A bot token is three base64url parts joined by dots (user id, timestamp, signature).
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def check_token(token: str | None) -> str:
    """The token, or ConfigError saying what is wrong with it (without showing it)."""
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set; put the bot token in the environment or .env")
    if not _TOKEN.fullmatch(token):
        hint = " (leave out the 'Bot ' prefix)" if token.lower().startswith("bot ") else ""
        raise ConfigError(
            f"DISCORD_TOKEN is malformed{hint}: a bot token is three parts of letters, digits, "
            "'-' and '_' joined by dots; copy it again from the Developer Portal (Bot, Reset Token)"
        )
    return token


def load_config(env_file: str | Path | None = ".env") -> Config:
    """Read settings; values already in the environment win over the `.env` file."""
    if env_file is not None and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    guild = os.environ.get("PEACEBOT_DEV_GUILD", "").strip()
    if guild and not guild.isdigit():
        raise ConfigError(f"PEACEBOT_DEV_GUILD must be a server id (digits), got {guild!r}")
    return Config(
        token=os.environ.get("DISCORD_TOKEN", "").strip() or None,
        content_dir=content_dir(),
        db_path=os.environ.get("PEACEBOT_DB") or "peacebot.sqlite3",
        prefix=os.environ.get("PEACEBOT_PREFIX", "!"),
        dev_guild_id=int(guild) if guild else None,
        log_level=(os.environ.get("PEACEBOT_LOG_LEVEL") or "INFO").upper(),
    )
