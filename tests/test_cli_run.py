"""`peacebot run` as a real process: every start-up failure is one line and exit 2; stopping is
quick, finishes what is running and loses nothing; a malformed gateway frame is dropped.

Processes that get as far as Discord talk to a FakeDiscord on 127.0.0.1 through
`tests/fake_discord/run_peacebot.py`.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.client import RedactToken
from tests.conftest import TEST_LIBRARY
from tests.fake_discord import FakeDiscord, Response
from tests.fake_discord._interactions import InteractionBuilder
from tests.processes import RUNNER, PeacebotProcess, clean_env

TOKEN = "MTIz.fake0.token-value-that-must-not-leak"  # well-formed, as Discord's tokens are
OTHER_TOKEN = "MTIz.other.token-that-discord-does-not-know"
VOICE_WARNINGS = ("PyNaCl", "davey", "voice will NOT be supported")

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


# -- failures before connecting: one line, exit 2 ---------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_until_it_fails(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`peacebot run` with `settings` ("<unset>" removes one), pointed at an address where
    nothing listens: each of these must fail before it would connect anywhere."""
    env = clean_env(
        DISCORD_TOKEN=TOKEN,
        PEACEBOT_CONTENT=str(TEST_LIBRARY),
        PEACEBOT_DB=str(tmp_path / "peacebot.sqlite3"),
    )
    env.update(settings)
    for name in [name for name, value in env.items() if value == "<unset>"]:
        del env[name]
    port = closed_port()
    nowhere = (f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    return subprocess.run(
        [sys.executable, str(RUNNER), *nowhere, "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )


def one_line(result, start: str) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr
    assert TOKEN not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"DISCORD_TOKEN": "<unset>"}, "peacebot: DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "my token"}, "peacebot: DISCORD_TOKEN is malformed:"),
        ({"DISCORD_TOKEN": "abc.def"}, "peacebot: DISCORD_TOKEN is malformed:"),
        ({"DISCORD_TOKEN": f"Bot {TOKEN}"}, "peacebot: DISCORD_TOKEN is malformed (leave out"),
        ({"DISCORD_TOKEN": "MTIz.déf.ghi"}, "peacebot: DISCORD_TOKEN is malformed:"),
        ({"PEACEBOT_LOG_LEVEL": "LOUD"}, "peacebot: PEACEBOT_LOG_LEVEL 'LOUD' is not a logging"),
        ({"PEACEBOT_DEV_GUILD": "my-server"}, "peacebot: PEACEBOT_DEV_GUILD must be a server id"),
        ({"PEACEBOT_CONTENT": "nowhere"}, "peacebot: the content in nowhere is invalid: nowhere:"),
        (
            {"PEACEBOT_SHARD_COUNT": "2", "PEACEBOT_SHARD_IDS": "0,2"},
            "peacebot: PEACEBOT_SHARD_IDS [2] outside 0..1 (PEACEBOT_SHARD_COUNT is 2)",
        ),
        ({"PEACEBOT_SHARD_IDS": "0"}, "peacebot: PEACEBOT_SHARD_IDS needs PEACEBOT_SHARD_COUNT"),
        ({"PEACEBOT_SHARD_COUNT": "two"}, "peacebot: PEACEBOT_SHARD_COUNT must be a whole number"),
        ({"PEACEBOT_SHARD_COUNT": "0"}, "peacebot: PEACEBOT_SHARD_COUNT must be a whole number"),
        (
            {"PEACEBOT_SHARD_COUNT": "4", "PEACEBOT_SHARD_IDS": "3-1"},
            "peacebot: PEACEBOT_SHARD_IDS has a backwards range '3-1'",
        ),
        (
            {"PEACEBOT_SHARD_COUNT": "4", "PEACEBOT_SHARD_IDS": "zero"},
            "peacebot: PEACEBOT_SHARD_IDS must be shard numbers",
        ),
        ({"DATABASE_URL": "mysql://db/x"}, "peacebot: DATABASE_URL must be a postgresql:// URL"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_a_bad_setting_is_one_line(tmp_path: Path, settings: dict, start: str) -> None:
    one_line(run_until_it_fails(tmp_path, **settings), start)


def test_invalid_content_is_one_line_naming_the_first_problem(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "bad.yaml").write_text("terms: [\n", encoding="utf-8")
    (content / "worse.yaml").write_text("facts: 3\n", encoding="utf-8")
    line = one_line(
        run_until_it_fails(tmp_path, PEACEBOT_CONTENT=str(content)),
        "peacebot: the content in content is invalid: content/bad.yaml:2: YAML syntax error",
    )
    assert line.endswith("(and 1 more: run `peacebot check` on it)")


@pytest.mark.parametrize("case", ["missing folder", "read-only file", "a folder"])
def test_a_database_that_cannot_be_written_is_one_line(tmp_path: Path, case: str) -> None:
    if case == "missing folder":
        db, reason = tmp_path / "no" / "such" / "peacebot.sqlite3", "the folder"
    elif case == "read-only file":
        db, reason = tmp_path / "peacebot.sqlite3", "is read-only"
        sqlite3.connect(db).close()
        db.chmod(0o444)
    else:
        db, reason = tmp_path / "data", "is a folder, not a database file"
        db.mkdir()
    line = one_line(
        run_until_it_fails(tmp_path, PEACEBOT_DB=str(db)), "peacebot: cannot use the database: "
    )
    assert reason in line and line.endswith("set PEACEBOT_DB to a file peacebot may write")
    assert not (tmp_path / "no").exists()


def test_an_unreachable_database_url_is_one_line_without_the_password(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://bot:hunter2-secret@127.0.0.1:{port}/peacebot"
    line = one_line(
        run_until_it_fails(tmp_path, DATABASE_URL=url),
        f"peacebot: cannot use the database: cannot connect to postgresql://bot@127.0.0.1:{port}/",
    )
    assert line.endswith("; check DATABASE_URL") and "hunter2" not in line


# -- processes that reach a (fake) Discord -----------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN, timeout=30) as fake:
        yield fake


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[list[PeacebotProcess]]:
    started: list[PeacebotProcess] = []
    yield started
    for process in started:
        await process.kill()


async def start_peacebot(
    processes: list[PeacebotProcess],
    tmp_path: Path,
    fake: FakeDiscord | None = None,
    *,
    api_base: str | None = None,
    token: str = TOKEN,
) -> PeacebotProcess:
    base = api_base or (fake.api_base if fake else "")
    gateway = fake.gateway_url if fake else f"ws://127.0.0.1:{closed_port()}/gateway"
    process = PeacebotProcess(tmp_path, base, gateway, token)
    processes.append(process)
    await process.start()
    return process


async def connected(processes, tmp_path: Path, fake: FakeDiscord) -> PeacebotProcess:
    """A bot that has identified: the fake has sent READY, and the bot reads what follows."""
    process = await start_peacebot(processes, tmp_path, fake)
    await fake.wait_for_session()
    return process


async def define(fake: FakeDiscord, term: str) -> int:
    world = fake.world
    payload = InteractionBuilder(fake).slash(
        "define", {"term": term}, world.users["alice"], world.channels["general"]
    )
    interaction = await fake.dispatch_interaction(payload, f"/define {term}")
    return interaction.id


def logged_queries(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [q for (q,) in connection.execute("SELECT query FROM query_log ORDER BY id")]


def last_line(process: PeacebotProcess) -> str:
    return process.lines[-1] if process.lines else ""


@pytest.mark.e2e
async def test_a_rejected_token_is_one_line(fake, processes, tmp_path: Path) -> None:
    process = await start_peacebot(processes, tmp_path, fake, token=OTHER_TOKEN)
    assert await process.exit_code(within=30) == 2
    assert last_line(process) == (
        "peacebot: Discord rejected DISCORD_TOKEN; copy the token again from the Developer Portal"
    )
    assert "Traceback" not in process.stderr and OTHER_TOKEN not in process.stderr


@pytest.mark.e2e
async def test_unreachable_discord_is_one_line(processes, tmp_path: Path) -> None:
    api_base = f"http://127.0.0.1:{closed_port()}/api/v10"
    process = await start_peacebot(processes, tmp_path, api_base=api_base)
    assert await process.exit_code(within=30) == 2
    assert last_line(process).startswith("peacebot: cannot reach Discord (Cannot connect to host")
    assert last_line(process).endswith("; check the network")
    assert "Traceback" not in process.stderr


@pytest.mark.e2e
@posix_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_ends_the_bot_and_keeps_the_query_log(
    fake, processes, tmp_path: Path, sig: signal.Signals
) -> None:
    process = await connected(processes, tmp_path, fake)
    answer = await fake.wait_for_answer(await define(fake, "roe"))
    assert answer.embed["title"] == "Rules of engagement"
    process.send_signal(sig)
    assert await process.exit_code(within=5) == 0
    assert logged_queries(process.db) == ["roe"]
    assert "Traceback" not in process.stderr
    assert not [line for line in process.lines if any(w in line for w in VOICE_WARNINGS)]
    assert TOKEN not in process.stderr


@pytest.mark.e2e
@posix_only
async def test_sigterm_does_not_wait_out_a_reconnect_back_off(
    fake, processes, tmp_path: Path
) -> None:
    process = await connected(processes, tmp_path, fake)
    await fake.drop_gateway()  # discord.py retries with a growing, random back-off
    backoff, count = 0.0, 0
    while backoff < 5.5:  # long enough that waiting it out would miss the 5 s
        count += 1
        # The sharded client's words (discord.py logs them with the error's traceback).
        found = await process.wait_for_line(
            r"Attempting a reconnect (?:for shard ID \d+ )?in ([\d.]+)s", count=count
        )
        backoff = float(found.group(1))
    process.send_signal(signal.SIGTERM)
    assert await process.exit_code(within=5) == 0


async def hold_a_running_command(fake: FakeDiscord, process: PeacebotProcess):
    """/define is running and waiting on Discord for its reply; then SIGTERM."""
    hold = fake.hold("POST", "/interactions/")
    interaction_id = await define(fake, "roe")
    async with asyncio.timeout(30):
        await hold.arrived.wait()
    process.send_signal(signal.SIGTERM)
    await process.wait_for_line(r"waiting for 1 running command")
    return hold, interaction_id


@pytest.mark.e2e
@posix_only
async def test_a_running_command_finishes_before_the_bot_closes(
    fake, processes, tmp_path: Path
) -> None:
    process = await connected(processes, tmp_path, fake)
    hold, interaction_id = await hold_a_running_command(fake, process)
    hold.release()
    answer: Response = await fake.wait_for_answer(interaction_id)
    assert answer.embed["title"] == "Rules of engagement"
    assert await process.exit_code(within=5) == 0
    assert "Traceback" not in process.stderr and "ERROR" not in process.stderr
    assert logged_queries(process.db) == ["roe"]


@pytest.mark.e2e
@posix_only
async def test_a_second_ctrl_c_forces_the_exit(fake, processes, tmp_path: Path) -> None:
    process = await connected(processes, tmp_path, fake)
    hold, _ = await hold_a_running_command(fake, process)
    try:
        process.send_signal(signal.SIGINT)
        assert await process.exit_code(within=5) == 128 + signal.SIGINT
    finally:
        hold.release()
    assert last_line(process) == "peacebot: second stop signal, exiting without waiting"


def message_frame(fake: FakeDiscord, content: str) -> str:
    world = fake.world
    _, event = InteractionBuilder(fake).user_message(
        content, world.users["alice"], world.channels["general"], []
    )
    # json.dumps writes an unpaired surrogate as the escape `\ud83d`, as Discord does.
    return json.dumps({"op": 0, "s": 1000, "t": "MESSAGE_CREATE", "d": event})


@pytest.mark.e2e
@posix_only
@pytest.mark.parametrize("frame", ["unpaired surrogate", "truncated JSON"])
async def test_a_malformed_gateway_frame_is_dropped(
    fake, processes, tmp_path: Path, frame: str
) -> None:
    process = await connected(processes, tmp_path, fake)
    if frame == "unpaired surrogate":
        text = message_frame(fake, "half an emoji \ud83d here")
    else:
        text = message_frame(fake, "cut off")[:60]
    await fake.send_raw_frame(text)
    await process.wait_for_line(r"WARNING .*dropped a gateway event discord.py could not read")
    await process.wait_for_line(r"has connected to Gateway", count=2)  # a new session
    answer = await fake.wait_for_answer(await define(fake, "chapter 7"))
    assert answer.embed["title"] == "Chapter VII of the UN Charter"
    assert not process.exited
    process.send_signal(signal.SIGTERM)
    assert await process.exit_code(within=5) == 0
    assert "Traceback" not in process.stderr
    assert len(fake.identifies) == 2


# -- the token in logs ------------------------------------------------------------------------


def redacted(token: str, *messages: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(token))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for message in messages:
            logger.warning("%s", message)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_the_token_is_redacted_from_every_log_line() -> None:
    out = redacted(TOKEN, f"sending {TOKEN} to Discord", f"Authorization: Bot {TOKEN}")
    assert TOKEN not in out
    assert out.count("[token]") == 2


def test_only_the_whole_token_is_redacted() -> None:
    out = redacted("abc", "abc", "token=abc;", "abcdef and xabc and abc.def and my-abc stay")
    assert out.splitlines() == [
        "[token]",
        "token=[token];",
        "abcdef and xabc and abc.def and my-abc stay",
    ]
