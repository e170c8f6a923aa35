"""FSRS scheduling through py-fsrs, with peacebot's learning steps and our own card ids.

One learning step of 10 minutes: a new card rated Again or Hard comes back within it (Hard a
little later), and Good or Easy graduates it to days. So a card rated Good is never due again
the same day, which is what a study group that reviews once a day expects; a lapsed card gets
one 10-minute relearning step the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from bot.review._cards import fsrs_id
from bot.review._model import CardState, Phase, ReviewEntry, as_utc

LEARNING_STEPS = (timedelta(minutes=10),)
RELEARNING_STEPS = (timedelta(minutes=10),)
MAX_INTERVAL_DAYS = 3650  # ten years: far beyond any course, well inside datetime's range
DESIRED_RETENTION = 0.9


class ReviewScheduler:
    """Rates cards. Pure: the time is always passed in; `fuzz` spreads long intervals by a
    day or two (py-fsrs's own fuzz) so cards learned together do not all fall due together."""

    def __init__(
        self,
        *,
        desired_retention: float = DESIRED_RETENTION,
        learning_steps: tuple[timedelta, ...] = LEARNING_STEPS,
        relearning_steps: tuple[timedelta, ...] = RELEARNING_STEPS,
        maximum_interval: int = MAX_INTERVAL_DAYS,
        fuzz: bool = True,
    ) -> None:
        self.learning_steps = learning_steps
        self._fsrs = Scheduler(
            desired_retention=desired_retention,
            learning_steps=learning_steps,
            relearning_steps=relearning_steps,
            maximum_interval=maximum_interval,
            enable_fuzzing=fuzz,
        )

    def rate(
        self,
        user_hash: str,
        card_id: str,
        previous: CardState | None,
        rating: Rating,
        now: datetime,
        zone: ZoneInfo,
        duration_ms: int | None = None,
    ) -> tuple[CardState, ReviewEntry]:
        """The card's new state and the log entry for rating it at `now` (`previous` is None
        for a card the member has never rated)."""
        now = as_utc(now)
        rating = Rating(rating)
        if previous is None:
            before = FsrsCard(card_id=fsrs_id(card_id), state=State.Learning, due=now)
            phase_before, interval = Phase.NEW, 0.0
        else:
            before, phase_before, interval = (
                previous.fsrs,
                previous.phase,
                previous.interval_days,
            )
        after, _log = self._fsrs.review_card(before, rating, review_datetime=now)
        lapsed = phase_before is Phase.REVIEW and rating is Rating.Again
        state = CardState(
            user_hash=user_hash,
            card_id=card_id,
            fsrs=after,
            reviews=(previous.reviews if previous else 0) + 1,
            lapses=(previous.lapses if previous else 0) + lapsed,
            first_reviewed=previous.first_reviewed if previous else now,
        )
        entry = ReviewEntry(
            user_hash=user_hash,
            card_id=card_id,
            rating=rating,
            reviewed_at=now,
            local_date=now.astimezone(zone).date(),
            phase_before=phase_before,
            interval_days=interval,
            duration_ms=duration_ms,
        )
        return state, entry
