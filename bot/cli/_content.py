"""`peacebot check` and `peacebot lookup`: content maintenance from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli._args import whole_number
from bot.loader import ContentError, Problem, load_library
from bot.lookup import LookupEngine, Resolution
from bot.sources import mirror_domains_for, mirror_links, read_mirror_domains, source_links


def register(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check",
        help="validate a content directory",
        description="Validate every *.yaml file; print each problem as file:line: message.",
    )
    check.add_argument("directory", nargs="?", type=Path, help="default: the bundled content")
    check.add_argument(
        "--mirrors",
        type=Path,
        help="list of mirror domains to warn about (default: DIRECTORY/mirror-domains.txt, "
        "else the bundled list)",
    )
    check.set_defaults(handler=run_check)

    schema = sub.add_parser(
        "schema",
        help="write the JSON Schema of the content format",
        description="Regenerate content/peacebot.schema.json from the content model.",
    )
    schema.add_argument(
        "--output", metavar="FILE", help="default: content/peacebot.schema.json; '-' for stdout"
    )
    schema.set_defaults(handler=run_schema)

    lookup = sub.add_parser(
        "lookup",
        help="show the ranked matches for queries",
        description="Rank queries through the bot's one answer path (names answer directly, "
        "questions and numbers go to the full text). "
        "Use '-' to read one query per line from stdin (one JSON line each).",
        epilog="Exit status, with or without --json: 0 when the query matched something (an "
        "entry or suggestions), 1 when nothing matched, 2 for a usage error or invalid content. "
        "With '-': 0 once every line is answered.",
    )
    lookup.add_argument("query", nargs="+", help="the query words, or '-' for stdin")
    lookup.add_argument("--json", action="store_true", help="print JSON")
    lookup.add_argument("--limit", type=whole_number, default=5, help="matches to show (default 5)")
    lookup.add_argument("--content", type=Path, help="content directory (default: bundled)")
    lookup.set_defaults(handler=run_lookup)


def load_or_report(directory: Path | None):
    """The library, or None after printing every problem to stderr."""
    try:
        return load_library(directory)
    except ContentError as exc:
        print_problems(exc.problems)
        return None


def print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    if len(problems) > 1:
        print(f"{len(problems)} problems found", file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    if args.mirrors is not None and not args.mirrors.is_file():
        print(f"peacebot check: no such file: {args.mirrors}", file=sys.stderr)
        return 2
    library = load_or_report(args.directory)
    if library is None:
        return 1
    counts = ", ".join(f"{n} {kind}" for kind, n in library.counts().items())
    print(f"OK: {counts} (version {library.version})")
    warn_about_mirrors(library, args.directory, args.mirrors)
    return 0


def warn_about_mirrors(library, directory: Path | None, mirrors: Path | None) -> None:
    """A warning per source link on a mirror site; warnings never change the exit code."""
    if mirrors is not None:
        domains, listed_in = read_mirror_domains(mirrors), mirrors
    else:
        domains, listed_in = mirror_domains_for(directory)
    if not domains:
        return
    hits = mirror_links(library, domains)
    for link, domain in hits:
        where = library.origins.get(link.entry.id, link.entry.id)
        print(
            f"{where}: warning: {link.entry.kind} {link.entry.id} cites a mirror site "
            f"({domain}): {link.source.url}",
            file=sys.stderr,
        )
    total = sum(1 for link in source_links(library) if link.source.url)
    share = 100 * len(hits) / total if total else 0.0
    print(
        f"{len(hits)} of {total} source links ({share:.1f}%) on mirror sites listed in {listed_in}",
        file=sys.stderr,
    )


def run_schema(args: argparse.Namespace) -> int:
    from bot.schema import SCHEMA_PATH, render_schema

    text = render_schema()
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.output) if args.output else SCHEMA_PATH
    if not isinstance(target, Path):  # the bundled content sits inside a zip file
        print(f"peacebot schema: cannot write into {target}; pass --output FILE", file=sys.stderr)
        return 1
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = "it is a folder" if target.is_dir() else (exc.strerror or str(exc))
        print(f"peacebot schema: cannot write {target}: {reason}", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    return 0


def resolution_json(resolution: Resolution) -> dict:
    return {
        "query": resolution.query,
        "result": str(resolution.outcome),
        "matches": [
            {"id": m.entry.id, "kind": m.kind, "title": _title(m.entry), "score": m.score}
            for m in resolution.matches
        ],
    }


def _title(entry) -> str:
    return getattr(entry, "name", None) or getattr(entry, "text", "")[:100]


def run_lookup(args: argparse.Namespace) -> int:
    library = load_or_report(args.content)
    if library is None:
        return 2
    engine = LookupEngine(library)
    if args.query == ["-"]:
        for line in sys.stdin:
            resolution = engine.answer(line.rstrip("\n"), limit=args.limit)
            print(json.dumps(resolution_json(resolution), ensure_ascii=False), flush=False)
        sys.stdout.flush()
        return 0
    resolution = engine.answer(" ".join(args.query), limit=args.limit)
    if args.json:
        print(json.dumps(resolution_json(resolution), ensure_ascii=False, indent=2))
    else:
        print(f"{resolution.outcome}: {resolution.query}")
        for rank, match in enumerate(resolution.matches, 1):
            title = _title(match.entry)
            print(f"{rank:>2}. {match.score:5.1f}  {match.kind:<8} {match.entry.id:<32} {title}")
    return 0 if resolution.matches else 1
