"""Build the real PeacebotBot for the fake API: bundled content, fresh in-memory storage.

Shared by the pytest fixtures and the benchmark, so both run the bot the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.client import PeacebotBot
    from bot.content import Library

    from ._server import FakeDiscord


@asynccontextmanager
async def peacebot_client(
    fake: FakeDiscord,
    library: Library,
    *,
    prefix: str = "!",
    dev_guild: bool = False,
    db_path: str = ":memory:",
    **options: Any,
) -> AsyncIterator[PeacebotBot]:
    """A PeacebotBot on `library` with its own Storage (in memory unless `db_path` names a
    file), closed afterwards.

    `dev_guild=True` sets PEACEBOT_DEV_GUILD to the fake's guild; `options` go to the bot.
    """
    # Imported here so the fake's own tests run even while the bot does not import.
    from bot.client import PeacebotBot
    from bot.config import BUNDLED_CONTENT, Config
    from bot.pictures import PictureRenderer
    from bot.storage import Storage

    config = Config(
        token=fake.token,
        content_dir=BUNDLED_CONTENT,
        db_path=db_path,
        prefix=prefix,
        dev_guild_id=fake.world.guild_id if dev_guild else None,
        log_level="INFO",
    )
    # The fake sends GUILD_CREATE right after READY: no need to wait 2 s for stragglers.
    options.setdefault("guild_ready_timeout", 0.1)
    # One picture worker, started by the first picture: most tests draw none.
    options.setdefault("pictures", PictureRenderer(workers=1, eager=False))
    storage = await Storage.open(db_path)
    try:
        yield PeacebotBot(config, library=library, storage=storage, **options)
    finally:
        await storage.close()
