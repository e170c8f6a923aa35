"""Source links: the mirror-domain list, `peacebot check`'s warnings, and the shipped share."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import Library
from bot.sources import (
    BUNDLED_MIRRORS,
    mirror_links,
    mirror_of,
    read_mirror_domains,
    source_links,
)
from tests.conftest import TEST_LIBRARY

ROOT = Path(__file__).resolve().parent.parent
MAX_MIRROR_SHARE = 0.03  # issue 14: at most 3% of source links may stay on mirror sites


def check(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,  # check names files relative to it
        timeout=60,
    )


@pytest.fixture
def content(tmp_path: Path) -> Path:
    directory = tmp_path / "content"
    shutil.copytree(TEST_LIBRARY, directory)
    return directory


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://wikimili.com/en/ECOMOG", "wikimili.com"),
        ("https://international42.blogspot.com/2010/05/x.html", "blogspot.com"),
        ("https://m.livejournal.com./read/user/x/1", "livejournal.com"),  # trailing dot
        ("https://WIKIMILI.COM/en/x", "wikimili.com"),
        ("https://notwikimili.com/en/x", None),  # a look-alike is not a subdomain
        ("https://wikimili.com.example.org/x", None),
        ("https://press.un.org/en/1999/sc6742.doc.htm", None),
        (None, None),
    ],
)
def test_mirror_of_matches_a_domain_and_its_subdomains(url, expected):
    domains = {"wikimili.com", "blogspot.com", "livejournal.com"}
    assert mirror_of(url, domains) == expected


def test_mirror_list_ignores_comments_and_blank_lines(tmp_path):
    path = tmp_path / "mirrors.txt"
    path.write_text("# a comment\n\nWikiMili.com  # trailing comment\nslideplayer.com.\n")
    assert read_mirror_domains(path) == {"wikimili.com", "slideplayer.com"}


def test_check_warns_with_file_and_line_but_still_succeeds(content):
    (content / "mirror-domains.txt").write_text("un.org\n", encoding="utf-8")
    result = check("content", cwd=content.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK:")
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    chapter_vii = (
        "content/library.yaml:32: warning: term chapter-vii cites a mirror site (un.org): "
        "https://www.un.org/en/about-us/un-charter/chapter-7"
    )
    assert chapter_vii in warnings
    section = "content/library.yaml:3: warning: section international-law cites a mirror site"
    assert any(w.startswith(section) for w in warnings)
    assert "2 of 2 source links (100.0%) on mirror sites" in result.stderr


def test_check_takes_a_list_from_the_command_line(content, tmp_path):
    listed = tmp_path / "other.txt"
    listed.write_text("example.org\n", encoding="utf-8")
    result = check(str(content), "--mirrors", str(listed))
    assert result.returncode == 0
    assert ": warning: " not in result.stderr
    assert "0 of 2 source links (0.0%)" in result.stderr
    missing = check(str(content), "--mirrors", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_a_directory_without_a_list_uses_the_bundled_one(content):
    result = check(str(content))
    assert result.returncode == 0
    assert f"listed in {BUNDLED_MIRRORS}" in result.stderr


def test_bundled_list_names_the_known_mirror_sites():
    domains = read_mirror_domains(BUNDLED_MIRRORS)
    assert {"wikimili.com", "docslib.org", "liquisearch.com", "blogspot.com"} <= domains


def test_shipped_content_keeps_mirror_links_under_the_limit(library: Library):
    links = [link for link in source_links(library) if link.source.url]
    hits = mirror_links(library, read_mirror_domains(BUNDLED_MIRRORS))
    report = "\n".join(f"  {link.entry.id}: {link.source.url}" for link, _ in hits)
    assert len(hits) <= MAX_MIRROR_SHARE * len(links), (
        f"{len(hits)} of {len(links)} source links on mirror sites:\n{report}"
    )
