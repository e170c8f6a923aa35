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
    database_url: str | None = None  # PostgreSQL; None: SQLite at db_path
    shard_count: int | None = None  # None: discord.py picks the count and runs every shard
    shard_ids: tuple[int, ...] | None = None

    @property
    def database(self) -> str:
        """Where the data lives: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.database_url or self.db_path

    def __repr__(self) -> str:  # keeps the token and the database password out of logs
        database = "postgresql (set)" if self.database_url else repr(self.db_path)
        return (
            f"Config(token={'set' if self.token else 'missing'}, content_dir={self.content_dir}, "
            f"database={database}, prefix={self.prefix!r}, dev_guild_id={self.dev_guild_id}, "
            f"log_level={self.log_level!r}, shard_count={self.shard_count}, "
            f"shard_ids={self.shard_ids})"
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


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str) -> bool:
    """Whether a database location (DATABASE_URL, `--db`) names PostgreSQL, not a SQLite file."""
    return location.startswith(POSTGRES_SCHEMES)


def database_url() -> str | None:
    """DATABASE_URL (PostgreSQL), or None; ConfigError for a URL of another kind."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return None
    if not is_postgres_url(url):
        scheme = url.split(":", 1)[0]
        raise ConfigError(
            f"DATABASE_URL must be a postgresql:// URL (got a {scheme!r} URL); "
            "leave it unset to use SQLite at PEACEBOT_DB"
        )
    return url


def parse_shard_ids(text: str, count: int) -> tuple[int, ...]:
    """`0,1`, `0-3` or a mix (`0-2,5`) as sorted shard ids, each within `0..count-1`."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ConfigError(
                f"PEACEBOT_SHARD_IDS must be shard numbers such as 0,1 or 0-3, got {text!r}"
            )
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise ConfigError(f"PEACEBOT_SHARD_IDS has a backwards range {part!r}")
        ids.update(range(first, last + 1))
    outside = sorted(i for i in ids if i >= count)
    if outside:
        raise ConfigError(
            f"PEACEBOT_SHARD_IDS {outside} outside 0..{count - 1} (PEACEBOT_SHARD_COUNT is {count})"
        )
    return tuple(sorted(ids))


def shard_settings() -> tuple[int | None, tuple[int, ...] | None]:
    """PEACEBOT_SHARD_COUNT and PEACEBOT_SHARD_IDS; both unset: discord.py decides."""
    count_text = os.environ.get("PEACEBOT_SHARD_COUNT", "").strip()
    ids_text = os.environ.get("PEACEBOT_SHARD_IDS", "").strip()
    if not count_text:
        if ids_text:
            raise ConfigError("PEACEBOT_SHARD_IDS needs PEACEBOT_SHARD_COUNT (the total)")
        return None, None
    if not count_text.isdigit() or int(count_text) < 1:
        raise ConfigError(
            f"PEACEBOT_SHARD_COUNT must be a whole number of 1 or more, got {count_text!r}"
        )
    count = int(count_text)
    ids = parse_shard_ids(ids_text, count) if ids_text else tuple(range(count))
    return count, ids


def load_config(env_file: str | Path | None = ".env") -> Config:
    """Read settings; values already in the environment win over the `.env` file."""
    if env_file is not None and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    guild = os.environ.get("PEACEBOT_DEV_GUILD", "").strip()
    if guild and not guild.isdigit():
        raise ConfigError(f"PEACEBOT_DEV_GUILD must be a server id (digits), got {guild!r}")
    shard_count, shard_ids = shard_settings()
    return Config(
        token=os.environ.get("DISCORD_TOKEN", "").strip() or None,
        content_dir=content_dir(),
        db_path=os.environ.get("PEACEBOT_DB") or "peacebot.sqlite3",
        # Unset: no prefix commands, so the bot never asks for the privileged Message Content
        # intent; a mention (`@peacebot define roe`) works as a prefix all the same.
        prefix=os.environ.get("PEACEBOT_PREFIX", "").strip(),
        dev_guild_id=int(guild) if guild else None,
        log_level=(os.environ.get("PEACEBOT_LOG_LEVEL") or "INFO").upper(),
        database_url=database_url(),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )
