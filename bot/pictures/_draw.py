"""Drawing with matplotlib's object-oriented API: a `Figure` printed by `FigureCanvasAgg`, never
pyplot's global state. These functions run in the renderer's worker processes; each takes plain
data and returns PNG bytes.

Colours are Paul Tol's colour-blind-safe schemes (muted for the nine organisations, a light to
dark blue ramp for counts), and nothing relies on colour alone: bars carry their numbers and the
timeline writes the organisation beside each bar. Pictures are 1000 px wide on white, readable
in Discord's light and dark themes alike.
"""

from __future__ import annotations

import io
import math
import textwrap
from datetime import timedelta

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from bot.pictures._data import (
    LABEL_MAX,
    ORGANISATIONS,
    ForecastData,
    ProgressData,
    TimelineData,
    calendar_start,
)
from bot.text import truncate

DPI = 100
WIDTH = 10.0  # inches: 1000 px
INK, MUTED, GRID = "#222222", "#666666", "#DDDDDD"
BLUE, ORANGE = "#0077BB", "#EE7733"  # Tol's vibrant blue and orange: apart for every vision
# Tol's muted scheme, one colour per organisation.
ORGANISATION_COLOURS = {
    "UN": "#88CCEE",
    "NATO": "#332288",
    "AU": "#117733",
    "ECOWAS": "#DDCC77",
    "EU": "#44AA99",
    "OAS": "#CC6677",
    "Arab League": "#882255",
    "coalition": "#AA4499",
    "state": "#999933",
}
# Activity levels for the calendar: none, then light to dark blue (Tol's sequential blues).
LEVELS = (0, 1, 5, 10, 20)
LEVEL_LABELS = ("none", "1-4", "5-9", "10-19", "20+")
LEVEL_COLOURS = ("#EEEEEE", "#BBCCEE", "#6699CC", "#336699", "#003366")
STYLE = {
    "text.parse_math": False,  # content titles are text: "$5" must not start mathtext
    "font.family": "DejaVu Sans",
    "font.size": 13,
    "axes.titlesize": 16,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "text.color": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
}
SECTION_LABEL_MAX = 34


def _axes(figure: Figure, left: float, bottom: float, width: float, height: float):  # type: ignore[no-untyped-def]
    """Axes placed in inches. Margins are worked out from what they must hold (label lengths,
    legend rows) instead of by constrained layout, which took 40% of each render."""
    fig_width, fig_height = figure.get_size_inches()
    return figure.add_axes((left / fig_width, bottom / fig_height, width / fig_width,
                            height / fig_height))  # fmt: skip


def _text_width(chars: int, points: float) -> float:
    """Inches a line of `chars` characters takes in DejaVu Sans (0.6 em on average)."""
    return chars * 0.6 * points / 72


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _empty(ax, message: str) -> None:  # type: ignore[no-untyped-def]
    ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


# -- progress -------------------------------------------------------------------------------


def draw_progress(data: ProgressData) -> bytes:
    rows = max(1, len(data.sections))
    labels = [_wrap(s.title) for s in data.sections]
    left = max(1.0, _text_width(max(map(len, "\n".join(labels).split("\n")), default=0), 12))
    left += 0.3
    bars = 0.56 * rows
    cell = 0.42  # inches per calendar day
    calendar = 7 * cell
    # From the bottom: legend, calendar, month names, its title, gap, x ticks, bars, title.
    height = 0.95 + calendar + 0.35 + 0.45 + 0.25 + 0.45 + bars + 0.5
    with rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, height), dpi=DPI)
        _calendar(_axes(figure, left, 0.95, data.weeks * cell, calendar), data)
        bars_axes = _axes(figure, left, height - 0.5 - bars, WIDTH - left - 0.3, bars)
        _accuracy_bars(bars_axes, data, labels)
        return _png(figure)


def _accuracy_bars(ax, data: ProgressData, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
    ax.set_title("Quiz accuracy by section")
    if not data.sections:
        _empty(ax, "No sections")
        return
    values = [s.percent or 0.0 for s in data.sections]
    positions = range(len(labels))
    ax.barh(positions, values, height=0.65, color=BLUE)
    for y, section in zip(positions, data.sections, strict=True):
        if section.answered:
            note = f"{round(section.percent or 0)}%  ({section.correct}/{section.answered})"
        else:
            note = "no answers yet"
        ax.text((section.percent or 0) + 1.5, y, note, va="center", fontsize=12,
                color=INK if section.answered else MUTED)  # fmt: skip
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 128)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    ax.xaxis.grid(True, color=GRID)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)


