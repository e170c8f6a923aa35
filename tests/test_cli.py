"""The `peacebot` command line, run as a real process."""

from __future__ import annotations

import json
import random
import re
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli._console import Console
from tests.conftest import TEST_LIBRARY
from tests.processes import clean_env, run_peacebot


@pytest.fixture
def peacebot(tmp_path: Path):
    """`peacebot(*args, stdin=..., env=...)`, run in an empty folder of its own."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def run(*args: object, stdin: str = "", env: dict[str, str] | None = None):
        return run_peacebot(*args, cwd=cwd, stdin=stdin, env=env)

    return run


def test_help_for_every_command(peacebot):
    top = peacebot("--help")
    assert top.returncode == 0
    for command in ("run", "console", "check", "lookup", "schema", "stats"):
        assert command in top.stdout
        assert peacebot(command, "--help").returncode == 0


def test_check_bundled_content_prints_counts(peacebot):
    result = peacebot("check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 15 sections,")


def test_check_reports_every_problem_and_exits_1(peacebot, tmp_path):
    (tmp_path / "a.yaml").write_text("terms:\n  - id: x\n    name: [1]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("facts: [\n", encoding="utf-8")
    result = peacebot("check", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    # The folder is not below the working directory: its files are named in full.
    assert any(line.startswith(f"{tmp_path}/a.yaml:3: terms[x].name") for line in lines)
    assert any(line.startswith(f"{tmp_path}/b.yaml:") for line in lines)
    assert lines[-1].endswith(" problems found")
    assert "Traceback" not in result.stderr


def test_lookup_text_and_json(peacebot):
    text = peacebot("lookup", "--content", str(TEST_LIBRARY), "rules", "of", "engagment")
    assert text.returncode == 0
    assert text.stdout.splitlines()[1].split()[3] == "roe"
    data = json.loads(peacebot("lookup", "--json", "--limit", "2", "ROE").stdout)
    assert data["result"] == "alias"
    assert data["matches"][0] == {
        "id": "roe", "kind": "term", "title": "Rules of engagement", "score": 100.0,
    }  # fmt: skip


def test_lookup_reads_queries_from_stdin_one_json_line_each(peacebot):
    queries = ["ROE", "chapter 7", "zzqxv", "what happened in liberia", "<@123456>", ""]
    result = peacebot("lookup", "-", stdin="\n".join(queries) + "\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in rows] == queries
    assert [r["result"] for r in rows] == ["alias", "alias", "none", "suggestions", "none", "none"]
    assert rows[0]["matches"][0]["id"] == "roe"
    assert rows[3]["matches"] and all("score" in m for m in rows[3]["matches"])


def test_lookup_bad_arguments_are_one_line(peacebot):
    result = peacebot("lookup", "--limit", "0", "roe")
    assert result.returncode == 2
    assert "needs a whole number of 1 or more" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_console_answers_piped_commands_and_logs_them(peacebot, tmp_path):
    commands = ["define roe", "section case studies", "search what happened in liberia", "fact"]
    quiz = ["quiz 2 international law", "A", "2"]
    script = "\n".join([*commands, *quiz, "discuss", "about", "help", "rules of engagment"])
    db = tmp_path / "console.sqlite3"
    result = peacebot("console", "--seed", "7", "--db", str(db), stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Rules of engagement" in out
    assert "Successes and Case Studies" in out
    assert "Search: what happened in liberia" in out
    assert "Did you know?" in out
    assert "Question 1/2" in out and "Question 2/2" in out
    assert "Quiz results" in out and "/2 right" in out
    assert "Discussion" in out
    assert "About peacebot" in out
    assert "define <term>" in out
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT command, query, matched_id FROM query_log ORDER BY rowid"
        ).fetchall()
    assert rows == [
        ("console:define", "roe", "roe"),
        ("console:section", "case studies", "successes-case-studies"),
        ("console:search", "what happened in liberia", rows[2][2]),
        ("console:lookup", "rules of engagment", "roe"),
    ]


def test_console_quiz_takes_answers_and_can_be_stopped(library):
    console = Console(library, random.Random(1))
    first = console.handle("quiz 3")
    assert "Question 1/3" in first and console.prompt == "answer> "
    assert "Answer with one of" in console.handle("Z")
    assert "Question 2/3" in console.handle("b")
    stopped = console.handle("stop")
    assert "Quiz results" in stopped and "stopped early" in stopped
    assert console.prompt == "peacebot> "
    assert "Rules of engagement" in console.handle("define roe")


def test_console_timeline_prints_the_pictures_text_form(library):
    """The console draws nothing: /timeline's words, for the same choice of missions."""
    console = Console(library, random.Random(1), today=lambda: date(2024, 3, 15))
    nato = console.handle("timeline nato 1995 2000")
    assert nato.startswith("Missions and operations led by NATO, active 1995-2000 (")
    assert "\n  KFOR: " in nato and "\n  IFOR: " in nato and "led by UN," not in nato
    arab = console.handle("timeline arab league")
    assert arab.startswith("Missions and operations led by Arab League (")
    everything = console.handle("timeline")
    assert "of all organisations" in everything and "led by UN," in everything
    assert console.handle("timeline atlantis").startswith("Unknown organisation. Choose one of")
    assert "first year must not be after" in console.handle("timeline 2000 1990")
    assert console.handle("timeline 1990 1995 2000").startswith("Usage: timeline")


