"""Reports of mistakes in the content: the record, its checks, and one report per member per
entry per day.

A member reports from any answer card ("Report a mistake"); the report names the entry and the
content version it was read in, so a maintainer can tell a report about text already fixed. The
day is the UTC date: the limit needs a day everyone agrees on, and a report is not about the
member's local calendar. The storage enforces the limit with a unique key on
`(user_hash, entry_id, reported_on)` (`INSERT ... ON CONFLICT DO NOTHING`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from bot.answers import Card, Field
from bot.review import parse_utc, utc_text
from bot.text import clean, neutralise, truncate

WHAT_MIN, WHAT_MAX = 10, 1000
SOURCE_MAX = 500
REPORT_COLOUR = 0xDC2626


class ReportError(ValueError):
    """A report that cannot be accepted; the message says why, for the member."""


@dataclass(frozen=True, slots=True)
class MistakeReport:
    entry_id: str
    content_version: str
    what: str  # what is wrong, as the member wrote it (cleaned)
    source: str | None  # where the member read otherwise, if they said
    user_hash: str
    at: datetime
    guild_id: int | None = None  # where it was reported, to reach that server's moderators

    @property
    def day(self) -> date:
        return report_day(self.at)

    def to_row(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "content_version": self.content_version,
            "what": self.what,
            "source": self.source,
            "user_hash": self.user_hash,
            "at": utc_text(self.at),
            "reported_on": self.day.isoformat(),
            "guild_id": self.guild_id,
        }

    @classmethod
    def from_row(cls, row: Any) -> MistakeReport:
        return cls(
            entry_id=row["entry_id"],
            content_version=row["content_version"],
            what=row["what"],
            source=row["source"],
            user_hash=row["user_hash"],
            at=parse_utc(row["at"]),
            guild_id=row["guild_id"],
        )


def report_day(at: datetime) -> date:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("report times must be timezone-aware")
    return at.astimezone(UTC).date()


def make_report(
    *,
    entry_id: str,
    content_version: str,
    what: str,
    source: str | None,
    user_hash: str,
    at: datetime,
    guild_id: int | None = None,
) -> MistakeReport:
    """A checked report; `ReportError` says what to fix (the modal keeps what was typed)."""
    text = clean(what, WHAT_MAX, mark_cut=False)
    if len(text) < WHAT_MIN:
        raise ReportError(
            f"Please say what is wrong in at least {WHAT_MIN} characters, so the maintainers "
            "can find it."
        )
    cited = clean(source, SOURCE_MAX, mark_cut=False) if source else ""
    return MistakeReport(
        entry_id=entry_id,
        content_version=content_version,
        what=text,
        source=cited or None,
        user_hash=user_hash,
        at=at.astimezone(UTC),
        guild_id=guild_id,
    )


class ReportStore(Protocol):
    """Table `mistake_reports` (the columns of `MistakeReport.to_row()`, UNIQUE (user_hash,
    entry_id, reported_on), INDEX (at)); per server, `report_channel_id` beside its settings."""

    async def add_report(self, report: MistakeReport) -> bool:
        """Store the report; False (and nothing stored) if the member already reported this
        entry on that UTC day."""
        ...

    async def mistake_reports(self, since: datetime | None = None) -> list[MistakeReport]:
        """Reports at or after `since`, oldest first (`peacebot reports [--since]`)."""
        ...

    async def count_reports(self, since: datetime | None = None) -> int:
        """How many reports (for `peacebot stats`)."""
        ...

    async def forget_reports(self, user_hash: str) -> int:
        """Delete the member's reports (part of `Storage.forget_user`); return how many."""
        ...

    async def report_channel(self, guild_id: int) -> int | None:
        """The server's moderators' channel for reports, if set."""
        ...

    async def set_report_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Set (or with None clear) only that column of the server's settings."""
        ...


def report_card(report: MistakeReport, entry_title: str | None) -> Card:
    """What the moderators' channel receives. The member's words are neutralised: no pings,
    no markdown, no masked links."""
    fields = [
        Field(
            "Entry",
            truncate(f"{neutralise(entry_title or report.entry_id)}", 900)
            + f" (`{report.entry_id}`)",
        ),
        Field("What is wrong", truncate(neutralise(report.what), 1024)),
    ]
    if report.source:
        fields.append(Field("Source given", truncate(neutralise(report.source), 1024)))
    return Card(
        title="Mistake reported",
        description="A member thinks this entry is wrong. Check it against its sources.",
        fields=tuple(fields),
        footer=f"content version {report.content_version} · {report.at:%Y-%m-%d %H:%M} UTC",
        colour=REPORT_COLOUR,
    )


def report_line(report: MistakeReport) -> str:
    """One line of `peacebot reports`: tab-separated, newlines folded."""
    source = report.source or "-"
    return "\t".join(
        (
            f"{report.at:%Y-%m-%d %H:%M}",
            report.entry_id,
            report.content_version,
            report.what,
            source,
        )
    )
