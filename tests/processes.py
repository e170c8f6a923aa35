"""Running `peacebot` as a real process, as a user does, for the command-line tests.

Each process starts in a folder the test chose (never the repository, whose `.env` could change
the defaults) with every DISCORD_* and PEACEBOT_* variable removed, then only what the test sets.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "fake_discord" / "run_peacebot.py"
LINE_TIMEOUT = 60.0  # generous: a wait ends as soon as the line is printed
TEST_LIBRARY = ROOT / "tests" / "data" / "library"


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without peacebot's settings, plus `settings`; imports this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "PEACEBOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def run_peacebot(
    *args: object, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`peacebot ARGS...` to completion, with output captured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        timeout=60,
        check=False,
    )


class PeacebotProcess:
    """`peacebot run` against `api_base`/`gateway_url`; stderr is read line by line."""

    def __init__(
        self, tmp_path: Path, api_base: str, gateway_url: str, token: str, **settings: str
    ) -> None:
        self.db = tmp_path / "peacebot.sqlite3"
        self.args = [str(RUNNER), api_base, gateway_url, "run"]
        self.env = clean_env(
            DISCORD_TOKEN=token,
            PEACEBOT_CONTENT=str(TEST_LIBRARY),
            PEACEBOT_DB=str(self.db),
            PEACEBOT_LOG_LEVEL="INFO",
            **settings,
        )
        self.cwd = tmp_path
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.args,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            async with self._new_line:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._new_line.notify_all()
        async with self._new_line:
            self._closed = True  # the process is gone (or closed stderr): stop waiting for lines
            self._new_line.notify_all()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, *, count: int = 1) -> re.Match[str]:
        """The `count`th stderr line matching `pattern`, as soon as it is printed."""
        regex = re.compile(pattern)

        def found() -> list[re.Match[str]]:
            return [m for m in map(regex.search, self.lines) if m]

        try:
            async with asyncio.timeout(LINE_TIMEOUT), self._new_line:
                await self._new_line.wait_for(lambda: len(found()) >= count or self._closed)
        except TimeoutError:
            raise AssertionError(f"no {pattern!r} in {LINE_TIMEOUT}s:\n{self.stderr}") from None
        matches = found()
        assert len(matches) >= count, f"exited before {pattern!r}:\n{self.stderr}"
        return matches[count - 1]

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    def send_signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def exit_code(self, within: float) -> int:
        """The exit code, failing if the process has not exited `within` seconds."""
        assert self.process is not None and self._reader is not None
        try:
            async with asyncio.timeout(within):
                code = await self.process.wait()
                await self._reader
        except TimeoutError:
            raise AssertionError(f"still running after {within}s:\n{self.stderr}") from None
        return code

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            await self._reader
