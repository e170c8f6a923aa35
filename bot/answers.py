"""Answers as plain data: what the bot says, before it becomes an embed or console text.

Every `Card` already fits Discord's embed limits, so neither renderer has to cut anything.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.content import Entry, Fact, Library, Named, Section, Source, Term
from bot.lookup import LookupEngine, Match, Outcome, Resolution
from bot.text import clean, neutralise, normalise, truncate

TERMS = frozenset({"term"})
SECTIONS = frozenset({"section"})
RESULTS_MAX = 8  # search results shown, one line each
TERMS_PER_PAGE = 15  # glossary lines per browse page; a select menu holds at most 25

# Discord's embed limits.
TITLE_MAX, DESCRIPTION_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 256, 4096, 256, 1024
FIELDS_MAX, EMBED_MAX, FOOTER_MAX, LABEL_MAX = 25, 6000, 2048, 80
ANSWER_CACHE = 2048  # answers kept per command
PAGE_TARGET = 1800  # a page a reader can take in at once; far below the hard limits

COLOURS = {"term": 0x3B82F6, "section": 0x10B981, "fact": 0xF59E0B, "search": 0x8B5CF6,
           "suggestions": 0x8B5CF6, "none": 0x6B7280, "about": 0x0EA5E9,
           "browse": 0x14B8A6}  # fmt: skip


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
    """What the bot says. `suggestions` are "did you mean" choices or search hits (`results`:
    the pages already list them, numbered, in the same order); `menus` hold, per page, the
    entries a browse list offers; `browse` names the list ("terms", "sections") an unanswered
    lookup offers; `listing` is how a page of a browse list is found again; `version` is the
    content version an entry's answer was made from (a report of a mistake names it)."""

    query: str
    outcome: Outcome
    pages: tuple[Card, ...]
    suggestions: tuple[Link, ...] = ()
    related: tuple[Link, ...] = ()
    entry_id: str | None = None
    score: float | None = None
    results: bool = False
    menus: tuple[tuple[Link, ...], ...] = ()
    browse: str | None = None
    listing: str | None = None
    version: str | None = None

    @property
    def choices(self) -> tuple[Link, ...]:
        """What typing a number opens, in the order the answer shows them (the console)."""
        return tuple(link for menu in self.menus for link in menu) or self.suggestions


@dataclass(frozen=True, slots=True)
class Voice:
    """How answers name the commands: `/search` on Discord, `search` in the console."""

    prefix: str
    pick: str  # how to open one of the choices shown

    def command(self, name: str) -> str:
        return f"{self.prefix}{name}"


DISCORD = Voice("/", "Pick one below")
CONSOLE = Voice("", "Type its number to open one")


