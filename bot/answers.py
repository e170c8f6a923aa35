"""Answers as plain data: what the bot says, before it becomes an embed or console text.

Every `Card` already fits Discord's embed limits, so neither renderer has to cut anything.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.content import Entry, Fact, Library, Named, Section, Source, Term
from bot.lookup import LookupEngine, Match, Outcome, Resolution
from bot.text import clean, neutralise, normalise, truncate

# Discord's embed limits.
TITLE_MAX, DESCRIPTION_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 256, 4096, 256, 1024
FIELDS_MAX, EMBED_MAX, FOOTER_MAX, LABEL_MAX = 25, 6000, 2048, 80
ANSWER_CACHE = 2048  # answers kept per command
PAGE_TARGET = 1800  # a page a reader can take in at once; far below the hard limits

COLOURS = {"term": 0x3B82F6, "section": 0x10B981, "fact": 0xF59E0B, "search": 0x8B5CF6,
           "suggestions": 0x8B5CF6, "none": 0x6B7280, "about": 0x0EA5E9}  # fmt: skip


_KIND_NAMES = {"sections": "sections", "terms": "glossary terms", "facts": "facts",
               "quiz": "quiz questions", "prompts": "discussion prompts"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    description: str
    fields: tuple[Field, ...] = ()
    footer: str | None = None
    url: str | None = None
    colour: int = COLOURS["none"]

    def size(self) -> int:
        """Characters Discord counts towards its 6000 limit."""
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer or "")
            + sum(len(f.name) + len(f.value) for f in self.fields)
        )


@dataclass(frozen=True, slots=True)
class Link:
    """A button that opens an entry."""

    label: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class Answer:
    query: str
    outcome: Outcome
    pages: tuple[Card, ...]
    suggestions: tuple[Link, ...] = ()
    related: tuple[Link, ...] = ()
    entry_id: str | None = None
    score: float | None = None


class Librarian:
    """Turns questions into answers. Used by the Discord cogs and the console alike."""

    def __init__(self, library: Library, engine: LookupEngine | None = None) -> None:
        self.library = library
        self.engine = engine or LookupEngine(library)
        # A library never changes (a reload builds a new Librarian), so an answer to the same
        # words is the same answer: study groups ask for the same few terms all day.
        for name in ("define", "section", "lookup", "search", "open"):
            setattr(self, name, functools.lru_cache(maxsize=ANSWER_CACHE)(getattr(self, name)))

    # -- lookups -------------------------------------------------------------------------
    def define(self, query: str) -> Answer:
        return self._answer(query, self.engine.resolve(query, kinds={"term"}), "definition")

    def section(self, query: str) -> Answer:
        return self._answer(query, self.engine.resolve(query, kinds={"section"}), "section")

    def lookup(self, query: str) -> Answer:
        """Anything by name, falling back to the full text (the console's bare query)."""
        resolution = self.engine.lookup(query)
        if resolution.best is None and resolution.matches:
            return self._search_answer(resolution)
        return self._answer(query, resolution, "entry")

    def search(self, query: str) -> Answer:
        resolution = self.engine.search(query, limit=8)
        if not resolution.matches:
            return self._no_match(resolution, "search")
        return self._search_answer(resolution)

    def open(self, entry_id: str) -> Answer:
        """A button click: the entry itself, or a clear no-match for an id that is gone."""
        entry = self.library.get(entry_id)
        if entry is None:
            return self._no_match(Resolution(entry_id, Outcome.NONE), "entry")
        return self.entry_answer(entry, entry_id, Outcome.EXACT, 100.0)

    # -- facts ---------------------------------------------------------------------------
    def fact(self, section: str | None = None, rng: random.Random | None = None) -> Answer:
        facts = self.library.in_section(self.library.facts, section)
        if not facts:
            missing = Resolution(section or "", Outcome.NONE)
            return self._no_match(missing, "fact")
        return self.fact_answer((rng or random).choice(facts))

    def fact_answer(self, fact: Fact, title: str = "Did you know?") -> Answer:
        section = self.library.sections[fact.section]
        card = Card(
            title=title,
            description=fact.text,
            fields=(
                Field("Section", section.title, inline=True),
                Field("Source", _source_line(fact.source), inline=True),
            ),
            footer=f"/section {section.title}",
            url=fact.source.url,
            colour=COLOURS["fact"],
        )
        related = (Link(_label(section.title), section.id), *self.mentioned_terms(fact.text))
        return Answer(fact.id, Outcome.EXACT, (card,), related=related[:5], entry_id=fact.id)

    def mentioned_terms(self, text: str, limit: int = 4) -> list[Link]:
        """Glossary terms whose name or alias appears in `text`, longest names first."""
        haystack = f" {normalise(text)} "
        found: dict[str, Link] = {}
        for term, key in self._term_keys:
            if f" {key} " in haystack:
                found.setdefault(term.id, Link(_label(term.name), term.id))
        return sorted(found.values(), key=lambda link: -len(link.label))[:limit]

    @functools.cached_property
    def _term_keys(self) -> list[tuple[Term, str]]:
        """Every term's normalised names worth spotting in a text (three characters or more)."""
        keys = [
            (term, normalise(label))
            for term in self.library.terms.values()
            for label in (term.name, *term.aliases)
        ]
        return [(term, key) for term, key in keys if len(key) >= 3]

    # -- about ---------------------------------------------------------------------------
    def about(self) -> Answer:
        counts = self.library.counts()
        sources = _distinct_sources(self.library)
        lines = [f"**{n}** {_KIND_NAMES[kind]}" for kind, n in counts.items()]
        description = (
            "A study companion for *multinational peace enforcement missions*: definitions, "
            "sections, facts, quizzes and discussion prompts, checked against cited sources.\n\n"
            + " · ".join(lines)
        )
        listed = "\n".join(f"• {_source_line(s)}" for s in sources[:8])
        if len(sources) > 8:
            listed += f"\n…and {len(sources) - 8} more"
        card = Card(
            title="About peacebot",
            description=description,
            fields=(Field(f"Sources ({len(sources)})", truncate(listed, FIELD_VALUE_MAX)),),
            footer=f"content version {self.library.version}",
            colour=COLOURS["about"],
        )
        return Answer("about", Outcome.EXACT, (card,))

    # -- building answers ----------------------------------------------------------------
    def entry_answer(
        self, entry: Entry, query: str, outcome: Outcome, score: float | None
    ) -> Answer:
        if isinstance(entry, Fact):
            return self.fact_answer(entry, title="Fact")
        if isinstance(entry, Term):
            pages = self._term_cards(entry)
        elif isinstance(entry, Section):
            pages = self._section_cards(entry)
        else:  # quiz questions and prompts are not looked up by name
            return self._no_match(Resolution(query, Outcome.NONE), "entry")
        related = [self.library.terms[t] for t in entry.related_terms if t in self.library.terms]
        if isinstance(entry, Term):
            related.insert(0, self.library.sections[entry.section])
        links = tuple(Link(_label(e.name), e.id) for e in related[:5])
        return Answer(query, outcome, pages, related=links, entry_id=entry.id, score=score)

    def _answer(self, query: str, resolution: Resolution, what: str) -> Answer:
        best = resolution.best
        if best is not None:
            return self.entry_answer(best.entry, query, resolution.outcome, best.score)
        if resolution.outcome is Outcome.SUGGESTIONS:
            return self._suggestions(resolution)
        return self._no_match(resolution, what)

    def _term_cards(self, term: Term) -> tuple[Card, ...]:
        fields = []
        if term.note:
            fields.append(Field("⚠ What the article gets wrong", term.note))
        section = self.library.sections[term.section]
        fields.append(Field("Section", section.title, inline=True))
        if term.aliases:
            fields.append(Field("Also called", ", ".join(term.aliases), inline=True))
        fields.append(Field("Sources", "\n".join(_source_line(s) for s in term.sources)))
        return paginate(term.name, [term.definition], fields, _url(term.sources), COLOURS["term"])

    def _section_cards(self, section: Section) -> tuple[Card, ...]:
        blocks = [section.summary, "**Key points**", *(f"• {p}" for p in section.key_points)]
        fields = []
        if section.note:
            fields.append(Field("⚠ What the article gets wrong", section.note))
        terms = [self.library.terms[t].name for t in section.related_terms]
        if terms:
            fields.append(Field("Related terms", ", ".join(terms)))
        fields.append(Field("Sources", "\n".join(_source_line(s) for s in section.sources)))
        return paginate(section.title, blocks, fields, _url(section.sources), COLOURS["section"])

    def _suggestions(self, resolution: Resolution) -> Answer:
        shown = neutralise(clean(resolution.query, 100))
        lines = [f"**{m.entry.name}** ({m.kind})" for m in resolution.matches[:5]]
        card = Card(
            title="Did you mean…?",
            description=f"Several entries are close to “{shown}”:\n" + "\n".join(lines),
            footer="Pick one below, or try /search for a question.",
            colour=COLOURS["suggestions"],
        )
        links = tuple(Link(_label(m.entry.name), m.entry.id) for m in resolution.matches[:5])
        top = resolution.matches[0].score if resolution.matches else None
        return Answer(resolution.query, Outcome.SUGGESTIONS, (card,), suggestions=links, score=top)

    def _search_answer(self, resolution: Resolution) -> Answer:
        shown = neutralise(clean(resolution.query, 100))
        blocks = [f"{i}. {_hit_line(m)}" for i, m in enumerate(resolution.matches, 1)]
        # One page holds every hit (each line is capped), so results never need paging.
        pages = paginate(
            truncate(f"Search: {shown}", TITLE_MAX), blocks, (), None, COLOURS["search"],
            page_target=DESCRIPTION_MAX - 96,
        )  # fmt: skip
        # A fact hit links to its section, so every result leads somewhere to read on.
        named = {
            entry.id: entry
            for m in resolution.matches
            for entry in [self.library.sections[m.entry.section] if isinstance(m.entry, Fact)
                          else m.entry]
            if isinstance(entry, Section | Term)
        }  # fmt: skip
        links = tuple(Link(_label(e.name), e.id) for e in list(named.values())[:5])
        best = resolution.matches[0]
        return Answer(
            resolution.query,
            Outcome.SUGGESTIONS,
            pages,
            suggestions=links,
            entry_id=best.entry.id,
            score=best.score,
        )

    def _no_match(self, resolution: Resolution, what: str) -> Answer:
        shown = neutralise(clean(resolution.query, 100)) or "(empty)"
        hint = {
            "search": "Try fewer or different words, or `/define` for a single term.",
            "fact": "There are no facts for that section.",
        }.get(what, "Try /search with a few words from your question.")
        card = Card(
            title="No match",
            description=f"Nothing in the study guide matches “{shown}”.\n{hint}",
            colour=COLOURS["none"],
        )
        return Answer(resolution.query, Outcome.NONE, (card,))


def paginate(
    title: str,
    blocks: Sequence[str],
    fields: Iterable[Field],
    url: str | None,
    colour: int,
    page_target: int = PAGE_TARGET,
) -> tuple[Card, ...]:
    """Pack text blocks into as few cards as fit Discord's limits; fields go on the first page.

    A block longer than a page is split at sentence or word boundaries first.
    """
    title = truncate(title, TITLE_MAX)
    kept: list[Field] = []
    room = EMBED_MAX - len(title) - 20 - min(PAGE_TARGET, sum(map(len, blocks)))
    for f in list(fields)[:FIELDS_MAX]:
        field = Field(
            truncate(f.name, FIELD_NAME_MAX), truncate(f.value, FIELD_VALUE_MAX), f.inline
        )
        room -= len(field.name) + len(field.value)
        if room < 0:
            break  # a guard: real cards carry a handful of short fields
        kept.append(field)
    fields = tuple(kept)
    pieces = [piece for block in blocks for piece in _split(block, page_target)]
    pages: list[list[str]] = [[]]
    for piece in pieces:
        current = "\n".join(pages[-1])
        if pages[-1] and len(current) + 1 + len(piece) > page_target:
            pages.append([])
        pages[-1].append(piece)
    cards = []
    footer_room = 20  # "Page 10/12"
    for number, lines in enumerate(pages, 1):
        page_fields = fields if number == 1 else ()
        description = "\n".join(lines)
        budget = (
            EMBED_MAX
            - len(title)
            - footer_room
            - sum(len(f.name) + len(f.value) for f in page_fields)
        )
        description = truncate(description, max(1, min(DESCRIPTION_MAX, budget)))
        footer = f"Page {number}/{len(pages)}" if len(pages) > 1 else None
        cards.append(Card(title, description, page_fields, footer, url, colour))
    return tuple(cards)


def _split(block: str, size: int) -> list[str]:
    if len(block) <= size:
        return [block]
    parts, rest = [], block
    while len(rest) > size:
        cut = max(rest.rfind(". ", 0, size), rest.rfind(" ", 0, size))
        cut = cut + 1 if cut > size // 2 else size
        parts.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*parts, rest] if rest else parts


def _hit_line(match: Match) -> str:
    entry = match.entry
    if isinstance(entry, Fact):
        return f"{truncate(entry.text, 300)} *(fact)*"
    body = entry.definition if isinstance(entry, Term) else entry.summary
    return f"**{entry.name}** ({entry.kind}) — {truncate(body, 220)}"


def _source_line(source: Source) -> str:
    title = truncate(source.title, 200)
    return f"[{title}]({source.url})" if source.url else title


def _url(sources: Sequence[Source]) -> str | None:
    return next((s.url for s in sources if s.url), None)


def _label(text: str) -> str:
    return truncate(text, LABEL_MAX)


def _distinct_sources(library: Library) -> list[Source]:
    seen: dict[str, Source] = {}
    entries: list[Named | Fact] = [*library.named(), *library.facts.values()]
    for entry in entries:
        for source in getattr(entry, "sources", None) or (entry.source,):
            seen.setdefault(source.url or source.title, source)
    return list(seen.values())
