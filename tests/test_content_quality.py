"""Quality checks on the study content in ``content/*.yaml``.

These tests check editorial rules that the loader (``peacebot check``) does not:

(a) no two facts are near-duplicates of each other;
(b) no sentence of any text field of ours (definitions, summaries, key points, facts, notes,
    quiz questions, choices and explanations, prompts) copies a sentence of the machine-written
    source article (our content must be in our own words);
(c) there are enough facts, each with a source title, spread over all 15 sections.

Check (b) compares against a fingerprint of the article shipped in
``tests/data/article-fingerprint.json`` (hashed word pairs, never its sentences; see
``tests/fingerprint.py``), so it needs nothing outside the repository.
"""

import json
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz import fuzz, utils

from tests.fingerprint import (
    COPY_THRESHOLD,
    FINGERPRINT,
    content_sentences,
    copies,
    lazy_copy,
    load_raw_content,
    make_fingerprint,
)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

SECTION_IDS = (
    "introduction",
    "historical-development",
    "legal-political-foundations",
    "international-law",
    "mandates",
    "strategic-objectives",
    "stabilizing-regions",
    "protecting-civilians",
    "military-alliances",
    "challenges",
    "successes-case-studies",
    "lessons-learned",
    "future",
    "impact-alliances-stability",
    "critical-analysis",
)

MIN_FACTS = 80
MIN_FACTS_PER_SECTION = 3

# (a) Near-duplicate facts: rapidfuzz token_set_ratio with default_process, on a 0-100 scale.
# Measured on content/facts.yaml (158 facts, 12,403 pairs): the most similar pair of genuinely
# different facts scores 73.5 (resolution-1973-libya vs arab-league-libya-2011, two facts about
# the same March 2011 events that share the date words, "Libya", "no-fly zone" and "1973").
# A lightly reworded copy (articles dropped, two words swapped for synonyms, two neighbouring
# words swapped, a filler word added; see lightly_reword below) scores at least 89.4 against
# its original for every one of those facts. 82 sits between the two with a margin of about
# 8 points on each side: different facts on the same event pass, a light rewording fails.
DUPLICATE_THRESHOLD = 82

# ---------------------------------------------------------------- helpers


def facts_of(raw_content: dict) -> list[tuple[str, str]]:
    """``(id, text)`` of every fact."""
    return [(str(entry.get("id")), str(entry.get("text", ""))) for _, entry in raw_content["facts"]]


def near_duplicates(
    facts: list[tuple[str, str]], threshold: float = DUPLICATE_THRESHOLD
) -> list[tuple[float, str, str]]:
    """Pairs of facts whose token_set_ratio is ``threshold`` or more, most similar first."""
    hits = []
    for i, (id_a, text_a) in enumerate(facts):
        for id_b, text_b in facts[i + 1 :]:
            score = fuzz.token_set_ratio(text_a, text_b, processor=utils.default_process)
            if score >= threshold:
                hits.append((score, id_a, id_b))
    return sorted(hits, reverse=True)


def lightly_reword(text: str) -> str:
    """A copy of ``text`` that a careless writer might produce: same fact, lightly reworded."""
    synonyms = {
        "created": "established",
        "established": "set up",
        "adopted": "passed",
        "passed": "adopted",
        "began": "started",
        "founded": "formed",
        "authorized": "approved",
        "approved": "authorized",
        "ended": "finished",
        "first": "earliest",
        "about": "roughly",
        "more": "over",
        "troops": "soldiers",
        "signed": "concluded",
        "replaced": "succeeded",
        "under": "by way of",
    }
    words = [w for w in text.rstrip(".").split() if w.lower() not in {"the", "a", "an"}]
    swapped = 0
    for i, word in enumerate(words):
        if swapped < 2 and word.lower() in synonyms:
            words[i] = synonyms[word.lower()]
            swapped += 1
    mid = len(words) // 2
    words[mid - 1], words[mid] = words[mid], words[mid - 1]
    return "Indeed, " + " ".join(words) + "."


@pytest.fixture(scope="module")
def raw_content() -> dict:
    """The YAML files as plain data (not through bot.loader, so these checks stand alone)."""
    loaded = load_raw_content(CONTENT_DIR)
    assert loaded, f"no YAML content found in {CONTENT_DIR}"
    return loaded


# ---------------------------------------------------------------- (a) near-duplicate facts


def test_no_two_facts_are_near_duplicates(raw_content):
    hits = near_duplicates(facts_of(raw_content))
    report = "\n".join(f"  {score:.1f}  {a}  ~  {b}" for score, a, b in hits)
    assert not hits, (
        f"{len(hits)} pair(s) of facts at or above token_set_ratio {DUPLICATE_THRESHOLD}; "
        f"merge them or make them say different things:\n{report}"
    )


def test_near_duplicate_check_catches_a_reworded_copy(raw_content):
    facts = facts_of(raw_content)
    fact_id, text = next(((i, t) for i, t in facts if i == "unmil-resolution-1509"), facts[0])
    copy = lightly_reword(text)
    assert copy != text
    hits = near_duplicates([*facts, ("reworded-copy", copy)])
    assert (fact_id, "reworded-copy") in {(a, b) for _, a, b in hits}, (
        f"a lightly reworded copy of {fact_id} was not caught:\n  {text}\n  {copy}"
    )


def test_threshold_separates_every_fact_from_its_reworded_copy(raw_content):
    """The threshold must catch a light rewording of *any* fact, not just one of them."""
    missed = []
    for fact_id, text in facts_of(raw_content):
        score = fuzz.token_set_ratio(text, lightly_reword(text), processor=utils.default_process)
        if score < DUPLICATE_THRESHOLD:
            missed.append(f"  {score:.1f}  {fact_id}")
    assert not missed, "reworded copies that would slip through:\n" + "\n".join(missed)


