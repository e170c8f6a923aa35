"""SQLite SQL for quiz answers, activity days, leaderboards and forgetting a user.

Users appear only as `user_hash`; `members` keeps the display name a leaderboard shows, and
answers and activity hang off it with ON DELETE CASCADE.
"""

from __future__ import annotations

import json
from datetime import date

import aiosqlite

from bot.storage._models import ScoreRow, SectionScore

NAME_LIMIT = 100


async def remember_member(
    conn: aiosqlite.Connection, guild_id: int, user_hash: str, display_name: str
) -> None:
    await conn.execute(
        "INSERT INTO members (guild_id, user_hash, display_name) VALUES (?, ?, ?) "
        "ON CONFLICT (guild_id, user_hash) DO UPDATE SET display_name = excluded.display_name",
        (guild_id, user_hash, display_name),
    )


async def record_activity(
    conn: aiosqlite.Connection, guild_id: int, user_hash: str, local_date: date
) -> None:
    await conn.execute(
        "INSERT OR IGNORE INTO activity (guild_id, user_hash, active_on) VALUES (?, ?, ?)",
        (guild_id, user_hash, local_date.isoformat()),
    )


async def record_answer(
    conn: aiosqlite.Connection,
    guild_id: int,
    user_hash: str,
    question_id: str,
    section_id: str,
    correct: bool,
    local_date: date,
) -> None:
    await conn.execute(
        "INSERT INTO quiz_answers (guild_id, user_hash, question_id, section_id, correct, "
        "answered_on) VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, user_hash, question_id, section_id, int(correct), local_date.isoformat()),
    )
    await conn.execute(
        "INSERT INTO member_totals (guild_id, user_hash, answered, correct) VALUES (?, ?, 1, ?) "
        "ON CONFLICT (guild_id, user_hash) DO UPDATE "
        "SET answered = answered + 1, correct = correct + excluded.correct",
        (guild_id, user_hash, int(correct)),
    )


# All time: the running totals (one row per member, kept by record_answer), read in the order
# of member_totals_board; only members tied on the last place are sorted by name. CROSS JOIN
# keeps that order in SQLite (the totals outside, each member's name looked up by key); a plain
# join lets the planner walk the server's members first and sort them all.
TOTALS_BOARD = (
    "SELECT m.display_name, t.user_hash, t.answered, t.correct FROM member_totals AS t "
    "CROSS JOIN members AS m WHERE t.guild_id = ? "
    "AND m.guild_id = t.guild_id AND m.user_hash = t.user_hash "
    "ORDER BY t.correct DESC, t.answered ASC, m.display_name LIMIT ?"
)
# A section or a start date: the answers are grouped per member straight off the covering index
# quiz_answers_board (guild, member, section, day, correct) in its own order; only the grouped
# rows (one per member) are sorted, never the server's history.
_BOARD = (
    "SELECT m.display_name, s.user_hash, s.answered, s.correct FROM ("
    "SELECT user_hash, COUNT(*) AS answered, SUM(correct) AS correct FROM quiz_answers "
    "WHERE guild_id = ?{filters} GROUP BY user_hash) AS s "
    "JOIN members AS m ON m.guild_id = ? AND m.user_hash = s.user_hash "
    "ORDER BY s.correct DESC, s.answered ASC, m.display_name LIMIT ?"
)
BOARDS = {
    (True, False): _BOARD.format(filters=" AND section_id = ?"),
    (False, True): _BOARD.format(filters=" AND answered_on >= ?"),
    (True, True): _BOARD.format(filters=" AND section_id = ? AND answered_on >= ?"),
}


async def save_answer(
    conn: aiosqlite.Connection,
    guild_id: int,
    user_hash: str,
    display_name: str,
    question_id: str,
    section_id: str,
    correct: bool,
    local_date: date,
) -> None:
    """An answer, the member's current name, and the day as a day of study."""
    await remember_member(conn, guild_id, user_hash, display_name)
    await record_answer(conn, guild_id, user_hash, question_id, section_id, correct, local_date)
    await record_activity(conn, guild_id, user_hash, local_date)


