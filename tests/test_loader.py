"""The loader: every problem reported as file:line, text kept as text, nothing half-loaded."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.loader import ContentError, load_library
from tests.conftest import TEST_LIBRARY


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def assert_reported(problems: list[str], expected: list[str]) -> None:
    """Each expected `file:line: message` prefix starts one of the reported problems."""
    for line in expected:
        assert any(p.startswith(line) for p in problems), (line, problems)


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_library(directory)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the test library in ./content (problems name files relative to the cwd)."""
    directory = tmp_path / "content"
    shutil.copytree(TEST_LIBRARY, directory)
    monkeypatch.chdir(tmp_path)
    return directory


def test_small_library_loads_with_every_kind(small_library):
    assert small_library.counts() == {
        "sections": 2, "terms": 7, "facts": 3, "quiz": 2, "prompts": 1,
    }  # fmt: skip
    term = small_library.terms["chapter-vii"]
    assert term.aliases == ("Chapter VII", "Ch. VII")
    assert term.sources[0].url.startswith("https://")
    assert small_library.get("q-article-41").answer_index == 0


def test_yes_no_on_off_stay_text(small_library):
    question = small_library.quiz["q-yes"]
    assert question.choices == ("Yes", "No")
    assert question.answer == "Yes"
    assert small_library.terms["no-fly-zone"].name == "No-fly zone"


def test_numbers_and_booleans_stay_text(content):
    write(
        content,
        "extra.yaml",
        """
        terms:
          - id: year-term
            name: 1945
            aliases: [on, off, 2(4)]
            definition: The year the UN Charter entered into force.
            section: international-law
            sources: [{title: Charter}]
        """,
    )
    term = load_library(content).terms["year-term"]
    assert term.name == "1945"
    assert term.aliases == ("on", "off", "2(4)")


def test_folded_text_is_joined(small_library):
    assert "\n" not in small_library.sections["international-law"].summary


def test_every_problem_is_reported_with_file_and_line(content):
    write(
        content,
        "broken.yaml",
        """
        terms:
          - id: Bad_Id
            name: Something new
            definition: fine
            section: nowhere
            sources: [{title: t, bogus: x}]
            related_terms: [missing-term]
            extra: 1
          - id: roe
            name: Second ROE
            definition: [not, text]
            section: international-law
            sources: []
        quiz:
          - id: q-broken
            question: Which?
            choices: [A, a, B]
            answer: C
            explanation: none
            section: international-law
            source: {title: t}
        """,
    )
    problems = problems_of(content)
    expected = [
        "content/broken.yaml:5: unknown section 'nowhere'",
        "content/broken.yaml:6: terms[Bad_Id].sources: unknown key 'bogus' (title, url)",
        "content/broken.yaml:7: unknown term 'missing-term'",
        "content/broken.yaml:8: terms[Bad_Id]: unknown key 'extra'",
        "content/broken.yaml:11: terms[roe].definition: expected text",
        "content/broken.yaml:13: terms[roe].sources: needs 1-10 items, has 0",
        "content/broken.yaml:15: q-broken: choices must be distinct",
        "content/broken.yaml:15: q-broken: answer 'C' is not one of the choices",
    ]
    assert_reported(problems, expected)


def test_yaml_syntax_error_names_file_and_line(content):
    write(
        content,
        "syntax.yaml",
        """
        facts:
          - id: a-fact
            text: "never closed
        """,
    )
    (problem,) = problems_of(content)
    assert problem.startswith("content/syntax.yaml:")
    assert "YAML syntax error" in problem
    assert int(problem.split(":")[1]) >= 3


def test_duplicate_ids_and_keys(content):
    write(
        content,
        "zz-dupes.yaml",
        """
        facts:
          - id: kfor-1999
            text: A second fact with an id that is taken.
            section: international-law
            source: {title: t}
          - id: fresh-fact
            text: One.
            text: Two.
            section: international-law
            source: {title: t}
        """,
    )
    problems = problems_of(content)
    assert any("zz-dupes.yaml:2: duplicate id 'kfor-1999' (first at content/library.yaml:" in p
               for p in problems)  # fmt: skip
    assert "content/zz-dupes.yaml:8: duplicate key 'text'" in problems


def test_alias_colliding_with_another_entry_is_rejected(content):
    write(
        content,
        "zz-collide.yaml",
        """
        terms:
          - id: rules-of-war
            name: Rules of war
            aliases: [R.O.E.]
            definition: Something else.
            section: international-law
            sources: [{title: t}]
        """,
    )
    (problem,) = problems_of(content)
    assert problem.startswith("content/zz-collide.yaml:2: rules-of-war: name or alias 'R.O.E.'")
    assert "collides with 'roe'" in problem


def test_chapter_numbers_in_either_form_collide(content):
    write(
        content,
        "zz-chapter.yaml",
        """
        terms:
          - id: chapter-seven
            name: Chapter 7
            definition: A duplicate of Chapter VII under another id.
            section: international-law
            sources: [{title: t}]
        """,
    )
    problems = problems_of(content)
    assert (
        "content/zz-chapter.yaml:2: chapter-seven: name or alias 'Chapter 7' collides with "
        "'chapter-vii' (content/library.yaml:32)" in problems
    )


def test_text_longer_than_discord_shows_is_rejected(content):
    write(
        content,
        "long.yaml",
        f"""
        facts:
          - id: long-fact
            text: {"word " * 120}
            section: international-law
            source: {{title: t}}
        """,
    )
    (problem,) = problems_of(content)
    assert problem.startswith("content/long.yaml:3: facts[long-fact].text: 599 characters")


