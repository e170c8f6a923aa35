"""The command tag asyncpg's `execute` returns ("DELETE 3", "UPDATE 1", "INSERT 0 1")."""

from __future__ import annotations


def rows_affected(status: str) -> int:
    """How many rows the statement changed: the tag's last number."""
    return int(status.rsplit(" ", 1)[1])
