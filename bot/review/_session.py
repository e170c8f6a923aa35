"""A member's review session, and the service the cog and the console both use.

A session is built from the storage when `/review` starts: the member's due cards (most overdue
first) with new cards mixed in evenly, up to what the daily new-card limit still allows. Each
rating is saved before the session moves on, so nothing lives only in memory: after a restart a
new session simply asks the storage again, and a card rated Good is not due. A card rated Again
or Hard comes back within its learning step; once nothing else is left, a learning card due
within `LEARN_AHEAD` is shown early rather than making the member wait.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from fsrs import Rating

from bot.review._cards import Deck, Flashcard, Kind
from bot.review._model import MAX_NEW_PER_DAY, CardState, ReviewSettings, as_utc
from bot.review._reminders import first_reminder
from bot.review._scheduler import ReviewScheduler
from bot.review._stats import FORECAST_DAYS, DayCount, ReviewStats, due_forecast, review_stats
from bot.review._store import ReviewStore
from bot.schedule import load_timezone, local_today

LEARN_AHEAD = timedelta(minutes=20)
STREAK_WINDOW = timedelta(days=400)  # review days read for a streak and the calendar


class RateStatus(StrEnum):
    RATED = "rated"
    STALE = "stale"  # the button is for a card that is no longer the one shown
    BUSY = "busy"  # another rating of this session is being saved


@dataclass(frozen=True, slots=True)
class ReviewOverview:
    """What `/review stats` shows: the figures, the days ahead, and the settings they used."""

    settings: ReviewSettings
    stats: ReviewStats
    forecast: tuple[DayCount, ...]


@dataclass(frozen=True, slots=True)
class RateResult:
    status: RateStatus
    card: Flashcard | None = None
    state: CardState | None = None  # the new state when RATED


def interleave(due: Sequence[Flashcard], new: Sequence[Flashcard]) -> list[Flashcard]:
    """Spread new cards evenly among the due ones (4 due, 1 new: D D N D D)."""
    keyed = [((i + 1) / (len(due) + 1), 0, card) for i, card in enumerate(due)]
    keyed += [((i + 1) / (len(new) + 1), 1, card) for i, card in enumerate(new)]
    return [card for _key, _order, card in sorted(keyed, key=lambda item: item[:2])]


class ReviewSession:
    """One member's pass through their cards. Build it with `ReviewService.start`."""

    def __init__(
        self,
        service: ReviewService,
        settings: ReviewSettings,
        queue: list[Flashcard],
        states: dict[str, CardState],
        learning: list[Flashcard],
        *,
        section: str | None,
        kind: Kind,
        new_planned: int,
    ) -> None:
        self._service = service
        self.settings = settings
        self.section = section
        self.kind = kind
        self._queue = queue
        self._states = states
        self._learning = learning  # rated Again/Hard (or due soon): back when due
        self._saving = False
        self.new_planned = new_planned
        self.reviewed = 0
        self.current: Flashcard | None = None
        self.last_rated: Flashcard | None = None

    @property
    def user_hash(self) -> str:
        return self.settings.user_hash

    @property
    def remaining(self) -> int:
        """Cards still to show, the current one and the learning ones included."""
        return len(self._queue) + len(self._learning) + (self.current is not None)

    @property
    def done(self) -> bool:
        return self.current is None and not self._queue and not self._learning

    def advance(self, now: datetime) -> Flashcard | None:
        """Move to the next card to show at `now`: the queue first, then a learning card that is
        due (or due within `LEARN_AHEAD` when nothing else is left). None: nothing to show now."""
        if self.current is None:
            if self._queue:
                self.current = self._queue.pop(0)
            else:
                self.current = self._due_learning(as_utc(now))
        return self.current

    def focus(self, card: Flashcard) -> bool:
        """Show `card` now if this session would show it at all: it is due (or due soon in its
        learning step) or new. For a button pressed on a card before a restart. False when the
        card has been rated since and is not due (the press came from an old message)."""
        if self.current == card:
            return True
        for pending in (self._queue, self._learning):
            if card in pending:
                pending.remove(card)
                break
        else:
            if card.id in self._states:
                return False
        if self.current is not None:
            self._queue.insert(0, self.current)
        self.current = card
        return True

    def next_learning_at(self) -> datetime | None:
        """When the next learning card falls due (for "come back in 9 minutes")."""
        dues = [self._states[card.id].due for card in self._learning]
        return min(dues) if dues else None

    async def rate(
        self, card_id: str, rating: Rating, now: datetime, duration_ms: int | None = None
    ) -> RateResult:
        """Rate the card shown; save it; show the next. A storage error propagates with the
        session unchanged, so the member can press the button again."""
        card = self.current
        if card is None or card.id != card_id:
            return RateResult(RateStatus.STALE, card)
        if self._saving:  # checked and set with no await between: one rating at a time
            return RateResult(RateStatus.BUSY, card)
        self._saving = True
        try:
            state = await self._service.rate(
                self.settings, card.id, self._states.get(card.id), rating, now, duration_ms
            )
        finally:
            self._saving = False
        self._states[card.id] = state
        self.reviewed += 1
        self.current, self.last_rated = None, card
        if state.due - as_utc(now) < timedelta(days=1):
            self._learning.append(card)
        self.advance(now)
        return RateResult(RateStatus.RATED, card, state)

    def _due_learning(self, now: datetime) -> Flashcard | None:
        if not self._learning:
            return None
        self._learning.sort(key=lambda card: self._states[card.id].due)
        first = self._learning[0]
        if self._states[first.id].due <= now + LEARN_AHEAD:
            return self._learning.pop(0)
        return None


