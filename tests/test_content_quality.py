"""Quality checks on the study content in ``content/*.yaml``.

These tests check editorial rules that the loader (``peacebot check``) does not:

(a) no two facts are near-duplicates of each other;
(b) no glossary definition, section summary, section key point or fact copies a sentence of the
    machine-written source article (our content must be in our own words);
(c) there are enough facts, each with a source title, spread over all 15 sections.

Check (b) needs the source article. It is not part of this repository (we do not copy it in):
it lives in ``shared/seed/`` next to the clone, both on the writers' machines and in CI. If that
folder is missing the test fails with a clear message instead of silently skipping.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process, utils

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
# The repo is checked out as a folder next to ``shared/``: <parent>/<clone>/tests/this_file.
SEED_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"

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

# (b) Copied article sentences: fuzz.ratio on normalised sentences. Only article sentences of
# at least 8 words are compared, so headings and short stock phrases ("Lessons Learned and Best
# Practices") cannot trigger it. Above 85 a sentence is the article's sentence with at most a
# few words changed. When this threshold was chosen (586 content sentences against 132 article
# sentences) the highest score of any fact was 58 and of any content sentence 65.
COPY_THRESHOLD = 85
MIN_ARTICLE_SENTENCE_WORDS = 8

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


# ---------------------------------------------------------------- helpers


def load_raw_content(content_dir: Path = CONTENT_DIR) -> dict[str, list[tuple[str, dict]]]:
    """Every entry of every top-level list in every ``*.yaml`` below ``content_dir``.

    Returns ``{"facts": [(file name, entry), ...], "terms": [...], ...}``.
    """
    loaded: dict[str, list[tuple[str, dict]]] = {}
    for path in sorted(content_dir.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        assert isinstance(data, dict), f"{path.name}: top level must be a mapping"
        for kind, entries in data.items():
            for entry in entries or []:
                loaded.setdefault(kind, []).append((path.name, entry))
    return loaded


def normalise(text: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed (rapidfuzz's default_process)."""
    return " ".join(utils.default_process(text).split())


def split_sentences(text: str) -> list[str]:
    """Split at line breaks and at sentence ends; drop bullet and list markers."""
    sentences = []
    for line in text.splitlines():
        line = LIST_MARKER.sub("", line).strip()
        sentences.extend(part.strip() for part in SENTENCE_END.split(line) if part.strip())
    return sentences


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


def article_sentences(seed_dir: Path = SEED_DIR) -> list[tuple[str, str]]:
    """``(raw, normalised)`` article sentences of 8+ words from every ``*.txt`` in ``seed_dir``.

    Fails (does not skip) when the article cannot be found: without it check (b) would pass
    without checking anything.
    """
    if not seed_dir.is_dir():
        pytest.fail(
            f"source article folder not found: {seed_dir}. The copy check needs the seed "
            "article in shared/seed/ next to the repository checkout (../shared/seed from the "
            "repo root); it is deliberately not committed to the repo."
        )
    files = sorted(seed_dir.glob("*.txt"))
    if not files:
        pytest.fail(f"no *.txt source article in {seed_dir}; the copy check has nothing to compare")
    sentences = []
    for path in files:
        for raw in split_sentences(path.read_text(encoding="utf-8")):
            norm = normalise(raw)
            if len(norm.split()) >= MIN_ARTICLE_SENTENCE_WORDS:
                sentences.append((raw, norm))
    return sentences


def content_sentences(raw_content: dict) -> list[tuple[str, str]]:
    """``(where, sentence)`` for every sentence of our own prose that must not copy the article:
    glossary definitions, section summaries and key points, and facts."""
    items: list[tuple[str, str]] = []
    for file, term in raw_content.get("terms", []):
        items.append((f"{file}: term {term.get('id')} definition", term.get("definition") or ""))
    for file, section in raw_content.get("sections", []):
        items.append((f"{file}: section {section.get('id')} summary", section.get("summary") or ""))
        for n, point in enumerate(section.get("key_points") or [], start=1):
            items.append((f"{file}: section {section.get('id')} key point {n}", point or ""))
    for file, fact in raw_content.get("facts", []):
        items.append((f"{file}: fact {fact.get('id')}", fact.get("text") or ""))
    return [(where, s) for where, text in items for s in split_sentences(str(text))]


def copied_sentences(
    sentences: list[tuple[str, str]],
    article: list[tuple[str, str]],
    threshold: float = COPY_THRESHOLD,
) -> list[tuple[float, str, str, str]]:
    """``(score, where, our sentence, article sentence)`` for each of our sentences whose
    fuzz.ratio to some article sentence is above ``threshold``."""
    choices = [norm for _, norm in article]
    hits = []
    for where, sentence in sentences:
        best = process.extractOne(normalise(sentence), choices, scorer=fuzz.ratio)
        if best is not None and best[1] > threshold:
            hits.append((best[1], where, sentence, article[best[2]][0]))
    return sorted(hits, reverse=True)


@pytest.fixture(scope="module")
def raw_content() -> dict:
    """The YAML files as plain data (not through bot.loader, so these checks stand alone)."""
    loaded = load_raw_content()
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


def test_no_content_sentence_copies_the_article(raw_content):
    article = article_sentences()
    ours = content_sentences(raw_content)
    assert len(article) >= 20, f"only {len(article)} article sentences found in {SEED_DIR}"
    assert ours, "no definitions, summaries, key points or facts found to check"
    hits = copied_sentences(ours, article)
    report = "\n".join(
        f"  {score:.0f}  {where}\n      ours:    {mine}\n      article: {theirs}"
        for score, where, mine, theirs in hits
    )
    assert not hits, (
        f"{len(hits)} sentence(s) with fuzz.ratio above {COPY_THRESHOLD} to an article sentence; "
        f"rewrite them in your own words:\n{report}"
    )


def test_copy_check_catches_a_copied_sentence():
    article = article_sentences()
    raw, _ = max(article, key=lambda pair: len(pair[1]))
    words = raw.split()
    # a lazy copy: one word dropped, one word changed, different case and punctuation
    words = words[1:]
    words[len(words) // 2] = "really"
    copy = " ".join(words).upper().rstrip(".") + "!"
    hits = copied_sentences([("fake fact", copy)], article)
    assert hits, f"a near-verbatim copy of an article sentence was not caught: {copy}"
    assert hits[0][3] == raw


def test_copy_check_passes_own_words():
    article = article_sentences()
    own = [
        (
            "own words",
            "UNMIL was set up by resolution 1509 on 19 September 2003, after the Accra "
            "Comprehensive Peace Agreement, and closed on 30 March 2018.",
        )
    ]
    assert not copied_sentences(own, article)


def test_missing_seed_folder_fails_instead_of_skipping(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="source article folder not found"):
        article_sentences(tmp_path / "no-such-folder")
    with pytest.raises(pytest.fail.Exception, match=r"no \*\.txt source article"):
        article_sentences(tmp_path)


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
