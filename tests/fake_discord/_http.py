"""HTTP plumbing shared by the fake REST routes: Discord-shaped JSON answers, errors and bodies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._limits import Problems

# When a request reached the fake (time.perf_counter), stamped before anything else runs.
RECEIVED_AT = web.RequestKey("received_at", float)


class DiscordError(Exception):
    """An API error in Discord's JSON shape; the app's middleware turns it into the response."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message}
        if errors:
            self.body["errors"] = errors

    def response(self) -> web.Response:
        return ok(self.body, self.status)


def invalid_form(problems: Problems) -> DiscordError:
    errors = {
        (path or "message"): {"_errors": [{"code": "INVALID", "message": text}]}
        for path, text in problems
    }
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def unknown(what: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def ok(data: Any, status: int = 200) -> web.Response:
    # Not web.json_response: it appends "; charset=utf-8", which discord.py would not decode.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def no_content() -> web.Response:
    return web.Response(status=204)


@dataclass(frozen=True)
class Attachment:
    """A file the bot uploaded: its name, its bytes and the description (alt text) that
    `payload_json` gave it."""

    filename: str
    data: bytes
    description: str | None = None


@dataclass
class Body:
    """A request body: JSON, or multipart with `payload_json` plus the attached files."""

    data: dict[str, Any]
    files: list[Attachment] = field(default_factory=list)


_FILE_PART = re.compile(r"files\[(\d+)\]")


async def read_body(request: web.Request) -> Body:
    if request.content_type.startswith("multipart/"):
        data: dict[str, Any] = {}
        parts: list[tuple[str, str, bytes]] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                data = json.loads(await part.text())
            else:
                parts.append((part.name or "", part.filename or part.name or "file",
                              bytes(await part.read())))  # fmt: skip
        described = {str(a.get("id")): a for a in data.get("attachments") or []}
        files = []
        for name, filename, content in parts:
            index = _FILE_PART.fullmatch(name)
            meta = described.get(index.group(1) if index else "", {})
            files.append(Attachment(filename, content, meta.get("description")))
        return Body(data, files)
    if not request.body_exists:
        return Body({})
    return Body(await request.json())


def snowflake(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise DiscordError(
            400, 50035, f"Value {request.match_info[name]!r} is not snowflake."
        ) from None
