"""HTTP plumbing shared by the fake REST routes: Discord-shaped JSON answers, errors and bodies."""

from __future__ import annotations

import json
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


@dataclass
class Body:
    """A request body: JSON, or multipart with `payload_json` plus attached files (their names
    and, in the same order, their bytes)."""

    data: dict[str, Any]
    files: list[str] = field(default_factory=list)
    contents: list[bytes] = field(default_factory=list)


async def read_body(request: web.Request) -> Body:
    if request.content_type.startswith("multipart/"):
        data: dict[str, Any] = {}
        files: list[str] = []
        contents: list[bytes] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                data = json.loads(await part.text())
            else:
                files.append(part.filename or part.name or "file")
                contents.append(bytes(await part.read()))
        return Body(data, files, contents)
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
