"""Content reloads across processes: one request, every process's answer.

With PostgreSQL every process hears a "reload" event (LISTEN/NOTIFY), loads and checks the
content itself, swaps its library or keeps the old one, and answers with a "reloaded" event
that names it. Whoever asked (`/reload` in one process, `peacebot reload` from the shell)
collects the answers for a few seconds and shows them. With SQLite there is one process and
`/reload` stays in it. Nothing here knows Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from bot.storage import Storage

RELOAD = "reload"
RELOADED = "reloaded"
REPORT_TEXT_LIMIT = 1500  # an event stays well under NOTIFY's 8,000 bytes
WAIT_AFTER_FIRST = 2.0  # once one process has answered, the others get this long
WAIT_AT_MOST = 10.0


@dataclass(frozen=True, slots=True)
class ReloadReport:
    process: str  # which process: host, pid and shards
    ok: bool  # the new content is served (False: it was invalid; the old one still is)
    text: str


def process_label(shards: str) -> str:
    return f"{socket.gethostname()} pid {os.getpid()} ({shards})"


def report_event(request: str, report: ReloadReport) -> dict[str, Any]:
    return {
        "request": request,
        "process": report.process,
        "ok": report.ok,
        "text": report.text[:REPORT_TEXT_LIMIT],
    }


class ReloadRequest:
    """Ask every process to reload, and gather their reports."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.request = secrets.token_hex(8)
        self.reports: list[ReloadReport] = []
        self._heard = asyncio.Event()

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("kind") == RELOADED and event.get("request") == self.request:
            self.reports.append(
                ReloadReport(str(event.get("process")), bool(event.get("ok")), str(event["text"]))
            )
            self._heard.set()

    async def run(
        self, wait_after_first: float = WAIT_AFTER_FIRST, wait_at_most: float = WAIT_AT_MOST
    ) -> list[ReloadReport]:
        """Publish the request; return the reports heard within the waiting time (the first
        may take up to `wait_at_most`, the rest `wait_after_first` after it)."""
        unsubscribe = self.storage.subscribe(self._on_event)
        try:
            await self.storage.listening(wait_at_most)
            await self.storage.publish(RELOAD, request=self.request)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._heard.wait(), wait_at_most)
            if self.reports:
                await asyncio.sleep(wait_after_first)  # the other processes' answers
        finally:
            unsubscribe()
        return sorted(self.reports, key=lambda report: report.process)


def summary(reports: list[ReloadReport]) -> str:
    """One line per process, the failures first."""
    if not reports:
        return "No process answered the reload request."
    ordered = sorted(reports, key=lambda report: report.ok)
    lines = [f"{'ok' if r.ok else 'KEPT THE OLD CONTENT'} · {r.process}: {r.text}" for r in ordered]
    return "\n".join(lines)
