"""The lookup engine: what a user typed -> the entry they meant.

Built once per library. `answer` is the one decision every command shares (names answer
directly, questions go to the full text, numbers list the entries that carry them);
`resolve` matches names only, `search` ranks the full text only, and `autocomplete` suggests
names while the user types.
"""

from bot.lookup._analysis import keywords, stem
from bot.lookup._engine import (
    ANSWERED,
    QUERY_LIMIT,
    Choice,
    LookupEngine,
    Match,
    Outcome,
    Resolution,
    UnknownSection,
)

__all__ = [
    "ANSWERED",
    "QUERY_LIMIT",
    "Choice",
    "LookupEngine",
    "Match",
    "Outcome",
    "Resolution",
    "UnknownSection",
    "keywords",
    "stem",
]
