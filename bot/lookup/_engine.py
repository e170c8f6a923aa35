"""The one answer path: what a user typed -> the entries they meant, and how sure we are."""

from __future__ import annotations

import gc
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.content import Entry, Library, Section, Term
from bot.lookup._analysis import looks_like_question, strip_question
from bot.lookup._fulltext import Found, FullTextIndex
from bot.lookup._names import SUGGEST, NameIndex
from bot.text import clean, normalise

QUERY_LIMIT = 300  # characters of a query that are looked at; the rest cannot change the answer
CONFIDENT = 86.0  # a fuzzy match at least this good answers directly...
MARGIN = 6.0  # ...when the next different entry scores at least this much lower
LONE = 75.0  # ...or when it is the only candidate near the top and at least this good
CLOSE = 15.0  # suggestions are the candidates within this many points of the best
NEAR_NAME = 90.0  # a question-like query is a name only when it is this close to one (ratio)
COMMON_SHARE = 0.03  # a word in this share of all documents says little about a topic
GENERIC_SHARE = 0.2  # ...and one in this share says nothing ("un", "mission")
FUSION_K = 10  # reciprocal rank fusion: 1 / (FUSION_K + rank)
CLEAR = 2.0  # a full-text hit this many times as good as the next one is a clear answer
SECTIONS = frozenset({"section"})


class Outcome(StrEnum):
    EXACT = "exact"
    ALIAS = "alias"
    FUZZY = "fuzzy"
    SUGGESTIONS = "suggestions"
    UNCOVERED = "uncovered"  # hits only on common words: the guide does not seem to cover it
    NONE = "none"