def test_console_survives_hostile_input(peacebot):
    hostile = [
        "x" * 10_000,
        "\x00\x1b[2J",
        "🙂🙂",
        "@everyone",
        "define",
        "quiz nowhere-zz",
        "define \u202e",
    ]
    result = peacebot("console", "--db", "none", stdin="\n".join(hostile) + "\n")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "Usage: define" in result.stdout
    assert "No section matches" in result.stdout


def test_console_numbers_choices_and_a_number_opens_one(library):
    console = Console(library, random.Random(1))
    guesses = console.handle("define article 2")
    assert "Did you mean:\n  1. " in guesses
    first = console.choices[0]
    assert library.get(first.entry_id).name.split()[0] in console.handle("1")
    listed = console.handle("sections")
    assert listed.count("\n") >= 15 and "1. Introduction" in listed
    assert console.handle("15").startswith(library.sections["critical-analysis"].title)
    assert "Glossary: International Laws Governing Peace Missions" in console.handle(
        "terms international law"
    )
    assert console.handle("1948").startswith("Search: 1948")  # beyond the list: a query


def test_console_never_mentions_slash_commands_or_buttons(library):
    console = Console(library, random.Random(2))
    script = ["define zzqx", "define article 2", "section roe", "search wagner group", "fact",
              "quiz 1", "a", "sections", "terms", "help", "define case studies",
              "timeline nato"]  # fmt: skip
    for line in script:
        reply = console.handle(line) or ""
        assert not re.search(r"(^|\s)[/!][a-z]", reply), (line, reply)
        assert "button" not in reply.lower() and "below" not in reply.lower(), (line, reply)


def test_console_help_lists_what_the_console_does(library):
    text = Console(library, random.Random(1)).handle("help")
    for command in ("define", "section", "search", "sections", "terms", "fact", "quiz",
                    "discuss", "timeline", "about", "quit"):  # fmt: skip
        assert f"\n  {command}" in text
    assert "leaderboard" not in text and "daily" not in text


def test_console_text_keeps_urls_whole_and_wraps_see_also(library):
    console = Console(library, random.Random(1))
    for entry in library.named():
        text = console.handle(f"{'define' if entry.kind == 'term' else 'section'} {entry.id}")
        for line in text.splitlines():
            if "<http" in line:
                assert ">" in line[line.index("<http") :], line  # the whole URL on one line
    see_also = console.handle("section international law").split("See also: ")[1]
    assert len(see_also.splitlines()) > 1


def test_piped_input_ending_mid_quiz_shows_the_scoreboard(peacebot):
    result = peacebot("console", "--db", "none", "--seed", "3", stdin="quiz 3\nb\n")
    assert result.returncode == 0, result.stderr
    assert "Question 2/3" in result.stdout
    assert result.stdout.rstrip().endswith("of 3 questions asked · stopped early)")
    assert "Quiz results" in result.stdout


def test_command_line_verbs_answer_like_the_bot(peacebot):
    defined = peacebot("define", "rules", "of", "engagment")
    assert defined.returncode == 0 and defined.stdout.startswith("Rules of engagement\n")
    section = peacebot("section", "roe")
    assert section.returncode == 1 and "A glossary term, not a section" in section.stdout
    searched = peacebot("search", "which", "treaty", "set", "up", "the", "african", "union")
    assert searched.returncode == 0 and searched.stdout.startswith("Search: which treaty")
    gap = peacebot("search", "wagner", "group")
    assert gap.returncode == 1 and "does not seem to cover" in gap.stdout


def test_schema_command_writes_the_schema(peacebot, tmp_path):
    target = tmp_path / "schema.json"
    assert peacebot("schema", "--output", str(target)).returncode == 0
    assert json.loads(target.read_text())["title"] == "peacebot content file"


