"""Settings read from the environment (and a `.env` file); the only place that reads them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

# The repository's content/ (an editable install, or running from a checkout); the Docker image
# sets PEACEBOT_CONTENT instead.
BUNDLED_CONTENT = Path(__file__).resolve().parent.parent / "content"


@dataclass(frozen=True, slots=True)
class Config:
    token: str | None
    content_dir: Path
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


def content_dir() -> Path:
    """PEACEBOT_CONTENT, or the bundled content."""
    return Path(os.environ.get("PEACEBOT_CONTENT") or BUNDLED_CONTENT)


class ConfigError(ValueError):
    """A setting has a value the bot cannot use."""


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
