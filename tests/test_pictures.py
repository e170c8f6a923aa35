"""Pictures: their data, their words, and PNGs drawn in a worker process."""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.content import Library
from bot.pictures import (
    MAX_PNG_BYTES,
    MAX_TIMELINE_ROWS,
    ORGANISATIONS,
    ForecastData,
    Mission,
    Picture,
    PictureError,
    PictureRenderer,
    ProgressData,
    SectionAccuracy,
    YearMonth,
    calendar_start,
    describe,
    mission_label,
    missions_from_library,
    organisation_name,
    timeline_data,
)
from bot.pictures._renderer import render_inline
from bot.review import DayCount

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2024, 3, 15)  # a Friday
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALT_MAX = 1024  # Discord's limit for an attachment's description


def mission(label: str, started: str, ended: str | None, led_by: str) -> Mission:
    end = YearMonth.parse(ended) if ended else None
    return Mission(label, f"The {label} mission", YearMonth.parse(started), end, led_by)


MISSIONS = [
    mission("UNEF", "1956-11", "1967-06", "UN"),
    mission("IAPF", "1965-05", "1966-09", "OAS"),
    mission("ECOMOG", "1990-08", "1999", "ECOWAS"),
    mission("IFOR", "1995-12", "1996-12", "NATO"),
    mission("KFOR", "1999-06", None, "NATO"),
    mission("AMISOM", "2007-01", "2022-03", "AU"),
]


def progress_data(seed: int = 1, sections: int = 15) -> ProgressData:
    rng = random.Random(seed)
    rows = []
    for n in range(sections):
        answered = rng.choice([0, 4, 12, 40])
        rows.append(SectionAccuracy(f"Section {n} on peace operations", answered,
                                    rng.randint(0, answered)))  # fmt: skip
    activity = {TODAY - timedelta(days=d): rng.choice([0, 1, 3, 8, 30]) for d in range(120)}
    return ProgressData.build(rows, activity, TODAY)


def forecast_data() -> ForecastData:
    return ForecastData(tuple(DayCount(TODAY + timedelta(days=n), (n * 7) % 11) for n in range(14)))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def check_picture(picture: Picture) -> None:
    width, height = png_size(picture.png)
    assert width == 1000 and 150 <= height <= 2400
    assert len(picture.png) <= MAX_PNG_BYTES
    assert 0 < len(picture.alt_text) <= ALT_MAX
    assert picture.text and picture.filename.endswith(".png")


# -- data -----------------------------------------------------------------------------------


def test_year_months_parse_and_refuse() -> None:
    assert YearMonth.parse("1994") == YearMonth(1994)
    assert YearMonth.parse(1994) == YearMonth(1994)
    assert YearMonth.parse("1994-10") == YearMonth(1994, 10)
    assert YearMonth(1994, 10).words == "Oct 1994" and YearMonth(1994).words == "1994"
    assert YearMonth(1994).start == 1994 and YearMonth(1994).end == 1995
    for bad in ("94", "1994-13", "1994-00", "soon", "1850", "1994/10"):
        with pytest.raises(ValueError):
            YearMonth.parse(bad)


def test_timeline_filters_by_organisation_and_years() -> None:
    everything = timeline_data(MISSIONS, 2024)
    assert [m.label for m in everything.missions] == [
        "UNEF", "IAPF", "ECOMOG", "IFOR", "KFOR", "AMISOM",
    ]  # fmt: skip
    nato = timeline_data(MISSIONS, 2024, organisation="nato")
    assert nato.organisation == "NATO" and [m.label for m in nato.missions] == ["IFOR", "KFOR"]
    nineties = timeline_data(MISSIONS, 2024, first_year=1997, last_year=2007)
    assert [m.label for m in nineties.missions] == ["ECOMOG", "KFOR", "AMISOM"]
    assert [m.label for m in timeline_data(MISSIONS, 2024, last_year=1965).missions] == [
        "UNEF", "IAPF",
    ]  # fmt: skip
    with pytest.raises(PictureError, match="Unknown organisation"):
        timeline_data(MISSIONS, 2024, organisation="Warsaw Pact")
    with pytest.raises(PictureError, match="first year"):
        timeline_data(MISSIONS, 2024, first_year=2000, last_year=1990)


