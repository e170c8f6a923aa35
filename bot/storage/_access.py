"""Whether the bot may write a database file, said in one line before it relies on it."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from bot.storage._connection import MEMORY
from bot.storage._models import StorageError

_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def check_writable(path: str) -> None:
    """Raise StorageError saying why `path` cannot hold a database that peacebot writes.

    Reading commands (`stats`, `export`) do not ask: a read-only copy of a log is fine to read.
    A file without any write permission counts as read-only even for root, who could write it
    anyway: someone made it read-only on purpose. SQLite keeps its journal beside the file, so
    the folder must take new files too.
    """
    if path in (MEMORY, ""):
        return
    file = Path(path)
    folder = file.parent
    if file.is_dir():
        raise StorageError(f"{path} is a folder, not a database file")
    if not folder.is_dir():
        raise StorageError(f"the folder {folder} does not exist")
    if file.exists() and (not os.access(file, os.W_OK) or not file.stat().st_mode & _ANY_WRITE):
        raise StorageError(f"{path} is read-only")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"cannot create files in {folder}, where SQLite keeps its journal")
    try:
        connection = sqlite3.connect(path)
        try:
            connection.execute("BEGIN IMMEDIATE")  # takes the write lock: fails if it cannot
            connection.rollback()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot write {path}: {exc}") from exc
