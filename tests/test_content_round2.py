"""Issue 14, second half: new topics, mission metadata and primary sources in the content."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest

from bot.content import Library
from bot.lookup import LookupEngine, Outcome

MIN_QUIZ_PER_SECTION = 6

# Each new topic by its full name and by its acronym or short name: (query, expected id).
NEW_TOPICS = [
    ("Sexual exploitation and abuse", "sexual-exploitation-and-abuse"),
    ("SEA", "sexual-exploitation-and-abuse"),
    ("ST/SGB/2003/13", "sgb-2003-13"),
    ("Zeid report", "zeid-report"),
    ("Conduct and Discipline Unit", "conduct-and-discipline-unit"),
    ("Deschamps report", "deschamps-panel"),
    ("Operation Unified Protector", "operation-unified-protector"),
    ("OUP", "operation-unified-protector"),
    ("Iraq war 2003", "iraq-war-2003"),
    ("Resolution 1441", "resolution-1441"),
    ("Chilcot report", "chilcot-inquiry"),
    ("Military Staff Committee", "military-staff-committee"),
    ("MSC", "military-staff-committee"),
    ("United Nations Peacekeeping Force in Cyprus", "unficyp"),
    ("UNFICYP", "unficyp"),
    ("United Nations Interim Force in Lebanon", "unifil"),
    ("UNIFIL", "unifil"),
    ("Resolution 1701", "resolution-1701"),
    ("United Nations Transition Assistance Group", "untag"),
    ("UNTAG", "untag"),
    ("United Nations Transitional Authority in Cambodia", "untac"),
    ("UNTAC", "untac"),
    ("MINUSCA", "minusca"),
    ("United Nations Mission in the Republic of South Sudan", "unmiss"),
    ("UNMISS", "unmiss"),
    ("PoC sites", "poc-sites"),
]

# Mission and operation terms that must carry dates for the timeline (old and new ones).
MISSION_IDS = {
    "untso", "unmogip", "unef", "onuc", "unficyp", "unifil", "untag", "untac", "unosom-i",
    "unitaf", "unosom-ii", "unprofor", "ifor", "sfor", "eufor-althea", "kfor", "unmik",
    "operation-allied-force", "unamsil", "operation-palliser", "isaf", "ecomil", "unmil",
    "amis", "amisom", "unamid", "monusco", "force-intervention-brigade", "minusma", "atmis",
    "aussom", "minusca", "unmiss", "operation-unified-protector", "inter-american-peace-force",
    "arab-deterrent-force", "gulf-war-coalition",
}  # fmt: skip

UN_RECORD_HOSTS = {"press.un.org", "undocs.org", "digitallibrary.un.org", "www.un.org"}
CHARTER_PAGE = "https://www.un.org/en/about-us/un-charter/"


@pytest.mark.parametrize(("query", "entry_id"), NEW_TOPICS)
def test_every_new_topic_resolves_by_name_and_acronym(engine: LookupEngine, query, entry_id):
    resolution = engine.resolve(query)
    assert resolution.outcome in (Outcome.EXACT, Outcome.ALIAS), (query, resolution.outcome)
    assert resolution.best.entry.id == entry_id


def test_every_section_has_enough_quiz_questions(library: Library):
    spread = Counter(question.section for question in library.quiz.values())
    thin = {s: spread[s] for s in library.sections if spread[s] < MIN_QUIZ_PER_SECTION}
    assert not thin, thin


def test_mission_terms_carry_dates_and_a_leader(library: Library):
    for mission_id in sorted(MISSION_IDS):
        term = library.terms[mission_id]
        assert term.started and term.led_by, mission_id
    listed = [t.id for t in library.missions()]
    assert set(listed) >= MISSION_IDS
    starts = [library.terms[i].start_period for i in listed]
    assert starts == sorted(starts, key=lambda p: (p[0], p[1] or 0))


def test_mandates_point_to_resolution_terms(library: Library):
    for term in library.missions():
        if term.mandate:
            assert term.mandate.startswith("resolution-"), (term.id, term.mandate)


def test_charter_articles_cite_the_uns_charter_pages(library: Library):
    charter_terms = [
        t for t in library.terms.values()
        if t.id.startswith(("article-", "chapter-")) and "UN Charter" in t.name
    ]  # fmt: skip
    assert len(charter_terms) >= 15
    for term in charter_terms:
        urls = [s.url or "" for s in term.sources]
        assert any(u.startswith(CHARTER_PAGE) for u in urls), term.id


def test_resolutions_cite_the_uns_record(library: Library):
    resolutions = [t for t in library.terms.values() if t.id.startswith("resolution-")]
    assert len(resolutions) >= 15
    for term in resolutions:
        hosts = {urlsplit(s.url).hostname for s in term.sources if s.url}
        assert hosts & UN_RECORD_HOSTS, term.id


def test_copy_marks_are_honest(library: Library):
    """A title may say "(copy)" only when the link is not the publisher's own page."""
    from bot.sources import source_links

    for link in source_links(library):
        url = link.source.url or ""
        if "(copy)" in link.source.title:
            assert not url.startswith(("https://www.un.org/", "https://undocs.org/")), link.entry.id
