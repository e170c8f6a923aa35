"""Content reloads across processes: `/reload` and `peacebot reload` reach every process on
PostgreSQL; each reloads or keeps its content and reports; with SQLite it stays in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.content import Library
from bot.reloads import ReloadRequest, summary
from tests._cog_fakes import close_bot, make_bot
from tests.conftest import TEST_LIBRARY
from tests.processes import clean_env, run_peacebot
from tests.storage_backends import Backend


async def test_every_process_reloads_and_reports(
    postgres: Backend, small_library: Library, tmp_path: Path
) -> None:
    good = tmp_path / "good"
    shutil.copytree(TEST_LIBRARY, good)
    broken = tmp_path / "broken"
    shutil.copytree(TEST_LIBRARY, broken)
    (broken / "oops.yaml").write_text("terms: [\n", encoding="utf-8")
    bots = [
        await make_bot(small_library, content_dir=folder, database=postgres.location)
        for folder in (good, broken)
    ]
    try:
        for bot in bots:
            assert await bot.storage.listening(10)
        before = [bot.library for bot in bots]
        asker = await postgres.open()
        reports = await ReloadRequest(asker).run(wait_after_first=1.0)
        assert sorted(r.ok for r in reports) == [False, True]
        assert bots[0].library is not before[0]  # swapped for the reloaded content
        assert bots[1].library is before[1]  # the invalid content was refused: old one kept
        failed = next(r for r in reports if not r.ok)
        assert "oops.yaml:2" in failed.text and "still serving version" in failed.text
        text = summary(reports)
        assert text.splitlines()[0].startswith("KEPT THE OLD CONTENT")  # failures first
        assert "pid" in text and "all shards" in text
    finally:
        for bot in bots:
            await close_bot(bot)


async def test_peacebot_reload_needs_postgresql_and_someone_to_answer(
    postgres: Backend, tmp_path: Path
) -> None:
    lite = run_peacebot("reload", cwd=tmp_path)
    assert lite.returncode == 2 and "needs DATABASE_URL" in lite.stderr
    assert lite.stderr.count("\n") == 1
    nobody = run_peacebot(
        "reload", "--wait", "0.5", cwd=tmp_path, env=clean_env(DATABASE_URL=postgres.location)
    )
    assert nobody.returncode == 1 and "No process answered" in nobody.stdout
