"""A small process that uses Storage the way the bot does, for the multi-process storage tests.

    python tests/storage_driver.py hold  DB N        log N rows, print "ready", wait for a signal
    python tests/storage_driver.py burst DB GROUP    log GROUP rows and flush, forever
    python tests/storage_driver.py write DB N TAG    log N rows tagged TAG, close, exit

`hold` keeps every row in memory (long interval, batch bigger than N), so only closing the
storage after SIGTERM/SIGINT (caught by `bot.shutdown.StopSignals`, as the bot does) can save
them. `burst` makes each group exactly one transaction, so after a SIGKILL the table must hold
whole groups only.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.shutdown import StopSignals
from bot.storage import QueryRecord, Storage

USER_ID = 987654321987654321


def record(query: str) -> QueryRecord:
    return QueryRecord(
        guild_id=1,
        channel_id=2,
        user_id=USER_ID,
        command="define",
        query=query,
        matched_id="un-charter",
        outcome="exact",
        score=100.0,
        failed=False,
        duration_ms=0.5,
    )


def say(line: str) -> None:
    print(line, flush=True)


async def hold(db: str, count: int) -> None:
    storage = await Storage.open(db, log_interval=3600, log_batch_size=count + 1)
    with StopSignals() as stop:
        for i in range(count):
            storage.log(record(f"hold {i}"))
        say(f"ready {storage.log_pending} {storage.log_written}")
        await stop.wait()
    await storage.close()


async def burst(db: str, group: int) -> None:
    storage = await Storage.open(db, log_interval=3600, log_batch_size=group)
    number = 0
    while True:
        for i in range(group):
            storage.log(record(f"{number}:{i}"))
        await storage.flush(max_wait=None)
        if number == 0:
            say("ready")
        number += 1


async def write(db: str, count: int, tag: str) -> None:
    storage = await Storage.open(db, log_interval=0.001, log_batch_size=50, close_timeout=60)
    for i in range(count):
        storage.log(record(f"{tag} {i}"))
        if i % 50 == 0:
            await asyncio.sleep(0)  # interleave with the writer, like a bot serving requests
    await storage.close()
    say(f"done {storage.log_written} {storage.log_dropped}")


def main(argv: list[str]) -> None:
    mode, db, number, *rest = argv
    if mode == "hold":
        asyncio.run(hold(db, int(number)))
    elif mode == "burst":
        asyncio.run(burst(db, int(number)))
    elif mode == "write":
        asyncio.run(write(db, int(number), rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