class Librarian:
    """Turns questions into answers. Used by the Discord cogs and the console alike."""

    def __init__(
        self, library: Library, engine: LookupEngine | None = None, voice: Voice = DISCORD
    ) -> None:
        self.library = library
        self.engine = engine or LookupEngine(library)
        self.voice = voice
        # A library never changes (a reload builds a new Librarian), so an answer to the same
        # words is the same answer: study groups ask for the same few terms all day.
        for name in ("define", "section", "search", "open", "terms"):
            setattr(self, name, functools.lru_cache(maxsize=ANSWER_CACHE)(getattr(self, name)))

    # -- lookups: every one goes through the engine's one answer path --------------------
    def define(self, query: str) -> Answer:
        return self.reply(self.engine.answer(query, kinds=TERMS), "terms")

    def section(self, query: str) -> Answer:
        return self.reply(self.engine.answer(query, kinds=SECTIONS), "sections")

    def search(self, query: str) -> Answer:
        """Anything: a name answers with its entry, anything else with search results."""
        return self.reply(self.engine.answer(query, limit=RESULTS_MAX), None)

    def reply(self, resolution: Resolution, browse: str | None) -> Answer:
        """The answer to a resolution; `browse` is the list to offer when nothing answers."""
        best = resolution.best
        if best is not None:
            return self.entry_answer(best.entry, resolution.query, resolution.outcome, best.score)
        if resolution.outcome is Outcome.UNCOVERED:
            answer = self._results(resolution, uncovered=True)
        elif resolution.outcome is Outcome.SUGGESTIONS and resolution.searched:
            answer = self._results(resolution)
        elif resolution.outcome is Outcome.SUGGESTIONS:
            answer = self._suggestions(resolution)
        else:
            answer = self._no_match(resolution, browse or "search")
        if resolution.elsewhere is not None:
            answer = self._with_elsewhere(answer, resolution.elsewhere)
        return replace(answer, browse=browse) if browse else answer

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

    # -- browsing ------------------------------------------------------------------------
    def sections(self) -> Answer:
        """Every section with a one-line summary; each opens from the menu."""
        sections = list(self.library.sections.values())
        lines = [
            f"{i}. **{s.title}**: {truncate(_first_sentence(s.summary), 140)}"
            for i, s in enumerate(sections, 1)
        ]
        links = tuple(Link(_label(s.title), s.id) for s in sections)
        footer = f"{len(sections)} sections · {self.voice.pick}"
        pages = paginate(f"Sections ({len(sections)})", lines, (), None, COLOURS["browse"],
                         page_target=DESCRIPTION_MAX - 96)  # fmt: skip
        pages = tuple(replace(page, footer=footer) for page in pages[:1])
        return Answer("sections", Outcome.EXACT, pages, menus=(links[:25],), listing="sections")

    def terms(self, section: str | None = None, letter: str | None = None) -> Answer:
        """The glossary A-Z, optionally of one section and/or starting with one letter,
        `TERMS_PER_PAGE` to a page; each page's terms open from its menu."""
        letter = normalise(letter or "")[:1] or None
        terms = sorted(
            (t for t in self.library.terms.values() if section is None or t.section == section),
            key=lambda t: normalise(t.name),
        )
        if letter is not None:
            terms = [t for t in terms if normalise(t.name).startswith(letter)]
        scope = self.library.sections[section].title if section in self.library.sections else None
        title = (
            "Glossary"
            + (f": {scope}" if scope else "")
            + (f" ({letter.upper()})" if letter else "")
        )
        ref = f"{letter or ''}:{section or ''}"
        if not terms:
            card = Card(
                truncate(title, TITLE_MAX), "No glossary terms match.", colour=COLOURS["none"]
            )
            return Answer(ref, Outcome.NONE, (card,), listing=ref)
        chunks = [terms[i : i + TERMS_PER_PAGE] for i in range(0, len(terms), TERMS_PER_PAGE)]
        pages, menus = [], []
        for number, chunk in enumerate(chunks, 1):
            first = (number - 1) * TERMS_PER_PAGE
            lines = [
                f"{first + i}. **{t.name}**: {truncate(t.definition, 110)}"
                for i, t in enumerate(chunk, 1)
            ]
            footer = f"{len(terms)} terms · page {number}/{len(chunks)} · {self.voice.pick}"
            description = truncate("\n".join(lines), DESCRIPTION_MAX)
            pages.append(Card(truncate(title, TITLE_MAX), description, footer=footer,
                              colour=COLOURS["browse"]))  # fmt: skip
            menus.append(tuple(Link(_label(t.name), t.id) for t in chunk))
        return Answer(ref, Outcome.EXACT, tuple(pages), menus=tuple(menus), listing=ref)

    def fact_answer(self, fact: Fact, title: str = "Did you know?") -> Answer:
        section = self.library.sections[fact.section]
        card = Card(
            title=title,
            description=fact.text,
            fields=(
                Field("Section", section.title, inline=True),
                Field("Source", _source_line(fact.source), inline=True),
            ),
            footer=self.voice.command(f"section {section.title}"),
            url=fact.source.url,
            colour=COLOURS["fact"],
        )
        related = (Link(_label(section.title), section.id), *self.mentioned_terms(fact.text))
        return Answer(fact.id, Outcome.EXACT, (card,), related=related[:5], entry_id=fact.id,
                      version=self.library.version)  # fmt: skip

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
        return Answer(query, outcome, pages, related=links, entry_id=entry.id, score=score,
                      version=self.library.version)  # fmt: skip

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
            footer=f"{self.voice.pick}, or try {self.voice.command('search')} for a question.",
            colour=COLOURS["suggestions"],
        )
        links = tuple(Link(_label(m.entry.name), m.entry.id) for m in resolution.matches[:5])
        top = resolution.matches[0].score if resolution.matches else None
        return Answer(resolution.query, Outcome.SUGGESTIONS, (card,), suggestions=links, score=top)

    def _results(self, resolution: Resolution, *, uncovered: bool = False) -> Answer:
        """Search results, one numbered line and one link each (a fact opens as a fact)."""
        shown = neutralise(clean(resolution.query, 100))
        hits = resolution.matches[:RESULTS_MAX]
        blocks = [f"{i}. {_hit_line(m)}" for i, m in enumerate(hits, 1)]
        if uncovered:
            blocks.insert(0, f"The study guide does not seem to cover “{shown}”. The closest "
                             "entries share only common words with it:")  # fmt: skip
        title = f"Not in the guide: {shown}" if uncovered else f"Search: {shown}"
        # One page holds every hit (each line is capped), so results never need paging.
        pages = paginate(
            truncate(title, TITLE_MAX), blocks, (), None, COLOURS["search"],
            page_target=DESCRIPTION_MAX - 96,
        )  # fmt: skip
        links = tuple(Link(_label(_title(m.entry)), m.entry.id) for m in hits)
        best = hits[0]
        return Answer(
            resolution.query,
            resolution.outcome,
            pages,
            suggestions=links,
            entry_id=best.entry.id,
            score=best.score,
            results=True,
        )

    def _with_elsewhere(self, answer: Answer, other: Match) -> Answer:
        """Say that the query names an entry of another kind, and offer it first."""
        shown = neutralise(clean(answer.query, 100))
        kind = "a glossary term" if other.kind == "term" else "a section"
        command = self.voice.command("define" if other.kind == "term" else "section")
        note = f"“{shown}” is {kind}: **{other.entry.name}** ({command} {_title(other.entry)})."
        first = answer.pages[0]
        if answer.outcome is Outcome.NONE:
            title = "A glossary term, not a section" if other.kind == "term" else (
                "A section, not a glossary term")  # fmt: skip
            first = replace(first, title=title, description=note)
        else:
            first = replace(first, description=truncate(f"{note}\n\n{first.description}",
                                                         DESCRIPTION_MAX))  # fmt: skip
        link = Link(_label(other.entry.name), other.entry.id)
        rest = tuple(s for s in answer.suggestions if s.entry_id != link.entry_id)
        return replace(answer, pages=(first, *answer.pages[1:]), suggestions=(link, *rest),
                       results=False)  # fmt: skip

    def _no_match(self, resolution: Resolution, what: str) -> Answer:
        shown = neutralise(clean(resolution.query, 100)) or "(empty)"
        command = self.voice.command
        hint = {
            "search": f"Try fewer or different words, or {command('define')} for a single term.",
            "fact": "There are no facts for that section.",
            "terms": f"Try {command('search')} with a few words from your question, or browse "
                     f"the glossary with {command('terms')}.",
            "sections": f"Try {command('search')} with a few words from your question; "
                        f"{command('sections')} lists every section.",
        }.get(what, f"Try {command('search')} with a few words from your question.")  # fmt: skip
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


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text[: end + 1] if end > 0 else text


def _title(entry: Entry) -> str:
    return entry.name if isinstance(entry, Section | Term) else truncate(entry.text, LABEL_MAX)


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