def test_timeline_keeps_at_most_its_row_limit_and_says_so() -> None:
    many = [mission(f"M{n}", str(1950 + n % 70), None, ORGANISATIONS[n % 9]) for n in range(90)]
    data = timeline_data(many, 2024)
    assert len(data.missions) == MAX_TIMELINE_ROWS and data.left_out == 90 - MAX_TIMELINE_ROWS
    alt, text, _ = describe(data)
    assert len(alt) <= ALT_MAX and "more" in alt
    assert f"{data.left_out} more" in text and all(m.label in text for m in data.missions)


def test_organisation_names_are_canonical() -> None:
    assert organisation_name("arab league") == "Arab League"
    assert organisation_name(" Coalition ") == "coalition"
    assert organisation_name("UN") == "UN" and organisation_name("ASEAN") is None


def test_mission_labels_are_acronyms_or_short_names() -> None:
    assert mission_label("United Nations Assistance Mission for Rwanda", ("UNAMIR", "MINUAR")) == (
        "UNAMIR"
    )
    assert mission_label("Second United Nations Operation in Somalia", ("UNOSOM II",)) == (
        "UNOSOM II"
    )
    assert mission_label("Operation Artemis (EU, DR Congo 2003)", ("Artemis", "IEMF")) == "Artemis"
    assert mission_label("Gulf War coalition (1990-91)", ("Desert Storm",)) == "Gulf War coalition"
    long_name = "UN-authorised action in Korea (1950)"
    assert mission_label(long_name, ("Resolution 84", "Korea 1950")) == "Korea 1950"
    assert mission_label("European Union Force Althea", ("EUFOR Althea", "EUFOR")) == "EUFOR"


def test_missions_come_from_the_library_s_mission_metadata(library: Library) -> None:
    missions = missions_from_library(library)
    assert len(missions) == len(library.missions()) >= 40
    assert all(m.led_by in ORGANISATIONS and len(m.label) <= 18 for m in missions)
    by_label = {m.label: m for m in missions}
    unamir = by_label["UNAMIR"]
    term = library.terms["unamir"]
    assert (unamir.name, unamir.led_by) == (term.name, term.led_by)
    assert unamir.started == YearMonth.parse(term.started)
    assert unamir.ended == YearMonth.parse(term.ended)
    assert all(m.ended is None or m.ended >= m.started for m in missions)
    picture = render_inline(timeline_data(missions, 2026))
    check_picture(picture)
    assert "UNAMIR (UN)" in picture.alt_text and "UNAMIR:" in picture.text


def test_progress_keeps_twelve_weeks_of_activity() -> None:
    data = progress_data()
    first = calendar_start(TODAY)
    assert first.weekday() == 0 and (TODAY - first).days == 7 * 11 + TODAY.weekday()
    assert all(first <= day <= TODAY and count > 0 for day, count in data.activity)


# -- words ----------------------------------------------------------------------------------


def test_alt_text_states_the_data() -> None:
    sections = (SectionAccuracy("Mandates", 10, 8), SectionAccuracy("Law", 0, 0))
    activity = {TODAY: 4, TODAY - timedelta(days=1): 2, TODAY - timedelta(days=200): 9}
    alt, text, _ = describe(ProgressData.build(sections, activity, TODAY))
    assert "Mandates 80% of 10" in alt and "Law" not in alt
    assert "active on 2 of" in alt and "6 activities" in alt and "15 Mar 2024 (4)" in alt
    assert "Law: no answers yet" in text and "Mandates: 80% (8/10 right)" in text

    alt, text, _ = describe(forecast_data())
    assert alt.startswith("Bar chart of review cards due on each of the next 14 days")
    counts = [(n * 7) % 11 for n in range(14)]
    assert f"{sum(counts)} in all" in alt and "today: 0;" in alt and "Sat 16 Mar: 7;" in alt
    assert len(text.splitlines()) == 15

    alt, text, _ = describe(timeline_data(MISSIONS, 2024))
    assert "KFOR (NATO) from Jun 1999, ongoing" in alt
    assert "UNEF (UN) Nov 1956 to Jun 1967" in alt
    assert "ECOMOG: The ECOMOG mission, led by ECOWAS, Aug 1990 to 1999" in text


