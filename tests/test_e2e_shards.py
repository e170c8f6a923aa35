"""Scale-out end to end: three `peacebot run` processes on one PostgreSQL, against a fake Discord
that routes by shard. Processes on shards 0 and 1 of 2, and a third also on shard 0 (as during a
rolling deploy, when Discord delivers shard 0's events to both); six servers, three per shard.

Checked: the commands are synced once; every server's `/define` is answered once (the second
process on shard 0 loses the race for the first callback, gets 40060 and stays quiet) and
logged once in PostgreSQL; every server's daily post for the coming minute arrives exactly
once, also when the process of shard 1 is killed with SIGKILL and started again before the
minute, and when a process of shard 0 is killed and restarted after posting.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_discord import FakeDiscord
from tests.fake_discord._interactions import InteractionBuilder
from tests.fake_discord._world import Channel, Guild
from tests.processes import PeacebotProcess
from tests.storage_backends import Backend

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

TOKEN = "MTIz.fake0.token-value-that-must-not-leak"
SHARDS = 2
POST_WAIT = 150.0  # the coming minute is at most ~80 s away; a wait ends when the post is there
READY = r"connected as .* in (\d+) servers"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN, timeout=30) as fake:
        fake.recommended_shards = SHARDS
        yield fake


@pytest.fixture
async def processes() -> AsyncIterator[list[PeacebotProcess]]:
    started: list[PeacebotProcess] = []
    yield started
    for process in started:
        await process.kill()


def six_servers(fake: FakeDiscord) -> list[Guild]:
    """The world's first guild and five more, three on each shard."""
    world = fake.world
    guilds = [world.guild]
    for shard in range(SHARDS):
        while sum(g.shard(SHARDS) == shard for g in guilds) < 3:
            guilds.append(world.add_guild(f"Study group {len(guilds)}", shard=(shard, SHARDS)))
    return guilds


async def start(
    processes: list[PeacebotProcess], fake: FakeDiscord, tmp_path: Path, url: str, shard: int
) -> PeacebotProcess:
    folder = tmp_path / f"process-{len(processes)}"
    folder.mkdir()
    process = PeacebotProcess(
        folder,
        fake.api_base,
        fake.gateway_url,
        TOKEN,
        DATABASE_URL=url,
        PEACEBOT_SHARD_COUNT=str(SHARDS),
        PEACEBOT_SHARD_IDS=str(shard),
    )
    processes.append(process)
    await process.start()
    return process


async def slash(fake: FakeDiscord, name: str, options: dict, channel: Channel, user: str):  # type: ignore[no-untyped-def]
    payload = InteractionBuilder(fake).slash(name, options, fake.world.users[user], channel)
    return await fake.dispatch_interaction(payload, f"/{name} in {channel.guild_id}")


def coming_minute(now: datetime) -> datetime:
    """The next whole minute at least 20 s away (time for a restart before it)."""
    minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return minute if (minute - now).total_seconds() >= 20 else minute + timedelta(minutes=1)


