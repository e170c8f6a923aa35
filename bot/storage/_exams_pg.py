"""PostgreSQL SQL for exam results (beside `_exams`): the same rows, moments as timestamptz and
the flag as a boolean, a member's history newest first off the same indexes."""

from __future__ import annotations

from typing import Any

from bot.exam import ExamRecord
from bot.storage._pg_status import rows_affected

_COLUMNS = "user_hash, section, started_at, finished_at, asked, correct, timed_out, by_section"
HISTORY = {
    False: f"SELECT {_COLUMNS} FROM exam_results WHERE user_hash = $1 "  # noqa: S608
    "ORDER BY finished_at DESC, id DESC LIMIT $2",
    True: f"SELECT {_COLUMNS} FROM exam_results WHERE user_hash = $1 AND section = $2 "  # noqa: S608
    "ORDER BY finished_at DESC, id DESC LIMIT $3",
}


async def save(conn: Any, record: ExamRecord) -> None:
    row = record.to_row()
    await conn.execute(
        f"INSERT INTO exam_results ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",  # noqa: S608
        record.user_hash,
        record.section,
        record.started_at,
        record.finished_at,
        record.asked,
        record.correct,
        record.timed_out,
        row["by_section"],
    )


async def history(conn: Any, user_hash: str, section: str | None, limit: int) -> list[ExamRecord]:
    params = (user_hash, limit) if section is None else (user_hash, section, limit)
    rows = await conn.fetch(HISTORY[section is not None], *params)
    return [ExamRecord.from_row(_text_times(row)) for row in rows]


async def forget(conn: Any, user_hash: str) -> int:
    status = await conn.execute("DELETE FROM exam_results WHERE user_hash = $1", user_hash)
    return rows_affected(status)


def _text_times(row: Any) -> dict[str, Any]:
    """A row as `ExamRecord.from_row` reads it (its moments as ISO text, as SQLite keeps them)."""
    values = dict(row)
    for column in ("started_at", "finished_at"):
        values[column] = values[column].isoformat()
    return values
