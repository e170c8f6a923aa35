"""SQLite SQL for exam results (`bot.exam.ExamRecord`): one row per finished exam, a member's
history newest first straight off an index, kept apart from group-quiz answers."""

from __future__ import annotations

import aiosqlite

from bot.exam import ExamRecord

_COLUMNS = "user_hash, section, started_at, finished_at, asked, correct, timed_out, by_section"
# Newest first; the id breaks ties between exams finished in the same microsecond. Both orders
# are the index's own (it ends in the rowid), read backwards: no sort.
HISTORY = {
    False: f"SELECT {_COLUMNS} FROM exam_results WHERE user_hash = ? "  # noqa: S608
    "ORDER BY finished_at DESC, id DESC LIMIT ?",
    True: f"SELECT {_COLUMNS} FROM exam_results WHERE user_hash = ? AND section = ? "  # noqa: S608
    "ORDER BY finished_at DESC, id DESC LIMIT ?",
}


async def save(conn: aiosqlite.Connection, record: ExamRecord) -> None:
    await conn.execute(
        f"INSERT INTO exam_results ({_COLUMNS}) VALUES (:user_hash, :section, :started_at, "  # noqa: S608
        ":finished_at, :asked, :correct, :timed_out, :by_section)",
        record.to_row(),
    )


async def history(
    conn: aiosqlite.Connection, user_hash: str, section: str | None, limit: int
) -> list[ExamRecord]:
    params = (user_hash, limit) if section is None else (user_hash, section, limit)
    async with conn.execute(HISTORY[section is not None], params) as cursor:
        return [ExamRecord.from_row(_row(cursor, row)) for row in await cursor.fetchall()]


async def forget(conn: aiosqlite.Connection, user_hash: str) -> int:
    cursor = await conn.execute("DELETE FROM exam_results WHERE user_hash = ?", (user_hash,))
    return max(cursor.rowcount, 0)


def _row(cursor: aiosqlite.Cursor, row: tuple) -> dict[str, object]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}