async def until(condition, what: str, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Poll something outside this process (a database, another process) with a bound."""
    async with asyncio.timeout(within):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)


def no_errors(process: PeacebotProcess) -> None:
    assert "Traceback" not in process.stderr and " ERROR " not in process.stderr, process.stderr


async def test_three_processes_on_two_shards_answer_and_post_exactly_once(
    fake: FakeDiscord, processes: list[PeacebotProcess], postgres: Backend, tmp_path: Path
) -> None:
    guilds = six_servers(fake)
    url = postgres.location
    zero = await start(processes, fake, tmp_path, url, 0)
    one = await start(processes, fake, tmp_path, url, 1)
    zero_again = await start(processes, fake, tmp_path, url, 0)
    for process in (zero, one, zero_again):
        ready = await process.wait_for_line(READY)
        assert int(ready.group(1)) == 3  # each shard's session got its own three servers
    identified = sorted(tuple(identify["shard"]) for identify in fake.identifies)
    assert identified == [(0, 2), (0, 2), (1, 2)]
    # Commands synced once, though three processes started with the same new command tree.
    assert len(fake.sync_requests) == 1 and fake.sync_requests[0].guild_id is None

    # -- /define in every server: answered once, logged once ----------------------------------
    asked = [
        await slash(fake, "define", {"term": "roe"}, g.channels["general"], "alice") for g in guilds
    ]
    for interaction in asked:
        answer = await fake.wait_for_answer(interaction.id)
        assert answer.embed["title"] == "Rules of engagement"
    # Both shard-0 processes tried; the later one was refused (40060) and said nothing more.
    shard_zero = [i for i, g in zip(asked, guilds, strict=True) if g.shard(SHARDS) == 0]

    async def refused_twice_over() -> bool:
        refused = [r for r in fake.rejected if r.body.get("code") == 40060]
        return len(refused) == len(shard_zero)

    await until(refused_twice_over, "the second shard-0 process answered and was refused")
    assert all(len(i.responses) == 1 for i in asked)

    async def logged() -> bool:
        rows = await postgres.rows("SELECT COUNT(*) FROM query_log WHERE command = 'define'")
        return rows[0][0] >= len(guilds)

    await until(logged, "every lookup in the query log")
    rows = await postgres.rows("SELECT guild_id FROM query_log WHERE command = 'define'")
    assert sorted(r[0] for r in rows) == sorted(g.id for g in guilds)  # each exactly once

    # -- daily posts for the coming minute -------------------------------------------------------
    at = coming_minute(datetime.now(UTC))
    options = {"time": at.strftime("%H:%M"), "timezone": "UTC"}
    for guild in guilds:
        study = guild.channels["study"]
        done = await slash(fake, "daily set", {"channel": study, **options}, study, "mod")
        assert "Daily facts" in (await fake.wait_for_answer(done.id)).text()

    # Shard 1's process dies without warning, and a new one takes its place before the minute.
    one.send_signal(signal.SIGKILL)
    assert await one.exit_code(within=10) == -signal.SIGKILL
    one = await start(processes, fake, tmp_path, url, 1)
    await one.wait_for_line(READY)
    assert datetime.now(UTC) < at, "the restart took too long to test it before the minute"

    posts = {}
    fake.timeout = POST_WAIT  # each wait below ends as soon as its post arrives
    async with asyncio.timeout(POST_WAIT):
        for guild in guilds:
            study = guild.channels["study"]
            posts[guild.id] = await fake.wait_for_message(
                lambda m: m.embeds and m.embed.get("title") == "Fact of the day",
                channel_id=study.id,
            )

    async def all_claimed_and_moved_on() -> bool:
        rows = await postgres.rows(
            "SELECT COUNT(*) FROM guild_settings WHERE daily_next_at > ?", at + timedelta(hours=12)
        )
        return rows[0][0] == len(guilds)

    fake.timeout = 30
    await until(all_claimed_and_moved_on, "every server's queue entry moved to tomorrow")
    claims = await postgres.rows("SELECT guild_id, local_date FROM daily_claims")
    assert sorted(guild for guild, _ in claims) == sorted(g.id for g in guilds)

    # A shard-0 process is killed after posting and started again: nothing is posted twice.
    zero.send_signal(signal.SIGKILL)
    await zero.exit_code(within=10)
    zero = await start(processes, fake, tmp_path, url, 0)
    await zero.wait_for_line(READY)
    await zero.wait_for_line(r"slash commands unchanged")  # and it did not sync again
    check = await slash(fake, "define", {"term": "roe"}, guilds[0].channels["general"], "alice")
    await fake.wait_for_answer(check.id)
    for guild in guilds:
        fact_posts = [
            m
            for m in fake.messages
            if m.channel_id == guild.channels["study"].id and m.embeds
            and m.embed.get("title") == "Fact of the day"
        ]  # fmt: skip
        assert len(fact_posts) == 1, guild.name
    assert len(fake.sync_requests) == 1
    for process in (one, zero_again, zero):
        no_errors(process)


async def test_sync_is_the_deploy_step_and_a_fresh_install_syncs_by_itself(
    fake: FakeDiscord, processes: list[PeacebotProcess], tmp_path: Path
) -> None:
    """SQLite, one process, as the README's quick start runs it: the first `peacebot run`
    syncs (a fresh install gets its commands), later starts do not; `peacebot sync` syncs
    whenever it is run (the deploy step), and `run` after it does not again."""
    fake.recommended_shards = 1
    first = PeacebotProcess(tmp_path, fake.api_base, fake.gateway_url, TOKEN)
    processes.append(first)
    await first.start()
    await first.wait_for_line(READY)
    assert len(fake.sync_requests) == 1
    first.send_signal(signal.SIGTERM)
    assert await first.exit_code(within=10) == 0
    again = PeacebotProcess(tmp_path, fake.api_base, fake.gateway_url, TOKEN)
    processes.append(again)
    await again.start()
    await again.wait_for_line(r"slash commands unchanged")
    await again.wait_for_line(READY)
    again.send_signal(signal.SIGTERM)
    assert await again.exit_code(within=10) == 0
    assert len(fake.sync_requests) == 1

    deploy = PeacebotProcess(tmp_path, fake.api_base, fake.gateway_url, TOKEN)
    deploy.args[-1] = "sync"
    processes.append(deploy)
    await deploy.start()
    assert await deploy.exit_code(within=30) == 0, deploy.stderr
    assert len(fake.sync_requests) == 2
    assert len(fake.identifies) == 2  # the two runs: sync logs in over REST only
    assert "Traceback" not in deploy.stderr


async def test_without_shard_settings_one_process_runs_every_recommended_shard(
    fake_discord: FakeDiscord, start_peacebot
) -> None:
    """PEACEBOT_SHARD_COUNT unset: discord.py asks GET /gateway/bot, runs that many shards in
    this process, and each shard's session brings its own servers."""
    fake_discord.recommended_shards = SHARDS
    guilds = six_servers(fake_discord)
    harness = await start_peacebot()
    shards = sorted(tuple(identify["shard"]) for identify in fake_discord.identifies)
    assert shards == [(0, SHARDS), (1, SHARDS)]
    assert {g.id for g in harness.bot.guilds} == {g.id for g in guilds}
    assert harness.bot.own_shards() is None  # it serves all of them: no filter on its queue
    for guild in guilds:  # each server's commands reach the one process, on either shard
        payload = InteractionBuilder(fake_discord).slash(
            "define", {"term": "roe"}, fake_discord.world.users["alice"], guild.channels["general"]
        )
        asked = await fake_discord.dispatch_interaction(payload, "/define")
        assert (await fake_discord.wait_for_answer(asked.id)).embed[
            "title"
        ] == "Rules of engagement"
