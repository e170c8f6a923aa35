"""`peacebot sync`, `peacebot reload` and `peacebot migrate-db`: the deployment's steps.

- `sync` pushes the slash commands to Discord once per deploy (`run` syncs by itself only when
  the command tree differs from the one the database records as synced);
- `reload` asks every running process to load the content again and prints their answers
  (PostgreSQL only: with SQLite, `/reload` reloads the one process);
- `migrate-db` copies a SQLite database into PostgreSQL, counts checked.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def register(sub: argparse._SubParsersAction) -> None:
    sync = sub.add_parser(
        "sync",
        help="sync the slash commands to Discord (the deploy step)",
        description="Log in with DISCORD_TOKEN (no gateway connection), sync the slash commands "
        "globally (or to one server) and record what was synced, so that `peacebot run` "
        "processes do not sync again.",
    )
    sync.add_argument(
        "--guild",
        type=int,
        metavar="ID",
        help="sync to this server only, where changes show at once (default PEACEBOT_DEV_GUILD)",
    )
    sync.set_defaults(handler=_sync)

    reload = sub.add_parser(
        "reload",
        help="make every running bot process reload the content",
        description="Ask every process on DATABASE_URL to load the content again; each keeps "
        "its current content if the new one is invalid. Prints each process's answer; exit 1 "
        "when one kept the old content or none answered.",
    )
    reload.add_argument(
        "--wait",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the first answer (default 10)",
    )
    reload.set_defaults(handler=_reload)

    migrate = sub.add_parser(
        "migrate-db",
        help="copy a SQLite database into PostgreSQL",
        description="Copy settings, decks, the daily queue and claims, scores, activity and the "
        "query log (and the salt, so user hashes stay valid) from a SQLite file into an empty "
        "PostgreSQL database, checking every table's row count. All or nothing.",
    )
    migrate.add_argument("--from", dest="source", required=True, metavar="sqlite:PATH")
    migrate.add_argument(
        "--to", dest="target", metavar="URL", help="a postgresql:// URL (default DATABASE_URL)"
    )
    migrate.set_defaults(handler=_migrate)


def _fail(command: str, message: str, code: int = 1) -> int:
    print(f"peacebot {command}: {message}", file=sys.stderr)
    return code


def _sync(args: argparse.Namespace) -> int:
    from bot.client import PeacebotBot, StartupError, open_storage, setup_logging
    from bot.config import ConfigError, check_token, load_config
    from bot.loader import ContentError, load_library

    try:
        config = load_config()
        token = check_token(config.token)
        library = load_library(config.content_dir)
    except (ConfigError, ContentError) as exc:
        return _fail("sync", str(exc), 2)
    setup_logging(logging.WARNING, token)

    async def main() -> bool:
        import discord

        storage = await open_storage(config)
        try:
            bot = PeacebotBot(config, storage=storage, library=library, sync_commands=False)
            try:
                await bot.login(token)  # loads the cogs, which build the command tree
                return await bot.sync_if_changed(args.guild, force=True)
            except discord.LoginFailure as exc:
                raise StartupError("Discord rejected DISCORD_TOKEN") from exc
            finally:
                for name in list(bot.extensions):  # stops the cogs' background tasks
                    await bot.unload_extension(name)
                await bot.close()
        finally:
            await storage.close()

    try:
        asyncio.run(main())
    except StartupError as exc:
        return _fail("sync", str(exc), 2)
    except Exception as exc:  # Discord refused the commands, or could not be reached
        return _fail("sync", f"the sync failed: {exc}")
    where = f"to server {args.guild}" if args.guild else "globally"
    print(f"synced the slash commands {where}")
    return 0


def _reload(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, load_config
    from bot.reloads import ReloadRequest, summary
    from bot.storage import Storage, StorageError

    try:
        config = load_config()
    except ConfigError as exc:
        return _fail("reload", str(exc), 2)
    if config.database_url is None:
        return _fail(
            "reload",
            "needs DATABASE_URL (PostgreSQL), where the bot processes listen; with SQLite "
            "use /reload in Discord",
            2,
        )
    url = config.database_url

    async def main() -> list:
        storage = await Storage.open(url)
        try:
            return await ReloadRequest(storage).run(wait_at_most=args.wait)
        finally:
            await storage.close()

    try:
        reports = asyncio.run(main())
    except StorageError as exc:
        return _fail("reload", str(exc), 2)
    print(summary(reports))
    return 0 if reports and all(report.ok for report in reports) else 1


def _migrate(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, database_url
    from bot.storage import StorageError, copy_sqlite_to_postgres, is_postgres_url, parse_source

    try:
        source = parse_source(args.source)
        target = args.target or database_url()
    except (ConfigError, StorageError) as exc:
        return _fail("migrate-db", str(exc), 2)
    if not target or not is_postgres_url(target):
        return _fail("migrate-db", "--to must be a postgresql:// URL (or set DATABASE_URL)", 2)
    from pathlib import Path

    if not Path(source).is_file():
        return _fail("migrate-db", f"no SQLite database at {source}", 2)
    try:
        copied = asyncio.run(copy_sqlite_to_postgres(source, target))
    except StorageError as exc:
        return _fail("migrate-db", str(exc))
    width = max(len(c.table) for c in copied)
    for c in copied:
        print(f"{c.table:<{width}}  {c.target:>9} rows (SQLite: {c.source})")
    print(f"copied {sum(c.target for c in copied)} rows; every table's count matches")
    return 0