async def save_activity(
    conn: aiosqlite.Connection, guild_id: int, user_hash: str, display_name: str, local_date: date
) -> None:
    await remember_member(conn, guild_id, user_hash, display_name)
    await record_activity(conn, guild_id, user_hash, local_date)


async def leaderboard(
    conn: aiosqlite.Connection,
    guild_id: int,
    section: str | None,
    since: date | None,
    limit: int,
) -> list[ScoreRow]:
    """Most correct answers first; on a tie, fewer attempts (better accuracy), then name."""
    if section is None and since is None:
        async with conn.execute(TOTALS_BOARD, (guild_id, limit)) as cursor:
            return [ScoreRow(*row) for row in await cursor.fetchall()]
    params: list[object] = [guild_id]
    if section is not None:
        params.append(section)
    if since is not None:
        params.append(since.isoformat())
    sql = BOARDS[section is not None, since is not None]
    async with conn.execute(sql, (*params, guild_id, limit)) as cursor:
        return [ScoreRow(row[0], row[1], row[2], row[3]) for row in await cursor.fetchall()]


PROGRESS = (
    "SELECT section_id, COUNT(*), SUM(correct) FROM quiz_answers "
    "WHERE guild_id = ? AND user_hash = ? GROUP BY section_id ORDER BY section_id"
)


async def progress(conn: aiosqlite.Connection, guild_id: int, user_hash: str) -> list[SectionScore]:
    async with conn.execute(PROGRESS, (guild_id, user_hash)) as cursor:
        return [SectionScore(row[0], row[1], row[2]) for row in await cursor.fetchall()]


ANSWERS_PER_DAY = (
    "SELECT answered_on, COUNT(*) FROM quiz_answers WHERE guild_id = ? AND user_hash = ? "
    "AND answered_on >= ? GROUP BY answered_on"
)


async def answers_per_day(
    conn: aiosqlite.Connection, guild_id: int, user_hash: str, since: date
) -> dict[date, int]:
    """Grouped in the order of quiz_answers_member_day: no sort of the member's history."""
    async with conn.execute(ANSWERS_PER_DAY, (guild_id, user_hash, since.isoformat())) as cursor:
        return {date.fromisoformat(day): n for day, n in await cursor.fetchall()}


async def activity_dates(conn: aiosqlite.Connection, guild_id: int, user_hash: str) -> list[date]:
    async with conn.execute(
        "SELECT active_on FROM activity WHERE guild_id = ? AND user_hash = ? ORDER BY active_on",
        (guild_id, user_hash),
    ) as cursor:
        return [date.fromisoformat(row[0]) for row in await cursor.fetchall()]


async def activity_dates_of(
    conn: aiosqlite.Connection, guild_id: int, user_hashes: list[str]
) -> dict[str, list[date]]:
    """Activity days of several members at once (a leaderboard's rows), in one query."""
    found: dict[str, list[date]] = {user: [] for user in user_hashes}
    if not user_hashes:
        return found
    async with conn.execute(
        "SELECT user_hash, active_on FROM activity WHERE guild_id = ? "
        "AND user_hash IN (SELECT value FROM json_each(?)) ORDER BY active_on",
        (guild_id, json.dumps(user_hashes)),
    ) as cursor:
        for user, day in await cursor.fetchall():
            found[user].append(date.fromisoformat(day))
    return found


async def forget(conn: aiosqlite.Connection, user_hash: str) -> int:
    """Delete every row keyed by `user_hash`; return how many (cascaded rows counted too). The
    member's running totals go with the member row (ON DELETE CASCADE), uncounted: they only
    sum up the answers counted here."""
    deleted = 0
    for statement in (
        "DELETE FROM query_log WHERE user_hash = ?",
        "DELETE FROM quiz_answers WHERE user_hash = ?",
        "DELETE FROM activity WHERE user_hash = ?",
        "DELETE FROM members WHERE user_hash = ?",
    ):
        cursor = await conn.execute(statement, (user_hash,))
        deleted += max(cursor.rowcount, 0)
    return deleted