def test_near_duplicate_check_catches_a_hand_reworded_pair():
    original = (
        "The Security Council created the UN Mission in Liberia with resolution 1509 on "
        "19 September 2003, a month after the Accra peace agreement."
    )
    reworded = (
        "A month after the Accra peace agreement, on 19 September 2003, the Security Council "
        "set up the UN Mission in Liberia with resolution 1509."
    )
    assert near_duplicates([("original", original), ("reworded", reworded)])


# ---------------------------------------------------------------- (b) copies of the article

# Our own words, standing in for an article in the tests of the check itself.
STAND_IN_SENTENCES = (
    "The Security Council set up the UN Mission in Liberia with resolution 1509 in September "
    "2003, a month after the Accra agreement ended the fighting.",
    "Its troops disarmed more than one hundred thousand former combatants before the mission "
    "closed in March 2018.",
    "Regional organisations may enforce peace only with the authorisation of the Security "
    "Council under Article 53 of the Charter.",
    "Several of them have acted first and asked the Council for its approval afterwards.",
)
STAND_IN_ARTICLE = "Heading\n\n" + " ".join(STAND_IN_SENTENCES)


@pytest.fixture(scope="module")
def fingerprint() -> dict:
    return json.loads(FINGERPRINT.read_text(encoding="utf-8"))


def test_no_content_sentence_copies_the_article(raw_content, fingerprint):
    ours = content_sentences(raw_content)
    assert len(fingerprint["sentences"]) >= 100, "the article fingerprint looks truncated"
    assert len(ours) >= 1000, "no definitions, summaries, facts, notes or quiz text found"
    found = copies(ours, fingerprint["sentences"])
    report = "\n".join(f"  {c.score:.2f}  {c.where}\n      {c.sentence}" for c in found)
    assert not found, (
        f"{len(found)} sentence(s) share {COPY_THRESHOLD:.0%}+ of their word pairs with an "
        f"article sentence (Dice); rewrite them in your own words:\n{report}"
    )


def test_every_text_field_is_checked():
    entry = {
        "id": "x",
        "name": "A name",
        "definition": "One sentence. Two sentences.",
        "note": "A note.",
        "sources": [{"title": "Article title", "url": "https://example.org"}],
    }
    quiz = {"id": "q", "question": "Q?", "choices": ["A", "B"], "explanation": "Because."}
    checked = content_sentences({"terms": [("t.yaml", entry)], "quiz": [("q.yaml", quiz)]})
    assert [sentence for _, sentence in checked] == [
        "One sentence.", "Two sentences.", "A note.", "Q?", "A", "B", "Because.",
    ]  # fmt: skip
    assert checked[2][0] == "t.yaml: terms x note"


def test_copy_check_catches_a_lightly_reworded_copy_of_every_sentence():
    article = make_fingerprint([STAND_IN_ARTICLE])
    assert len(article) == len(STAND_IN_SENTENCES)  # the heading is too short to count
    for sentence in STAND_IN_SENTENCES:
        copy = lazy_copy(sentence)  # one word dropped, one changed, other case and punctuation
        assert copies([("copy", copy)], article), f"not caught: {copy}"
    reordered = (
        "A month after the Accra agreement ended the fighting, in September 2003, the Security "
        "Council set up the UN Mission in Liberia with resolution 1509."
    )
    assert copies([("reordered", reordered)], article)


def test_copy_check_passes_own_words_and_short_quotations():
    article = make_fingerprint([STAND_IN_ARTICLE])
    own = [
        ("fact", "Resolution 1509 created UNMIL; it ran from 2003 until it closed in 2018."),
        ("note", 'The source says its troops "disarmed more than one hundred thousand former '
         'combatants", which overstates the count.'),
    ]  # fmt: skip
    assert not copies(own, article)
    long_quote = f'The source says "{STAND_IN_SENTENCES[0]}"'
    assert copies([("note", long_quote)], article), "a quoted whole sentence is still a copy"


def test_the_threshold_catches_a_lazy_copy_of_every_article_sentence(fingerprint):
    """Measured by `python -m tests.fingerprint` against the article itself."""
    calibration = fingerprint["calibration"]
    assert calibration["threshold"] == COPY_THRESHOLD, "remake the fingerprint"
    assert calibration["highest_content_score"] < COPY_THRESHOLD
    assert calibration["lowest_lazy_copy_score"] >= COPY_THRESHOLD


def test_the_fingerprint_holds_only_hashes(fingerprint):
    assert all(isinstance(h, int) and 0 <= h < 2**32 for s in fingerprint["sentences"] for h in s)


# ---------------------------------------------------------------- (c) count, sources, spread


def test_enough_facts(raw_content):
    assert len(raw_content.get("facts", [])) >= MIN_FACTS


def test_every_fact_names_a_source_title(raw_content):
    missing = [
        f"{file}: {fact.get('id')}"
        for file, fact in raw_content["facts"]
        if not isinstance(fact.get("source"), dict)
        or not str(fact["source"].get("title") or "").strip()
    ]
    assert not missing, "facts without a source title:\n  " + "\n  ".join(missing)


def test_facts_are_spread_over_all_sections(raw_content):
    counts = Counter(fact.get("section") for _, fact in raw_content["facts"])
    unknown = sorted(str(s) for s in counts if s not in SECTION_IDS)
    assert not unknown, f"facts with unknown section ids: {unknown}"
    thin = {s: counts.get(s, 0) for s in SECTION_IDS if counts.get(s, 0) < MIN_FACTS_PER_SECTION}
    assert not thin, f"sections with fewer than {MIN_FACTS_PER_SECTION} facts: {thin}"