def test_long_alt_text_is_cut_with_a_count_not_mid_word() -> None:
    sections = [SectionAccuracy(f"A rather long section title number {n}", 5, 3) for n in range(40)]
    alt, text, _ = describe(ProgressData.build(sections, {}, TODAY))
    assert len(alt) <= ALT_MAX and "more." in alt and "no activity yet" in alt
    assert all(f"number {n}:" in text for n in range(40))


# -- PNGs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        progress_data(),
        ProgressData.build([SectionAccuracy("Only one", 0, 0)], {}, TODAY),
        forecast_data(),
        ForecastData(tuple(DayCount(TODAY + timedelta(days=n), 0) for n in range(14))),
        timeline_data(MISSIONS, 2024),
        timeline_data(MISSIONS, 2024, organisation="AU", first_year=2010, last_year=2015),
        timeline_data([], 2024),
        timeline_data([mission(f"M{n}", str(1950 + n), None, "UN") for n in range(70)], 2024),
    ],
    ids=[
        "progress",
        "progress-empty",
        "forecast",
        "forecast-zero",
        "timeline",
        "timeline-filtered",
        "timeline-empty",
        "timeline-full",
    ],
)
def test_every_picture_is_a_png_within_limits_with_alt_text(data: object) -> None:
    check_picture(render_inline(data))  # type: ignore[arg-type]


async def test_the_renderer_draws_in_worker_processes() -> None:
    renderer = PictureRenderer(workers=1)
    with pytest.raises(PictureError, match="not available"):
        await renderer.render(forecast_data())
    await renderer.start()
    try:
        pictures = [
            await renderer.render(data)
            for data in (progress_data(), forecast_data(), timeline_data(MISSIONS, 2024))
        ]
    finally:
        await renderer.close()
    for picture in pictures:
        check_picture(picture)
        assert picture.draw_ms > 0 and picture.cpu_ms > 0
    assert [p.filename for p in pictures] == ["progress.png", "forecast.png", "timeline.png"]
    assert not renderer.running


def run_bot_script(main: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`main`, the body of an `async def main()`, run in a fresh interpreter as a bot's process
    runs (under `if __name__ == "__main__"`, which the pool's `spawn` needs)."""
    script = (
        textwrap.dedent(
            """
        import asyncio, os, sys
        from datetime import date
        from bot.pictures import ForecastData, PictureRenderer
        from bot.review import DayCount

        async def main():
        """
        )
        + textwrap.indent(textwrap.dedent(main), "    ")
        + ('\nif __name__ == "__main__":\n    asyncio.run(main())\n')
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_the_bot_process_never_imports_matplotlib() -> None:
    # In a fresh interpreter: render through the pool and check matplotlib stayed in the worker.
    done = run_bot_script(
        """
            renderer = PictureRenderer(workers=1)
            await renderer.start()
            try:
                picture = await renderer.render(ForecastData((DayCount(date(2024, 3, 15), 3),)))
            finally:
                await renderer.close()
            assert picture.png.startswith(b"\\x89PNG"), picture.png[:8]
            assert "matplotlib" not in sys.modules, "matplotlib was imported in the bot process"
            print("ok")
        """,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_workers_end_when_the_bot_process_dies_without_closing_the_pool() -> None:
    # The bot exits at once (a second Ctrl+C: os._exit) with its pool running: its worker must
    # not live on, or it would keep the bot's output pipes open (a supervisor waiting for them
    # to close would wait for ever). `communicate` returns only once every holder has gone.
    done = run_bot_script(
        """
        renderer = PictureRenderer(workers=1)
        await renderer.start()
        print("started", flush=True)
        os._exit(130)
        """,
        timeout=60,
    )
    assert done.returncode == 130, done.stderr
    assert done.stdout.strip() == "started"
