"""PostgreSQL SQL for quiz answers, activity days, leaderboards and forgetting a user (beside
`_scores`). Ties between names sort in byte order (COLLATE "C"), as SQLite sorts them."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.storage._models import ScoreRow, SectionScore
from bot.storage._pg_status import rows_affected

_MEMBER = (
    "INSERT INTO members (guild_id, user_hash, display_name) VALUES ($1, $2, $3) "
    "ON CONFLICT (guild_id, user_hash) DO UPDATE SET display_name = excluded.display_name"
)
_ACTIVITY = (
    "INSERT INTO activity (guild_id, user_hash, active_on) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"
)


async def save_answer(
    conn: Any,
    guild_id: int,
    user_hash: str,
    display_name: str,
    question_id: str,
    section_id: str,
    correct: bool,
    local_date: date,
) -> None:
    await conn.execute(_MEMBER, guild_id, user_hash, display_name)
    await conn.execute(
        "INSERT INTO quiz_answers (guild_id, user_hash, question_id, section_id, correct, "
        "answered_on) VALUES ($1, $2, $3, $4, $5, $6)",
        guild_id,
        user_hash,
        question_id,
        section_id,
        correct,
        local_date,
    )
    await conn.execute(
        "INSERT INTO member_totals (guild_id, user_hash, answered, correct) "
        "VALUES ($1, $2, 1, $3) ON CONFLICT (guild_id, user_hash) DO UPDATE "
        "SET answered = member_totals.answered + 1, "
        "correct = member_totals.correct + excluded.correct",
        guild_id,
        user_hash,
        int(correct),
    )
    await conn.execute(_ACTIVITY, guild_id, user_hash, local_date)


async def save_activity(
    conn: Any, guild_id: int, user_hash: str, display_name: str, local_date: date
) -> None:
    await conn.execute(_MEMBER, guild_id, user_hash, display_name)
    await conn.execute(_ACTIVITY, guild_id, user_hash, local_date)


# All time: the running totals in the order of member_totals_board (one row per member; an
# incremental sort orders only members tied on correct and answered by name).
TOTALS_BOARD = (
    "SELECT m.display_name, t.user_hash, t.answered, t.correct FROM member_totals AS t "
    "JOIN members AS m ON m.guild_id = t.guild_id AND m.user_hash = t.user_hash "
    'WHERE t.guild_id = $1 ORDER BY t.correct DESC, t.answered ASC, m.display_name COLLATE "C" '
    "LIMIT $2"
)
# A section or a start date: grouped per member off the covering index quiz_answers_board in its
# own order (an index-only scan); only the grouped rows (one per member) are sorted.
_BOARD = (
    "SELECT m.display_name, s.user_hash, s.answered, s.correct FROM ("
    "SELECT user_hash, COUNT(*) AS answered, COUNT(*) FILTER (WHERE correct) AS correct "
    "FROM quiz_answers WHERE guild_id = $1{filters} GROUP BY user_hash) AS s "
    "JOIN members AS m ON m.guild_id = $1 AND m.user_hash = s.user_hash "
    'ORDER BY s.correct DESC, s.answered ASC, m.display_name COLLATE "C" LIMIT {limit}'
)
BOARDS = {
    (True, False): _BOARD.format(filters=" AND section_id = $2", limit="$3"),
    (False, True): _BOARD.format(filters=" AND answered_on >= $2", limit="$3"),
    (True, True): _BOARD.format(filters=" AND section_id = $2 AND answered_on >= $3", limit="$4"),
}


async def leaderboard(
    conn: Any, guild_id: int, section: str | None, since: date | None, limit: int
) -> list[ScoreRow]:
    if section is None and since is None:
        rows = await conn.fetch(TOTALS_BOARD, guild_id, limit)
        return [ScoreRow(*row) for row in rows]
    params: list[object] = [guild_id]
    if section is not None:
        params.append(section)
    if since is not None:
        params.append(since)
    rows = await conn.fetch(BOARDS[section is not None, since is not None], *params, limit)
    return [ScoreRow(row[0], row[1], row[2], row[3]) for row in rows]


PROGRESS = (
    "SELECT section_id, COUNT(*), COUNT(*) FILTER (WHERE correct) FROM quiz_answers "
    'WHERE guild_id = $1 AND user_hash = $2 GROUP BY section_id ORDER BY section_id COLLATE "C"'
)


async def progress(conn: Any, guild_id: int, user_hash: str) -> list[SectionScore]:
    rows = await conn.fetch(PROGRESS, guild_id, user_hash)
    return [SectionScore(row[0], row[1], row[2]) for row in rows]


async def answers_per_day(conn: Any, guild_id: int, user_hash: str, since: date) -> dict[date, int]:
    """Grouped off quiz_answers_member_day, as in SQLite."""
    rows = await conn.fetch(
        "SELECT answered_on, COUNT(*) FROM quiz_answers WHERE guild_id = $1 AND user_hash = $2 "
        "AND answered_on >= $3 GROUP BY answered_on",
        guild_id,
        user_hash,
        since,
    )
    return {row[0]: row[1] for row in rows}


async def activity_dates(conn: Any, guild_id: int, user_hash: str) -> list[date]:
    rows = await conn.fetch(
        "SELECT active_on FROM activity WHERE guild_id = $1 AND user_hash = $2 ORDER BY active_on",
        guild_id,
        user_hash,
    )
    return [row[0] for row in rows]


async def activity_dates_of(
    conn: Any, guild_id: int, user_hashes: list[str]
) -> dict[str, list[date]]:
    found: dict[str, list[date]] = {user: [] for user in user_hashes}
    if not user_hashes:
        return found
    rows = await conn.fetch(
        "SELECT user_hash, active_on FROM activity WHERE guild_id = $1 "
        "AND user_hash = ANY($2::text[]) ORDER BY active_on",
        guild_id,
        user_hashes,
    )
    for user, day in rows:
        found[user].append(day)
    return found


async def forget(conn: Any, user_hash: str) -> int:
    """Delete every row keyed by `user_hash`; return how many (as `_scores.forget` does)."""
    deleted = 0
    for statement in (
        "DELETE FROM query_log WHERE user_hash = $1",
        "DELETE FROM quiz_answers WHERE user_hash = $1",
        "DELETE FROM activity WHERE user_hash = $1",
        "DELETE FROM members WHERE user_hash = $1",
    ):
        status = await conn.execute(statement, user_hash)
        deleted += rows_affected(status)
    return deleted
