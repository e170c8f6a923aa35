"""What the fake API records: interactions it dispatched, the bot's answers, posted messages.

Waiting is event-driven: every record wakes exactly the waiters that care about it, and every wait
has a bounded timeout that fails with a readable account of what did arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._http import Attachment

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7

CALLBACK_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
}
# Callback types that are themselves the visible answer; 5 and 6 only promise one.
ANSWERING_CALLBACKS = frozenset({4, 7, 8, 9})


@dataclass
class SyncRecord:
    """One PUT bulk-overwrite of application commands: global (guild_id None) or per guild."""

    guild_id: int | None
    commands: list[dict[str, Any]]


@dataclass
class Rejection:
    """A request the fake answered with 4xx: what Discord would have refused."""

    method: str
    path: str
    status: int
    body: dict[str, Any]


class NoResponse(AssertionError):
    """The bot did not answer in time; the message says what the fake saw instead."""


class MessageView:
    """Read helpers over a Discord message dict (or interaction callback data)."""

    def _view(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def content(self) -> str:
        return self._view().get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self._view().get("embeds") or []

    @property
    def embed(self) -> dict[str, Any]:
        """The first embed; fails loudly when there is none."""
        embeds = self.embeds
        assert embeds, f"expected an embed, got {self._view()!r}"
        return embeds[0]

    @property
    def flags(self) -> int:
        return int(self._view().get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def components(self) -> list[dict[str, Any]]:
        return self._view().get("components") or []

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button, flattened out of the action rows, in display order."""
        return [c for c in iter_components(self.components) if c.get("type") == 2]

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """The message's attachments as Discord lists them (file name, size, description)."""
        return self._view().get("attachments") or []

    def button(self, label: str) -> dict[str, Any]:
        for candidate in self.buttons:
            if candidate.get("label") == label:
                return candidate
        labels = [b.get("label") for b in self.buttons]
        raise AssertionError(f"no button labelled {label!r}; buttons: {labels}")

    def text(self) -> str:
        """All visible text: content plus every embed's title, description, fields and footer."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for item in embed.get("fields") or []:
                parts += [item.get("name") or "", item.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)


def iter_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])


@dataclass(eq=False)
class Response(MessageView):
    """One thing the bot did for an interaction.

    kind: "callback" (POST /interactions/{id}/{token}/callback), "followup"
    (POST /webhooks/{app}/{token}), "edit" (PATCH .../messages/{id|@original}) or "delete".
    `data` is what the bot sent (the callback's `data`, or the webhook body); `message` is the
    message as it stands after this response, when there is one.
    """

    interaction: FakeInteraction
    kind: str
    data: dict[str, Any]
    received_at: float
    callback_type: int | None = None
    message: dict[str, Any] | None = None
    allowed_mentions: dict[str, Any] | None = None
    files: list[Attachment] = field(default_factory=list)  # uploaded with this response

    def _view(self) -> dict[str, Any]:
        return self.message if self.message is not None else self.data

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return self.data.get("choices") or []

    @property
    def latency(self) -> float:
        """Seconds from the gateway dispatch to this request reaching the fake REST API."""
        return self.received_at - self.interaction.dispatched_at

    @property
    def answers(self) -> bool:
        if self.kind == "callback":
            return self.callback_type in ANSWERING_CALLBACKS
        return self.kind in ("followup", "edit")

    def __repr__(self) -> str:
        name = CALLBACK_NAMES.get(self.callback_type or 0, self.kind)
        return f"<Response {name} {self._view()!r}>"


@dataclass(eq=False)
class FakeInteraction:
    """An INTERACTION_CREATE the fake dispatched, and everything the bot did about it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    label: str
    dispatched_at: float = 0.0
    responses: list[Response] = field(default_factory=list)
    original_message_id: int | None = None
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    # Replaced on every response: waiting on the current one means "until the next response".
    grew: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def callback(self) -> Response | None:
        return next((r for r in self.responses if r.kind == "callback"), None)

    @property
    def answer(self) -> Response | None:
        return next((r for r in self.responses if r.answers), None)

    def add(self, response: Response) -> None:
        self.responses.append(response)
        if response.kind == "callback":
            self.acknowledged.set()
        if response.answers:
            self.answered.set()
        grew, self.grew = self.grew, asyncio.Event()
        grew.set()

    async def wait_until(self, predicate: Callable[[list[Response]], bool]) -> list[Response]:
        """Wait (unbounded: the caller sets the deadline) until `predicate(responses)` holds."""
        while not predicate(self.responses):
            await self.grew.wait()
        return self.responses


@dataclass(eq=False)
class MessageRecord(MessageView):
    """A message in a channel: posted by the bot over REST, or injected as a user's message."""

    message: dict[str, Any]
    body: dict[str, Any]
    received_at: float = field(default_factory=time.perf_counter)
    edits: list[dict[str, Any]] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)

    def _view(self) -> dict[str, Any]:
        return self.message

    @property
    def id(self) -> int:
        return int(self.message["id"])

    @property
    def channel_id(self) -> int:
        return int(self.message["channel_id"])

    @property
    def author_id(self) -> int:
        return int(self.message["author"]["id"])

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.body.get("allowed_mentions")

    def __repr__(self) -> str:
        return f"<MessageRecord channel={self.channel_id} {self.message.get('content')!r}>"


class MessageLog:
    """Every channel message in arrival order, with a condition to wait for new ones."""

    def __init__(self) -> None:
        self.records: list[MessageRecord] = []
        self.by_id: dict[int, MessageRecord] = {}
        self._changed = asyncio.Condition()

    async def add(self, record: MessageRecord) -> None:
        self.records.append(record)
        self.by_id[record.id] = record
        async with self._changed:
            self._changed.notify_all()

    async def touched(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def first(self, predicate: Callable[[MessageRecord], bool]) -> MessageRecord | None:
        return next((r for r in self.records if predicate(r)), None)

    async def wait_until(self, predicate: Callable[[MessageRecord], bool]) -> MessageRecord:
        """Wait (unbounded: the caller sets the deadline) for a message matching `predicate`."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.first(predicate) is not None)
        found = self.first(predicate)
        assert found is not None
        return found