ANSWERED = frozenset({Outcome.EXACT, Outcome.ALIAS, Outcome.FUZZY})


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    score: float

    @property
    def kind(self) -> str:
        return self.entry.kind


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the engine made of a query.

    `matches` are ranked best first. `searched` says they come from the full text (a question,
    a year, a name nothing was close to) rather than from names, so they are results to read,
    not "did you mean" guesses. `elsewhere` is an entry of another kind than the ones asked
    for that the query names exactly (`/section roe`: ROE is a term).
    """

    query: str
    outcome: Outcome
    matches: tuple[Match, ...] = ()
    searched: bool = False
    elsewhere: Match | None = None

    @property
    def best(self) -> Match | None:
        """The one entry to answer with, when the engine is confident about it."""
        return self.matches[0] if self.outcome in ANSWERED and self.matches else None


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    value: str


class UnknownSection(LookupError):
    """A section argument that names no section clearly; `suggestions` are the closest."""

    def __init__(self, query: str, suggestions: Sequence[Section]) -> None:
        super().__init__(query)
        self.query = query
        self.suggestions = tuple(suggestions)


class LookupEngine:
    """Built once per library; every command, the console and the CLI ask it."""

    def __init__(self, library: Library) -> None:
        self.library = library
        # Building allocates millions of small objects and no cycles: the cyclic garbage
        # collector would only walk them again and again (a third of the build time at 100k).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self.names = NameIndex(library)
            self.text = FullTextIndex(library)
        finally:
            if enabled:
                gc.enable()

    # -- the answer path -----------------------------------------------------------------
    def answer(
        self, query: str, kinds: Collection[str] | None = None, limit: int = 5
    ) -> Resolution:
        """The one decision behind /define, /section, /search, the console and the CLI.

        A name (exact, alias, a confident fuzzy match) answers directly. A bare number lists
        the entries that carry it. A question, or a name nothing is close to, is answered by
        the full text; when those hits share only common words with the query, the outcome is
        UNCOVERED. A question is never taken for a mistyped name unless it nearly is one.
        """
        text = clean(query, QUERY_LIMIT)
        key = normalise(text)
        name = strip_question(key)
        exact = self._exact(text, name, kinds)
        if exact is not None:
            return exact
        elsewhere = self._elsewhere(name, kinds)
        if name.isdigit():
            return self._carrying(text, name, kinds, limit, elsewhere)
        named = self._fuzzy(text, name, kinds, limit)
        question = looks_like_question(key) or "?" in text
        near = named.best is not None and (
            not question or self.names.close_to(name, named.best.entry, NEAR_NAME)
        )
        if near and elsewhere is None:
            return named
        if elsewhere is not None:  # the query names an entry of another kind: say so
            outcome = Outcome.SUGGESTIONS if named.matches else Outcome.NONE
            return replace(named, outcome=outcome, elsewhere=elsewhere)
        found = self.text.search(text, limit, kinds)
        uncovered = bool(found.hits) and self._uncovered(found)
        if named.outcome is Outcome.SUGGESTIONS and not question and not uncovered:
            return self._blend(named, found, limit)
        if not found.hits:
            if named.matches and not question:
                return replace(named, outcome=Outcome.SUGGESTIONS)
            return Resolution(text, Outcome.NONE)
        matches = tuple(Match(hit.entry, hit.score) for hit in found.hits)
        outcome = Outcome.UNCOVERED if uncovered else Outcome.SUGGESTIONS
        return Resolution(text, outcome, matches, searched=True)

    def resolve(
        self, query: str, kinds: Collection[str] | None = None, limit: int = 5
    ) -> Resolution:
        """Names only: exact, then alias, then fuzzy; see `Outcome` for what the result says."""
        text = clean(query, QUERY_LIMIT)
        name = strip_question(normalise(text))
        return self._exact(text, name, kinds) or self._fuzzy(text, name, kinds, limit)

    def search(
        self, question: str, limit: int = 10, kinds: Collection[str] | None = None
    ) -> Resolution:
        """Full text only: BM25 over summaries, key points, definitions and facts."""
        text = clean(question, QUERY_LIMIT)
        found = self.text.search(text, limit, kinds)
        if not found.hits:
            return Resolution(text, Outcome.NONE)
        matches = tuple(Match(hit.entry, hit.score) for hit in found.hits)
        return Resolution(text, Outcome.SUGGESTIONS, matches, searched=True)

    def autocomplete(
        self, partial: str, kinds: Collection[str] | None = None, limit: int = 25
    ) -> list[Choice]:
        """Up to `limit` choices for a partly typed name: prefix matches first, then words that
        start with it, then fuzzy ones. Each choice's value is the entry id."""
        limit = max(0, min(limit, 25))
        if not limit:
            return []
        key = normalise(clean(partial, QUERY_LIMIT))
        return [Choice(name, value) for name, value in self.names.autocomplete(key, kinds, limit)]

    def find_section(self, text: str | None) -> Section | None:
        """The section `text` names (an autocomplete id, a name, an alias or a near miss);
        None for no text. Raises `UnknownSection` with the closest sections otherwise."""
        if text is None or not text.strip():
            return None
        query = clean(text, QUERY_LIMIT)
        section = self.library.sections.get(query)
        if section is not None:
            return section
        resolution = self.resolve(query, kinds=SECTIONS)
        if resolution.best is not None and isinstance(resolution.best.entry, Section):
            return resolution.best.entry
        close = [m.entry for m in resolution.matches[:3] if isinstance(m.entry, Section)]
        raise UnknownSection(query, close)

    # -- the parts -----------------------------------------------------------------------
    def _exact(self, text: str, name: str, kinds: Collection[str] | None) -> Resolution | None:
        """NONE for an empty name, EXACT or ALIAS for a name as written, else None."""
        if not name:
            return Resolution(text, Outcome.NONE)
        exact = self.names.exact(name, kinds)
        if exact is None:
            return None
        entry, is_name = exact
        outcome = Outcome.EXACT if is_name else Outcome.ALIAS
        return Resolution(text, outcome, (Match(entry, 100.0),))

    def _fuzzy(self, text: str, name: str, kinds: Collection[str] | None, limit: int) -> Resolution:
        # The words of one name in another order name it as surely as its spelling would,
        # and cost a few comparisons instead of a scored list of candidates.
        reordered = self.names.reordered(name, kinds)
        if reordered is not None:
            entry, score = reordered
            return Resolution(text, Outcome.FUZZY, (Match(entry, round(score, 1)),))
        scored = self.names.fuzzy(name, kinds, limit)  # best first
        matches = tuple(Match(entry, round(score, 1)) for entry, score in scored)
        if not matches or matches[0].score < SUGGEST:
            return Resolution(text, Outcome.NONE)
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        close = tuple(m for m in matches if m.score >= max(SUGGEST, matches[0].score - CLOSE))
        if matches[0].score >= CONFIDENT and matches[0].score - runner_up >= MARGIN:
            return Resolution(text, Outcome.FUZZY, matches)
        # A lone candidate answers only when it is a plausible typo: one edit per ten letters
        # ("unmill"), not a different word ("sections" is not "Sanctions").
        alone = (
            len(close) == 1
            and matches[0].score >= LONE
            and self.names.edits(name, matches[0].entry) <= 1 + len(name) // 10
        )
        if alone:
            return Resolution(text, Outcome.FUZZY, matches)
        return Resolution(text, Outcome.SUGGESTIONS, close)

    def _blend(self, named: Resolution, found: Found, limit: int) -> Resolution:
        """Neither ranking is clear: reciprocal rank fusion of the name guesses and the full
        text ("UN budget": the entry on the UN beside the ones about paying for missions).
        On equal standing a name comes first; a clear full-text winner comes first of all
        ("origins of peace enforcement": the section whose alias is "origins")."""
        if not found.hits:
            return named
        fused: dict[str, float] = {}
        entries: dict[str, Entry] = {}
        # Only entries with a name join the guesses: "did you mean" offers names.
        texts = [h.entry for h in found.hits if isinstance(h.entry, Term | Section)]
        for ranking in ([m.entry for m in named.matches], texts):
            for rank, entry in enumerate(ranking):
                fused[entry.id] = fused.get(entry.id, 0.0) + 1 / (FUSION_K + rank)
                entries.setdefault(entry.id, entry)
        order = sorted(fused, key=lambda eid: -fused[eid])
        hits = found.hits
        clear = len(hits) == 1 or hits[0].score >= CLEAR * hits[1].score
        if clear and hits[0].entry.id in fused:
            order.remove(hits[0].entry.id)  # the full text is clear where the names are not
            order.insert(0, hits[0].entry.id)
        order = order[:limit]
        scores = {m.entry.id: m.score for m in named.matches}
        scores.update((h.entry.id, h.score) for h in found.hits if h.entry.id not in scores)
        matches = tuple(Match(entries[eid], scores[eid]) for eid in order)
        return replace(named, matches=matches)

    def _elsewhere(self, name: str, kinds: Collection[str] | None) -> Match | None:
        """An entry of a kind not asked for that `name` names exactly (or nearly)."""
        if kinds is None:
            return None
        exact = self.names.exact(name, None)
        if exact is not None:
            return Match(exact[0], 100.0)
        return None

    def _carrying(
        self,
        text: str,
        number: str,
        kinds: Collection[str] | None,
        limit: int,
        elsewhere: Match | None,
    ) -> Resolution:
        """A bare number or year: the entries that carry it, as suggestions, never a guess."""
        found = self.text.search(number, limit, kinds, exact=True)
        if not found.hits:
            return Resolution(text, Outcome.NONE, elsewhere=elsewhere)
        matches = tuple(Match(hit.entry, hit.score) for hit in found.hits)
        return Resolution(text, Outcome.SUGGESTIONS, matches, searched=True, elsewhere=elsewhere)

    def _uncovered(self, found: Found) -> bool:
        """True when the query has words the guide never uses and the best hits miss what the
        rest of it is about: they share only common words with it ("Wagner group": only
        "group"), or no hit has all its topic words together ("liberia ebola outbreak": Liberia
        here, an outbreak in Haiti there)."""
        if not found.unknown or 2 * len(found.unknown) < len(found.known):
            return False
        known = [word for word in found.known if word not in found.corrected]
        telling = [word for word in known if found.known[word] < COMMON_SHARE]
        topical = [word for word in known if found.known[word] < GENERIC_SHARE]
        top = found.hits[:3]
        if not any(self.text.contains(hit, word) for hit in top for word in telling):
            return True
        return not any(all(self.text.contains(hit, word) for word in topical) for hit in top)