def test_missing_and_wrong_shapes(content):
    write(
        content,
        "shapes.yaml",
        """
        sections:
          - just a string
        prompts: not a list
        glossary: []
        facts:
          - id: f
            section: international-law
        """,
    )
    problems = problems_of(content)
    assert "content/shapes.yaml:2: sections: each entry must be a mapping of fields" in problems
    assert "content/shapes.yaml:3: prompts: expected a list of entries" in problems
    assert "content/shapes.yaml:4: unknown top-level key 'glossary'" in problems
    assert "content/shapes.yaml:6: facts[f]: missing required key 'text'" in problems
    assert "content/shapes.yaml:6: facts[f]: missing required key 'source'" in problems


def test_a_broken_directory_never_half_loads(content):
    write(content, "zz.yaml", "facts: [{id: x}]\n")
    with pytest.raises(ContentError):
        load_library(content)


def test_missing_or_empty_directory(tmp_path):
    assert "content directory not found" in problems_of(tmp_path / "nope")[0]
    assert "no *.yaml files" in problems_of(tmp_path)[0]


def test_non_utf8_file(content):
    (content / "latin1.yaml").write_bytes("facts: [caf\xe9]".encode("latin-1"))
    (problem,) = problems_of(content)
    assert problem.startswith("content/latin1.yaml:1: not UTF-8")


def test_mission_metadata_is_read_and_listed_in_date_order(content):
    write(
        content,
        "missions.yaml",
        """
        terms:
          - id: mission-late
            name: Late mission
            definition: A mission that started later.
            section: international-law
            sources: [{title: t}]
            started: 2003-10
            ended: 2018-03
            led_by: UN
            mandate: chapter-vii
          - id: mission-early
            name: Early mission
            definition: A mission that is still active.
            section: international-law
            sources: [{title: t}]
            started: 1999
            led_by: Arab League
        """,
    )
    library = load_library(content)
    late = library.terms["mission-late"]
    assert (late.started, late.ended, late.led_by, late.mandate) == (
        "2003-10", "2018-03", "UN", "chapter-vii",
    )  # fmt: skip
    assert late.start_period == (2003, 10) and late.end_period == (2018, 3)
    early = library.terms["mission-early"]
    assert early.start_period == (1999, None) and early.end_period is None
    assert [t.id for t in library.missions()] == ["mission-early", "mission-late"]
    assert library.terms["roe"].started is None  # the fields are optional


def test_bad_mission_metadata_is_reported_with_file_and_line(content):
    write(
        content,
        "missions.yaml",
        """
        terms:
          - id: bad-dates
            name: Bad dates
            definition: Dates that cannot be right.
            section: international-law
            sources: [{title: t}]
            started: 2003-13
            ended: 1999-1
            led_by: Coalition
            mandate: no-such-resolution
          - id: backwards
            name: Backwards
            definition: Ends before it starts.
            section: international-law
            sources: [{title: t}]
            started: 2003-10
            ended: 2003-09
            mandate: backwards
          - id: out-of-range
            name: Out of range
            definition: A year before the UN and an end without a start.
            section: international-law
            sources: [{title: t}]
            ended: 1850
        """,
    )
    problems = problems_of(content)
    expected = [
        "content/missions.yaml:7: terms[bad-dates].started: '2003-13' is not a year or year-month",
        "content/missions.yaml:8: terms[bad-dates].ended: '1999-1' is not a year or year-month",
        "content/missions.yaml:9: terms[bad-dates].led_by: 'Coalition' is not one of: UN, NATO,",
        "content/missions.yaml:17: terms[backwards].ended: 2003-09 is before started 2003-10",
        "content/missions.yaml:18: terms[backwards].mandate: names the term itself",
        "content/missions.yaml:24: terms[out-of-range].ended: year 1850 is outside 1945-2100",
        "content/missions.yaml:24: terms[out-of-range].ended: needs 'started' too",
    ]
    assert_reported(problems, expected)


def test_mandate_must_name_an_existing_term(content):
    write(
        content,
        "missions.yaml",
        """
        terms:
          - id: orphan
            name: Orphan mission
            definition: Rests on a resolution nobody wrote.
            section: international-law
            sources: [{title: t}]
            started: 2001
            mandate: resolution-9999
        """,
    )
    assert problems_of(content) == ["content/missions.yaml:8: unknown term 'resolution-9999'"]


def test_an_end_in_the_start_year_without_a_month_is_fine(content):
    write(
        content,
        "missions.yaml",
        """
        terms:
          - id: short-mission
            name: Short mission
            definition: Started and ended in the same year.
            section: international-law
            sources: [{title: t}]
            started: 2003-10
            ended: 2003
        """,
    )
    assert load_library(content).terms["short-mission"].end_period == (2003, None)


def test_a_hint_is_read_and_may_not_give_the_answer_away(content):
    write(
        content,
        "hints.yaml",
        """
        quiz:
          - id: q-hinted
            question: Which article comes right before Article 42?
            choices: [Article 41, Article 43]
            answer: Article 41
            explanation: The articles run in order.
            section: international-law
            source: {title: Charter of the United Nations}
            hint: Count down by one.
          - id: q-given-away
            question: Which article allows sanctions?
            choices: [Article 41, Article 42]
            answer: Article 41
            explanation: Article 41 lists sanctions.
            section: international-law
            source: {title: Charter of the United Nations}
            hint: It is article 41, of course.
        """,
    )
    assert_reported(problems_of(content), ["content/hints.yaml:10: q-given-away: the hint gives"])
    (content / "hints.yaml").write_text(
        (content / "hints.yaml").read_text().replace("It is article 41, of course.", "Sanctions")
    )
    library = load_library(content)
    assert library.quiz["q-hinted"].hint == "Count down by one."
    assert library.quiz["q-article-41"].hint is None  # optional
