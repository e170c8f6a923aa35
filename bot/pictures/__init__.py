"""Pictures where people would rather look than read: progress, review forecast, timeline.

Build the data (`ProgressData.build`, `ForecastData`, `timeline_data`), then
`await renderer.render(data)` on a started `PictureRenderer`: the PNG is drawn in a worker
process, and the `Picture` carries alt text and a text form beside it. `describe(data)` gives
the words alone (the console prints them without drawing).
"""

from bot.pictures._data import (
    HEATMAP_WEEKS,
    MAX_TIMELINE_ROWS,
    ORGANISATIONS,
    ForecastData,
    Mission,
    Picture,
    PictureError,
    ProgressData,
    SectionAccuracy,
    TimelineData,
    YearMonth,
    calendar_start,
    mission_label,
    missions_from_library,
    organisation_name,
    timeline_data,
)
from bot.pictures._renderer import MAX_PNG_BYTES, PictureRenderer, describe

__all__ = [
    "HEATMAP_WEEKS",
    "MAX_PNG_BYTES",
    "MAX_TIMELINE_ROWS",
    "ORGANISATIONS",
    "ForecastData",
    "Mission",
    "Picture",
    "PictureError",
    "PictureRenderer",
    "ProgressData",
    "SectionAccuracy",
    "TimelineData",
    "YearMonth",
    "calendar_start",
    "describe",
    "mission_label",
    "missions_from_library",
    "organisation_name",
    "timeline_data",
]