def _wrap(title: str) -> str:
    """A section title on at most two lines, so long titles stay readable beside their bar."""
    lines = textwrap.wrap(title, SECTION_LABEL_MAX)
    if len(lines) > 2:
        lines = [lines[0], truncate(" ".join(lines[1:]), SECTION_LABEL_MAX)]
    return "\n".join(lines)


def _calendar(ax, data: ProgressData) -> None:  # type: ignore[no-untyped-def]
    first = calendar_start(data.today, data.weeks)
    counts = dict(data.activity)
    grid = [[float("nan")] * data.weeks for _ in range(7)]
    for offset in range((data.today - first).days + 1):
        day = first + timedelta(days=offset)
        grid[day.weekday()][offset // 7] = float(counts.get(day, 0))
    cmap = ListedColormap(LEVEL_COLOURS).with_extremes(bad="white")  # days after today
    norm = BoundaryNorm([*LEVELS, 10**9], cmap.N)
    ax.pcolormesh(grid, cmap=cmap, norm=norm, edgecolors="white", linewidth=3)
    ax.set_title(f"Study activity, last {data.weeks} weeks", pad=28)
    column = (data.today - first).days // 7
    today = Rectangle((column + 0.06, data.today.weekday() + 0.06), 0.88, 0.88,
                      facecolor="none", edgecolor=INK, linewidth=2)  # fmt: skip
    ax.add_patch(today)
    ax.set_xlim(0, data.weeks)
    ax.set_ylim(7, 0)
    ax.set_yticks([0.5, 2.5, 4.5, 6.5], ["Mon", "Wed", "Fri", "Sun"])
    # A month's name over the first week that holds its 1st (or over the first column, if the
    # month it starts in runs on for at least two more weeks).
    months = []
    for week in range(data.weeks):
        monday = first + timedelta(weeks=week)
        sunday = monday + timedelta(days=6)
        if sunday.day <= 7:
            months.append((week + 0.5, f"{sunday:%b}"))
    if not months or months[0][0] >= 2:
        months.insert(0, (0.5, f"{first:%b}"))
    ax.set_xticks([x for x, _ in months], [label for _, label in months])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [
        Patch(facecolor=colour, edgecolor="#BBBBBB", label=label)
        for colour, label in zip(LEVEL_COLOURS, LEVEL_LABELS, strict=True)
    ]
    ax.legend(handles=handles, title="Quiz answers, reviews and discussions per day",
              loc="upper left", bbox_to_anchor=(0.0, -0.03), ncols=len(handles),
              frameon=False, fontsize=12, title_fontsize=12, alignment="left")  # fmt: skip


# -- forecast -------------------------------------------------------------------------------


def draw_forecast(data: ForecastData) -> bytes:
    with rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, 4.8), dpi=DPI)
        ax = _axes(figure, 0.9, 0.65, WIDTH - 1.1, 4.8 - 0.65 - 0.55)
        total = sum(d.count for d in data.days)
        ax.set_title(f"Cards due over the next {len(data.days)} days ({total} in all)")
        if not data.days:
            _empty(ax, "No days to show")
            return _png(figure)
        counts = [d.count for d in data.days]
        colours = [ORANGE, *([BLUE] * (len(counts) - 1))]
        positions = range(len(counts))
        ax.bar(positions, counts, width=0.7, color=colours)
        top = max(max(counts), 4)
        for x, count in zip(positions, counts, strict=True):
            ax.text(x, count + top * 0.02, str(count), ha="center", va="bottom", fontsize=12,
                    color=INK if count else MUTED)  # fmt: skip
        labels = [
            ("Today" if n == 0 else f"{d.day:%a}") + f"\n{d.day.day} {d.day:%b}"
            for n, d in enumerate(data.days)
        ]
        ax.set_xticks(list(positions), labels, fontsize=11)
        ax.get_xticklabels()[0].set_fontweight("bold")
        ax.set_ylim(0, top * 1.15)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("cards")
        ax.yaxis.grid(True, color=GRID)
        ax.set_axisbelow(True)
        ax.tick_params(axis="x", length=0)
        return _png(figure)


# -- timeline -------------------------------------------------------------------------------