def test_sigterm_to_a_waiting_console_keeps_every_logged_query(tmp_path):
    """A real `peacebot` process: answer, wait for more input, get SIGTERM, flush, exit 0."""
    db = tmp_path / "console.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--db", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
    )
    try:
        queries = ["define roe", "define chapter 7", "section history"]
        process.stdin.write("\n".join(queries) + "\n")
        process.stdin.flush()
        seen = []
        while len([line for line in seen if line.startswith("====")]) < len(queries):
            line = process.stdout.readline()  # the answers' title underlines, one per answer
            assert line, f"console ended early: {process.stderr.read()}"
            seen.append(line)
        process.send_signal(signal.SIGTERM)  # stdin stays open: the console is waiting
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    with sqlite3.connect(db) as connection:
        logged = [row[0] for row in connection.execute("SELECT query FROM query_log")]
    assert logged == ["roe", "chapter 7", "history"]


def test_peacebot_content_chooses_the_library(peacebot, tmp_path):
    env = clean_env(PEACEBOT_CONTENT=str(TEST_LIBRARY))
    result = peacebot("check", env=env)
    assert result.stdout.startswith("OK: 2 sections, 7 terms,"), result.stderr
    assert "no-fly-zone" in peacebot("lookup", "--json", "nfz", env=env).stdout


async def test_console_review_shows_the_back_on_enter_and_rates_with_1_to_4(library, tmp_path):
    from bot.cli._review import CONSOLE_USER_ID, ConsoleReview
    from bot.review import Deck, ReviewService
    from tests.storage_helpers import opened

    async with opened(tmp_path / "console.sqlite3") as storage:
        now = datetime(2024, 3, 15, 8, tzinfo=UTC)
        service = ReviewService(storage, Deck.from_library(library), clock=lambda: now)
        titles = {s.id: s.title for s in library.sections.values()}
        review = ConsoleReview(service, storage.user_hash(CONSOLE_USER_ID), titles)
        console = Console(library, random.Random(1), review=review)
        front = await console.respond("review international law terms")
        assert front.startswith("Review: glossary term") and console.prompt == "review> "
        assert "International Laws Governing Peace Missions" in front
        assert "Show the answer" not in front and "Press Enter" in front
        assert "Press Enter" in await console.respond("3")  # the back comes first
        back = await console.respond("")
        assert "Answer:" in back and "Rate it: 1 Again · 2 Hard · 3 Good · 4 Easy" in back
        assert "Rate it" in await console.respond("good")
        rated = await console.respond("3")
        assert rated.startswith("Good: back in ") and "Review: glossary term" in rated
        assert (await console.respond("show")).count("Answer:") == 1
        assert (await console.respond("1")).startswith("Again: back in 10 minutes.")
        assert await console.respond("stop") == "Review stopped: 2 cards reviewed, all saved."
        assert console.prompt == "peacebot> "
        stats = await console.respond("review stats")
        assert "Reviews:\n  2 (2 today)" in stats and "Due over the next 14 days:" in stats
        states = await storage.card_states(storage.user_hash(CONSOLE_USER_ID))
        assert len(states) == 2
        assert "No section matches" in await console.respond("review zzqx qqq")
        assert "Rules of engagement" in await console.respond("define roe")  # the rest still works


async def test_console_review_without_a_database_says_how_to_get_one(library):
    console = Console(library, random.Random(1))
    assert "--db PATH" in await console.respond("review")
    assert console.prompt == "peacebot> "


async def test_console_review_uses_the_bot_s_postgresql_database(peacebot, postgres):
    """Without --db the console reviews the cards the bot keeps: DATABASE_URL when it is set."""
    from bot.cli._review import CONSOLE_USER_ID

    env = clean_env(DATABASE_URL=postgres.location, PEACEBOT_DB="unused.sqlite3")
    result = peacebot("console", stdin="review terms\n\n3\n", env=env)
    assert result.returncode == 0, result.stderr
    assert "Good: back in " in result.stdout
    async with postgres.opened() as store:
        [card] = await store.card_states(store.user_hash(CONSOLE_USER_ID))
        assert card.reviews == 1


def test_console_review_keeps_the_cards_in_the_database_between_runs(peacebot, tmp_path):
    db = tmp_path / "cards.sqlite3"
    first = peacebot("console", "--db", db, stdin="review terms\n\n3\n")
    assert first.returncode == 0, first.stderr
    assert "Good: back in " in first.stdout
    shown = first.stdout.split("=====================\n", 1)[1].split("\n", 1)[0]
    assert first.stdout.rstrip().endswith("Review stopped: 1 card reviewed, all saved.")
    again = peacebot("console", "--db", db, stdin="review terms\n")
    assert again.returncode == 0, again.stderr
    assert again.stdout.split("=====================\n", 1)[1].split("\n", 1)[0] != shown
