"""Events between the processes that share a database: a content reload, a changed daily
schedule. Each engine delivers them its own way (SQLite: to this process only; PostgreSQL:
LISTEN/NOTIFY, to every process listening, this one included); `EventHub` hands each event to
the handlers this process subscribed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]
Handler = Callable[[Event], None]
# NOTIFY payloads must stay under 8,000 bytes; events are a few short fields.
MAX_EVENT_BYTES = 7000


class EventHub:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler(event)` (on the event loop, never blocking) for every event; returns
        the function that unsubscribes it."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    @property
    def subscribed(self) -> bool:
        return bool(self._handlers)

    def dispatch(self, event: Event) -> None:
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:
                log.exception("an event handler failed on %r", event.get("kind"))