def draw_timeline(data: TimelineData) -> bytes:
    rows = max(1, len(data.missions))
    labels = [truncate(m.label, LABEL_MAX) for m in data.missions]
    left = max(0.8, _text_width(max(map(len, labels), default=0), 11) + 0.3)
    organisations = {m.led_by for m in data.missions} | (
        {"ongoing"} if any(m.ended is None for m in data.missions) else set()
    )
    legend_rows = math.ceil(len(organisations) / 5)
    top = 0.55 + (0.35 if rows > 18 else 0.0)  # a tall chart has years on top too
    bottom = 0.45 + 0.3 * legend_rows
    body = max(0.34 * rows, 1.0)
    with rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, top + body + bottom), dpi=DPI)
        ax = _axes(figure, left, bottom, WIDTH - left - 0.2, body)
        title = "Missions and operations"
        if data.organisation:
            title += f" led by {data.organisation}"
        if data.first_year is not None or data.last_year is not None:
            title += f", {data.first_year or '…'}-{data.last_year or data.this_year}"
        ax.set_title(title, pad=26 if rows > 18 else 6)
        if not data.missions:
            _empty(ax, "No missions match")
            return _png(figure)
        spans = [m.span(data.this_year) for m in data.missions]
        low = min(start for start, _ in spans)
        high = max(end for _, end in spans)
        if data.first_year is not None:
            low = max(low, data.first_year)
        if data.last_year is not None:
            high = min(high, data.last_year + 1)
        width = max(high - low, 4)
        ax.set_xlim(low - width * 0.02, high + width * 0.24)  # room for the organisation names
        finished: list[tuple[int, float, float, str]] = []
        ongoing: list[tuple[int, float, float, str]] = []
        for y, (mission, span) in enumerate(zip(data.missions, spans, strict=True)):
            start, end = max(span[0], low), min(span[1], high)  # cut to the years asked for
            bar = (y, start, end, ORGANISATION_COLOURS[mission.led_by])
            (finished if mission.ended else ongoing).append(bar)
            note = mission.led_by + ("" if mission.ended else "  ongoing")
            ax.text(end + width * 0.008, y, note, va="center", fontsize=10, color=MUTED)
        # One call per kind of bar: a call per bar cost a third of the picture's time.
        for bars, hatch in ((finished, None), (ongoing, "//")):
            if bars:
                ys, starts, ends, colours = zip(*bars, strict=True)
                edges = [_contrast(c) for c in colours] if hatch else list(colours)
                ax.barh(ys, [e - s for s, e in zip(starts, ends, strict=True)], left=starts,
                        height=0.66, color=colours, edgecolor=edges, hatch=hatch,
                        linewidth=0.8)  # fmt: skip
        # Row labels as plain text beside the axis: a tick per row (two lines, two texts and a
        # grid line each) was a third of a 60-row picture's time.
        ax.set_yticks([])
        labels_at = offset_copy(ax.get_yaxis_transform(), figure, x=-4, units="points")
        for y, label in enumerate(labels):
            ax.text(0, y, label, transform=labels_at, ha="right", va="center", fontsize=11)
        ax.set_ylim(rows - 0.5, -0.5)
        step = 1 if width <= 12 else 5 if width <= 40 else 10
        first_tick = math.ceil(low / step) * step
        ax.set_xticks(range(first_tick, math.floor(high) + 1, step))  # none over the notes
        ax.xaxis.grid(True, color=GRID)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        if rows > 18:
            ax.tick_params(axis="x", labeltop=True)
        present = [org for org in ORGANISATIONS if any(m.led_by == org for m in data.missions)]
        handles = [Patch(facecolor=ORGANISATION_COLOURS[org], label=org) for org in present]
        if any(m.ended is None for m in data.missions):
            handles.append(Patch(facecolor="white", edgecolor="#444444", hatch="//",
                                 label="ongoing"))  # fmt: skip
        figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0),
                      ncols=min(len(handles), 5), frameon=False, fontsize=11)  # fmt: skip
        return _png(figure)


def _contrast(colour: str) -> str:
    """A hatch colour that shows on `colour`: white on dark colours, dark grey on light ones."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#FFFFFF" if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.5 else "#444444"


def draw(data: ProgressData | ForecastData | TimelineData) -> bytes:
    """The worker's entry point: the PNG for any picture's data."""
    if isinstance(data, ProgressData):
        return draw_progress(data)
    if isinstance(data, ForecastData):
        return draw_forecast(data)
    if isinstance(data, TimelineData):
        return draw_timeline(data)
    raise TypeError(f"no picture for {type(data).__name__}")


def warm() -> None:
    """Load fonts and the Agg machinery once per worker, so the first picture is not slow."""
    draw_forecast(ForecastData(()))
