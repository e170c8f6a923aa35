"""`peacebot run`: clear failures for a missing or rejected token, and no token in the logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import discord
import pytest

from bot.cli import main
from bot.client import PeacebotBot, RedactToken, close_on_signals
from bot.config import Config
from bot.content import Library
from bot.storage import Storage
from tests.fake_discord import FakeDiscord, discord_endpoints

ROOT = Path(__file__).resolve().parent.parent
TEST_LIBRARY = Path(__file__).parent / "data" / "library"
BAD_TOKEN = "MTIz.bad.token-value-that-must-not-leak"


def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PEACEBOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peacebot: DISCORD_TOKEN is not set")


class _Unauthorised(BaseHTTPRequestHandler):
    """Discord's answer to a bad token: 401 on every request."""

    def do_GET(self) -> None:
        body = json.dumps({"message": "401: Unauthorized", "code": 0}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_discord(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorised)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v10"
    monkeypatch.setattr(discord.http.Route, "BASE", base)  # restored after the test
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def root_handlers() -> Iterator[None]:
    """`peacebot run` configures the root logger; undo that after the test."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


def test_rejected_token_is_one_clear_line(
    refusing_discord: str,
    root_handlers: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", BAD_TOKEN)
    monkeypatch.setenv("PEACEBOT_CONTENT", str(TEST_LIBRARY))
    monkeypatch.setenv("PEACEBOT_DB", str(tmp_path / "peacebot.sqlite3"))
    monkeypatch.setenv("PEACEBOT_LOG_LEVEL", "DEBUG")
    monkeypatch.delenv("PEACEBOT_DEV_GUILD", raising=False)
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines()[-1] == (
        "peacebot: Discord rejected DISCORD_TOKEN; copy the token again from the Developer Portal"
    )
    assert "Traceback" not in err
    assert BAD_TOKEN not in out + err


def test_bad_log_level_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", BAD_TOKEN)
    monkeypatch.setenv("PEACEBOT_LOG_LEVEL", "LOUD")
    assert main(["run"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "peacebot: PEACEBOT_LOG_LEVEL 'LOUD' is not a logging level"
    )


def test_invalid_content_is_reported_before_connecting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text("terms: [\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", BAD_TOKEN)
    monkeypatch.setenv("PEACEBOT_CONTENT", str(tmp_path))
    monkeypatch.delenv("PEACEBOT_LOG_LEVEL", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "is invalid" in err and "bad.yaml:2:" in err


def test_the_token_is_redacted_from_every_log_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(BAD_TOKEN))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sending %s to Discord", BAD_TOKEN)
        logger.warning(f"Bot {BAD_TOKEN}")
    finally:
        logger.removeHandler(handler)
    assert BAD_TOKEN not in stream.getvalue()
    assert stream.getvalue().count("[token]") == 2


@pytest.mark.e2e
@pytest.mark.skipif(sys.platform == "win32", reason="no loop signal handlers on Windows")
async def test_sigterm_stops_the_bot_and_keeps_the_query_log(
    small_library: Library, tmp_path: Path
) -> None:
    async with FakeDiscord() as fake:
        storage = await Storage.open(":memory:")
        config = Config(
            token=fake.token,
            content_dir=TEST_LIBRARY,
            db_path=":memory:",
            prefix="!",
            dev_guild_id=None,
            log_level="INFO",
        )
        with discord_endpoints(fake):  # restores discord.py's endpoints afterwards
            heartbeat = tmp_path / "heartbeat"
            bot = PeacebotBot(
                config, storage=storage, library=small_library, heartbeat_path=heartbeat
            )
            ready = asyncio.Event()

            async def on_ready() -> None:
                ready.set()

            bot.add_listener(on_ready)
            async with bot:
                close_on_signals(bot)
                running = asyncio.create_task(bot.start(config.token))
                await asyncio.wait_for(ready.wait(), 20)
                assert bot.connected and heartbeat.exists()  # what the Docker health check reads
                bot.log_query(
                    command="define", query="roe", started=0.0, guild_id=1, channel_id=2, user_id=3
                )
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.wait_for(running, 20)  # start() returns once closed
                assert bot.is_closed() and not bot.accepting_commands
        assert storage.log_pending == 0
        assert [row.query async for row in storage.iter_queries()] == ["roe"]
        await storage.close()