class ReviewService:
    """Review for every member, over one deck (rebuild it after `/reload`) and one store."""

    def __init__(
        self,
        store: ReviewStore,
        deck: Deck,
        scheduler: ReviewScheduler | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.deck = deck
        self.scheduler = scheduler or ReviewScheduler()
        self.clock = clock or (lambda: datetime.now(UTC))

    async def start(
        self,
        user_hash: str,
        *,
        section: str | None = None,
        kind: Kind = Kind.ALL,
        now: datetime | None = None,
    ) -> ReviewSession:
        now = as_utc(now or self.clock())
        settings = await self.store.review_settings(user_hash)
        zone = load_timezone(settings.timezone)
        cards = self.deck.select(section, kind)
        states = {state.card_id: state for state in await self.store.card_states(user_hash)}
        due = sorted(
            (c for c in cards if c.id in states and states[c.id].due <= now),
            key=lambda c: states[c.id].due,
        )
        soon = [c for c in cards if c.id in states and now < states[c.id].due <= now + LEARN_AHEAD]
        allowed = await self._new_allowed(settings, local_today(now, zone))
        new = [c for c in cards if c.id not in states][:allowed]
        session = ReviewSession(
            self,
            settings,
            interleave(due, new),
            states,
            soon,
            section=section,
            kind=kind,
            new_planned=len(new),
        )
        session.advance(now)
        return session

    async def resume(
        self,
        user_hash: str,
        card_id: str,
        *,
        section: str | None = None,
        kind: Kind = Kind.ALL,
        now: datetime | None = None,
    ) -> tuple[ReviewSession, bool]:
        """A session rebuilt from the storage (after a restart, or once the one in memory has
        gone) with `card_id` as its current card if it is still to be shown; the flag says
        whether it is (False: that card was rated since, or left the content)."""
        session = await self.start(user_hash, section=section, kind=kind, now=now)
        card = self.deck.get(card_id)
        return session, card is not None and session.focus(card)

    async def rate(
        self,
        settings: ReviewSettings,
        card_id: str,
        previous: CardState | None,
        rating: Rating,
        now: datetime,
        duration_ms: int | None = None,
    ) -> CardState:
        zone = load_timezone(settings.timezone)
        state, entry = self.scheduler.rate(
            settings.user_hash, card_id, previous, rating, now, zone, duration_ms
        )
        await self.store.save_review(state, entry)
        return state

    async def overview(
        self, user_hash: str, now: datetime | None = None, days: int = FORECAST_DAYS
    ) -> ReviewOverview:
        """The stats and the forecast together, from one read of the settings and cards."""
        now = as_utc(now or self.clock())
        settings, states = await self._member(user_hash)
        zone = load_timezone(settings.timezone)
        stats = await self._stats(user_hash, settings, states, now)
        return ReviewOverview(settings, stats, due_forecast(states, now, zone, days))

    async def stats(self, user_hash: str, now: datetime | None = None) -> ReviewStats:
        now = as_utc(now or self.clock())
        settings, states = await self._member(user_hash)
        return await self._stats(user_hash, settings, states, now)

    async def forecast(
        self, user_hash: str, now: datetime | None = None, days: int = FORECAST_DAYS
    ) -> tuple[DayCount, ...]:
        now = as_utc(now or self.clock())
        settings, states = await self._member(user_hash)
        return due_forecast(states, now, load_timezone(settings.timezone), days)

    async def _member(self, user_hash: str) -> tuple[ReviewSettings, list[CardState]]:
        """The member's settings and their cards that are still in the deck."""
        settings = await self.store.review_settings(user_hash)
        return settings, self._in_deck(await self.store.card_states(user_hash))

    async def _stats(
        self, user_hash: str, settings: ReviewSettings, states: list[CardState], now: datetime
    ) -> ReviewStats:
        zone = load_timezone(settings.timezone)
        today = local_today(now, zone)
        totals = await self.store.review_totals(user_hash)
        days = await self.store.review_days(user_hash, today - STREAK_WINDOW)
        started = {state.card_id for state in states}
        unseen = sum(card_id not in started for card_id in self.deck.cards)
        allowed = min(unseen, await self._new_allowed(settings, today))
        return review_stats(states, totals, days, allowed, now, zone)

    async def due_count(self, user_hash: str, now: datetime | None = None) -> int:
        """Cards of the deck due at `now` (what a reminder reports), from the ids alone."""
        now = as_utc(now or self.clock())
        due = await self.store.due_card_ids(user_hash, now)
        return sum(card in self.deck.cards for card in due)

    async def set_new_per_day(self, user_hash: str, limit: int) -> int:
        """Store the member's new-card limit, clamped to 0..`MAX_NEW_PER_DAY`; returns it."""
        limit = max(0, min(int(limit), MAX_NEW_PER_DAY))
        await self.store.set_new_per_day(user_hash, limit)
        return limit

    async def set_timezone(self, user_hash: str, timezone: str, now: datetime | None = None) -> str:
        """Store the zone the member's days and reminders follow; returns its canonical name.
        A reminder that is on moves to the same wall-clock time in the new zone. Raises
        `bot.schedule.ScheduleError` for a zone that does not exist."""
        now = as_utc(now or self.clock())
        zone = load_timezone(timezone).key
        settings = await self.store.review_settings(user_hash)
        next_at = None
        if settings.remind:
            next_at = first_reminder(settings.remind_time, zone, settings.last_reminded_on, now).at
        await self.store.set_review_timezone(user_hash, zone, next_at)
        return zone

    async def _new_allowed(self, settings: ReviewSettings, today: date) -> int:
        limit = max(0, min(settings.new_per_day, MAX_NEW_PER_DAY))
        return max(0, limit - await self.store.new_cards_on(settings.user_hash, today))

    def _in_deck(self, states: list[CardState]) -> list[CardState]:
        """States of cards the current library still has (a removed entry's state is kept)."""
        return [state for state in states if state.card_id in self.deck.cards]


class ReviewSessions:
    """At most one session per member (a new `/review` replaces the old one), bounded in number
    and dropped after `idle` seconds without use, so the map cannot grow without end."""

    def __init__(
        self,
        limit: int = 1000,
        idle: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: OrderedDict[str, tuple[float, ReviewSession]] = OrderedDict()
        self._limit = limit
        self._idle = idle
        self._clock = clock

    def put(self, session: ReviewSession) -> None:
        self._prune()
        self._sessions.pop(session.user_hash, None)
        self._sessions[session.user_hash] = (self._clock(), session)
        while len(self._sessions) > self._limit:
            self._sessions.popitem(last=False)

    def get(self, user_hash: str) -> ReviewSession | None:
        self._prune()
        found = self._sessions.pop(user_hash, None)
        if found is None:
            return None
        self._sessions[user_hash] = (self._clock(), found[1])
        return found[1]

    def discard(self, user_hash: str) -> None:
        self._sessions.pop(user_hash, None)

    def clear(self) -> None:
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)

    def _prune(self) -> None:
        cutoff = self._clock() - self._idle
        while self._sessions:
            used, _session = next(iter(self._sessions.values()))
            if used >= cutoff:
                return
            self._sessions.popitem(last=False)
