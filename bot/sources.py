"""Where the library's sources point, and which links land on mirror or copy sites."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import BUNDLED_CONTENT
from bot.content import Entry, Library, Source

# The list of mirror domains lives beside the content it checks (see content/README.md).
MIRRORS_FILE = "mirror-domains.txt"
BUNDLED_MIRRORS = BUNDLED_CONTENT / MIRRORS_FILE


@dataclass(frozen=True, slots=True)
class SourceLink:
    entry: Entry
    source: Source


def read_mirror_domains(path: Path) -> frozenset[str]:
    """One domain per line; `#` starts a comment; blank lines are ignored."""
    domains = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        domain = line.split("#", 1)[0].strip().lower().strip(".")
        if domain:
            domains.add(domain)
    return frozenset(domains)


def mirror_domains_for(directory: Path | None) -> tuple[frozenset[str], Path | None]:
    """The list a content directory brings with it, else the bundled one (and where it was)."""
    for path in ((directory / MIRRORS_FILE) if directory else None, BUNDLED_MIRRORS):
        if path is not None and path.is_file():
            return read_mirror_domains(path), path
    return frozenset(), None


def host_of(url: str) -> str:
    """The lower-case host name without a trailing dot (`slideplayer.com.` -> `slideplayer.com`)."""
    return (urlsplit(url).hostname or "").rstrip(".")


def mirror_of(url: str | None, domains: Iterable[str]) -> str | None:
    """The listed domain that `url`'s host is, or is a subdomain of; None for other links."""
    if not url:
        return None
    host = host_of(url)
    return next((d for d in domains if host == d or host.endswith("." + d)), None)


def source_links(library: Library) -> list[SourceLink]:
    """Every source of every section, term, fact and quiz question, in library order."""
    links = []
    for table in (library.sections, library.terms):
        links += [SourceLink(e, s) for e in table.values() for s in e.sources]
    for table in (library.facts, library.quiz):
        links += [SourceLink(e, e.source) for e in table.values()]
    return links


def mirror_links(library: Library, domains: Iterable[str]) -> list[tuple[SourceLink, str]]:
    """The links that point to a mirror domain, each with the domain it matched."""
    domains = sorted(domains, key=len, reverse=True)  # the most specific domain names the hit
    hits = []
    for link in source_links(library):
        domain = mirror_of(link.source.url, domains)
        if domain:
            hits.append((link, domain))
    return hits
