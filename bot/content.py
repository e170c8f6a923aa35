"""The content model: what a study library holds, as immutable plain data."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import MISSING as dataclasses_MISSING
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar

# Every id (entry, section, fact, question): lower-case words joined by hyphens. The loader, the
# JSON Schema and the button custom ids all use this one pattern.
ID_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
ID_MAX = 64


def spec(
    max_len: int = 1000,
    *,
    items: tuple[int, int] | None = None,
    ref: str | None = None,
    pattern: tuple[str, str] | None = None,
    choices: tuple[str, ...] | None = None,
    default: object = dataclasses_MISSING,
) -> object:
    """Declare a content field: its length limit (Discord's embed limits decide most of them),
    how many items a list may hold, which table its ids must exist in, and for short codes the
    pattern (regex, what it means) or the fixed choices a value must match. The loader and the
    JSON Schema are both generated from these declarations."""
    meta = {"max_len": max_len, "items": items, "ref": ref, "pattern": pattern, "choices": choices}
    if default is dataclasses_MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class Source:
    title: str = spec(256)
    url: str | None = spec(512, default=None)


@dataclass(frozen=True, slots=True)
class Section:
    kind: ClassVar[str] = "section"
    id: str = spec(64)
    title: str = spec(100)
    summary: str = spec(1000)
    key_points: tuple[str, ...] = spec(300, items=(1, 8))
    sources: tuple[Source, ...] = spec(items=(1, 10))
    aliases: tuple[str, ...] = spec(100, items=(0, 30), default=())
    related_terms: tuple[str, ...] = spec(64, items=(0, 25), ref="terms", default=())
    note: str | None = spec(1000, default=None)

    @property
    def name(self) -> str:
        return self.title


# Mission metadata (for timelines): who led an operation, and when it ran.
LEADERS = ("UN", "NATO", "AU", "ECOWAS", "EU", "OAS", "Arab League", "coalition", "state")
PERIOD = (r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$", "a year or year-month (YYYY or YYYY-MM)")
# Dates before the UN or far in the future are typos; fixed bounds keep `check` deterministic.
EARLIEST_YEAR, LATEST_YEAR = 1945, 2100
Period = tuple[int, int | None]  # (year, month or None)


def parse_period(value: str) -> Period:
    """`"2003-10"` -> `(2003, 10)`, `"1999"` -> `(1999, None)` (values the loader accepted)."""
    year, _, month = value.partition("-")
    return int(year), int(month) if month else None


@dataclass(frozen=True, slots=True)
class Term:
    kind: ClassVar[str] = "term"
    id: str = spec(64)
    name: str = spec(100)
    definition: str = spec(1000)
    section: str = spec(64, ref="sections")
    sources: tuple[Source, ...] = spec(items=(1, 10))
    aliases: tuple[str, ...] = spec(100, items=(0, 30), default=())
    related_terms: tuple[str, ...] = spec(64, items=(0, 20), ref="terms", default=())
    note: str | None = spec(1000, default=None)
    # Only for missions and operations: see content/README.md.
    started: str | None = spec(7, pattern=PERIOD, default=None)
    ended: str | None = spec(7, pattern=PERIOD, default=None)  # absent while still active
    led_by: str | None = spec(20, choices=LEADERS, default=None)
    mandate: str | None = spec(64, ref="terms", default=None)  # the resolution it rests on

    @property
    def start_period(self) -> Period | None:
        return parse_period(self.started) if self.started else None

    @property
    def end_period(self) -> Period | None:
        return parse_period(self.ended) if self.ended else None


@dataclass(frozen=True, slots=True)
class Fact:
    kind: ClassVar[str] = "fact"
    id: str = spec(64)
    text: str = spec(500)
    section: str = spec(64, ref="sections")
    source: Source = spec()
    tags: tuple[str, ...] = spec(40, items=(0, 10), default=())


@dataclass(frozen=True, slots=True)
class QuizQuestion:
    kind: ClassVar[str] = "quiz"
    id: str = spec(64)
    question: str = spec(1000)
    choices: tuple[str, ...] = spec(80, items=(2, 5))  # a choice becomes a button label (80)
    answer: str = spec(80)
    explanation: str = spec(1000)
    section: str = spec(64, ref="sections")
    source: Source = spec()
    # Offered in group quizzes after half the time: a nudge in one sentence, never the answer.
    hint: str | None = spec(200, default=None)

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)


@dataclass(frozen=True, slots=True)
class DiscussionPrompt:
    kind: ClassVar[str] = "prompt"
    id: str = spec(64)
    prompt: str = spec(1000)
    section: str = spec(64, ref="sections")


Entry = Section | Term | Fact | QuizQuestion | DiscussionPrompt
# The YAML list each model is written under, in the order the library presents them.
TABLES: dict[str, type] = {
    "sections": Section,
    "terms": Term,
    "facts": Fact,
    "quiz": QuizQuestion,
    "prompts": DiscussionPrompt,
}
Named = Section | Term  # entries a user can look up by name


def _frozen(entries: list) -> Mapping:
    return MappingProxyType({entry.id: entry for entry in entries})


class Library:
    """A complete, validated set of content. Build it with `bot.loader.load_library`."""

    def __init__(
        self,
        sections: list[Section],
        terms: list[Term],
        facts: list[Fact],
        quiz: list[QuizQuestion],
        prompts: list[DiscussionPrompt],
        origins: Mapping[str, str] | None = None,
    ) -> None:
        self.sections: Mapping[str, Section] = _frozen(sections)
        self.terms: Mapping[str, Term] = _frozen(terms)
        self.facts: Mapping[str, Fact] = _frozen(facts)
        self.quiz: Mapping[str, QuizQuestion] = _frozen(quiz)
        self.prompts: Mapping[str, DiscussionPrompt] = _frozen(prompts)
        # id -> "file:line" where the loader read the entry (for warnings); not part of version
        self.origins: Mapping[str, str] = MappingProxyType(dict(origins or {}))
        digest = hashlib.sha256()
        for entry in (*sections, *terms, *facts, *quiz, *prompts):
            digest.update(repr(entry).encode())
        self.version = digest.hexdigest()[:10]

    def get(self, entry_id: str) -> Entry | None:
        for table in (self.terms, self.sections, self.facts, self.quiz, self.prompts):
            if entry_id in table:
                return table[entry_id]
        return None

    def named(self) -> list[Named]:
        """Every entry a user can look up by name: sections first, then terms."""
        return [*self.sections.values(), *self.terms.values()]

    def missions(self) -> list[Term]:
        """Terms with mission dates (`started`), earliest first: the rows of a timeline."""
        dated = [t for t in self.terms.values() if t.started]
        return sorted(dated, key=lambda t: (t.start_period[0], t.start_period[1] or 0, t.id))

    def counts(self) -> dict[str, int]:
        return {
            "sections": len(self.sections),
            "terms": len(self.terms),
            "facts": len(self.facts),
            "quiz": len(self.quiz),
            "prompts": len(self.prompts),
        }

    def in_section(self, table: Mapping[str, Entry], section_id: str | None) -> list[Entry]:
        """Entries of one table that belong to a section (all of them for `None`)."""
        return [e for e in table.values() if section_id is None or e.section == section_id]
