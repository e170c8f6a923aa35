"""The case studies added in content round 2 (issue 14) can be found and are woven in.

A student reaches a topic by typing its name or its acronym, so every named entry must resolve
to itself through the one lookup path, and each new topic must come with facts and quiz
questions and be reachable from its section and from related terms.
"""

from __future__ import annotations

import re

import pytest

from bot.content import Library
from bot.lookup import LookupEngine, Outcome
from tests.fingerprint import load_raw_content

CASES_GLOSSARY = "glossary-cases.yaml"

# (what a student types, the term it must open, a word that facts and quiz questions on the
# topic use): the new topics of issue 14, first half.
NEW_TOPICS = [
    ("UNAMIR", "unamir", r"UNAMIR"),
    ("Rwandan genocide", "rwandan-genocide-1994", r"Rwanda"),
    ("Carlsson report", "carlsson-report", r"Carlsson"),
    ("Srebrenica report", "srebrenica-report-1999", r"Srebrenica"),
    ("resolution 837", "resolution-837", r"\b837\b"),
    ("Battle of Mogadishu", "battle-of-mogadishu-1993", r"Mogadishu"),
    ("PDD-25", "pdd-25", r"PDD-25|Presidential Decision Directive 25"),
    ("Deliberate Force", "operation-deliberate-force", r"Deliberate Force"),
    ("Operation Artemis", "operation-artemis", r"Artemis"),
    ("INTERFET", "interfet", r"INTERFET"),
    ("resolution 1264", "resolution-1264", r"\b1264\b"),
    ("UNTAET", "untaet", r"UNTAET"),
    ("UNOMIL", "unomil", r"UNOMIL"),
    ("ECOWAS Mechanism", "ecowas-mechanism-protocol-1999", r"Mechanism|Lomé on 10 December 1999"),
    ("ESF", "ecowas-standby-force", r"standby"),
    ("ECOMIB", "ecomib", r"ECOMIB|Guinea-Bissau"),
    ("ECOMIG", "ecomig", r"Gambia"),
    ("MINUSTAH", "minustah", r"MINUSTAH"),
    ("Haiti cholera", "haiti-cholera-outbreak", r"cholera"),
    ("MSS", "mss-haiti", r"Multinational Security Support"),
]


def test_every_name_and_alias_resolves_to_its_own_entry(library: Library, engine: LookupEngine):
    wrong = []
    for entry in library.named():
        for label in (entry.name, *entry.aliases):
            resolution = engine.resolve(label)
            best = resolution.best
            if best is None or best.entry.id != entry.id:
                found = best.entry.id if best else resolution.outcome
                wrong.append(f"{entry.id}: {label!r} -> {found}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("query", "term_id", "marker"), NEW_TOPICS)
def test_new_topic_resolves_and_has_facts_and_questions(
    library: Library, engine: LookupEngine, query, term_id, marker
):
    resolution = engine.resolve(query)
    assert resolution.outcome in (Outcome.EXACT, Outcome.ALIAS), resolution
    assert resolution.best.entry.id == term_id
    pattern = re.compile(marker)
    assert any(pattern.search(f.text) for f in library.facts.values()), f"no fact on {query}"
    assert any(pattern.search(" ".join((q.question, *q.choices))) for q in library.quiz.values()), (
        f"no quiz question on {query}"
    )


def test_every_acronym_alias_of_a_new_term_resolves(library: Library, engine: LookupEngine):
    new_terms = [t for t in _new_term_ids() if t in library.terms]
    assert len(new_terms) >= 30
    acronyms = 0
    for term_id in new_terms:
        for alias in library.terms[term_id].aliases:
            if re.fullmatch(r"[A-Z][A-Z0-9-]{1,9}", alias):
                acronyms += 1
                resolution = engine.resolve(alias)
                assert resolution.outcome is Outcome.ALIAS, (term_id, alias, resolution.outcome)
                assert resolution.best.entry.id == term_id, (term_id, alias)
    assert acronyms, "no acronym aliases found among the new terms"


def test_new_terms_are_linked_from_their_section_and_from_other_terms(library: Library):
    linked_from = {}
    for term in library.terms.values():
        for other in term.related_terms:
            linked_from.setdefault(other, set()).add(term.id)
    problems = []
    new_terms = _new_term_ids()
    assert len(new_terms) >= 30, f"expected the round-2 terms in content/{CASES_GLOSSARY}"
    for term_id in new_terms:
        term = library.terms[term_id]
        if term_id not in library.sections[term.section].related_terms:
            problems.append(f"{term_id} is not listed by its section {term.section}")
        if not linked_from.get(term_id, set()) - {term_id}:
            problems.append(f"no other term links to {term_id}")
    assert not problems, "\n".join(problems)


def _new_term_ids() -> list[str]:
    raw = load_raw_content()
    return [str(entry["id"]) for file, entry in raw["terms"] if file == CASES_GLOSSARY]
