"""Lookup engine benchmark: resolve, autocomplete and search on synthetic libraries of 1k, 10k
and 100k terms, side by side with the naive rapidfuzz and difflib baselines, plus the cost of
loading the bundled content and top-1 accuracy on the relevance set.

    python benchmarks/bench_lookup.py            # all sizes (about 3 minutes on 2 cores)
    python benchmarks/bench_lookup.py --quick    # 1k and 10k only
"""

from __future__ import annotations

import argparse
import difflib
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz, process, utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content import Fact, Library, Section, Source, Term
from bot.loader import load_library
from bot.lookup import LookupEngine
from tests.test_relevance import relevance_set

SYLLABLES = [
    "ka",
    "ro",
    "mi",
    "nu",
    "te",
    "sa",
    "lo",
    "vi",
    "da",
    "pe",
    "ri",
    "go",
    "ta",
    "ne",
    "mo",
    "fu",
    "zi",
    "ba",
    "ke",
    "lu",
    "ar",
    "en",
    "or",
    "is",
]
COMMON = ["peace", "mission", "force", "operation", "united", "council", "security", "regional"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def synthetic_library(size: int, seed: int = 1) -> Library:
    rng = random.Random(seed)
    vocabulary = [word(rng) for _ in range(max(2000, size // 3))] + COMMON * 20
    sections = [
        Section(f"s{i}", f"Section {word(rng)} {i}", "summary " * 5, ("point",),
                (Source("synthetic"),))
        for i in range(15)
    ]  # fmt: skip
    names: set[str] = set()
    terms = []
    while len(terms) < size:
        words = [rng.choice(vocabulary) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))]
        name = " ".join(words).title()
        if name.casefold() in names:
            continue
        names.add(name.casefold())
        acronym = "".join(w[0] for w in words).upper() + str(len(terms))
        definition = " ".join(rng.choice(vocabulary) for _ in range(25))
        terms.append(
            Term(f"t{len(terms)}", name, definition, f"s{len(terms) % 15}",
                 (Source("synthetic"),), (acronym,))
        )  # fmt: skip
    facts = [
        Fact(f"f{i}", " ".join(rng.choice(vocabulary) for _ in range(20)), f"s{i % 15}",
             Source("synthetic"))
        for i in range(size // 10)
    ]  # fmt: skip
    return Library(sections, terms, facts, [], [])


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.choice(("drop", "swap", "replace"))
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "swap":
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + rng.choice("aeioutnrs") + text[i + 1 :]


def queries(library: Library, count: int, seed: int = 2) -> tuple[list[str], list[str]]:
    """Name-like queries (typos, case, word order, acronyms) and partial ones for autocomplete."""
    rng = random.Random(seed)
    terms = list(library.terms.values())
    full, partial = [], []
    for _ in range(count):
        term = rng.choice(terms)
        words = term.name.split()
        style = rng.choice(("typo", "lower", "order", "acronym", "typo"))
        if style == "typo":
            full.append(typo(term.name, rng))
        elif style == "lower":
            full.append(term.name.lower())
        elif style == "order":
            full.append(" ".join(reversed(words)))
        else:
            full.append(term.aliases[0].lower())
        cut = rng.randint(2, min(8, len(term.name)))
        partial.append(typo(term.name[:cut], rng) if rng.random() < 0.2 else term.name[:cut])
    return full, partial


def timed(fn: Callable[[str], object], inputs: list[str]) -> list[float]:
    samples = []
    for text in inputs:
        start = time.perf_counter()
        fn(text)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(label: str, samples: list[float]) -> str:
    return f"| {label} | {statistics.median(samples):.3f} | {pct(samples, 0.99):.3f} |"


def run_size(size: int, count: int) -> list[str]:
    library = synthetic_library(size)
    gc.collect()
    start = time.perf_counter()
    engine = LookupEngine(library)
    build_ms = (time.perf_counter() - start) * 1000
    tracemalloc.start()  # a second build, because tracing slows allocation down
    LookupEngine(library)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    full, partial = queries(library, count)
    labels = [label for e in library.named() for label in (e.name, *e.aliases)]
    naive_count = count if size <= 10_000 else max(20, count // 4)
    difflib_count = count if size <= 1_000 else (40 if size <= 10_000 else 5)

    def naive(q: str) -> object:
        return process.extract(
            q, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=25
        )

    lines = [
        f"\n**{size:,} terms** ({len(labels):,} names and aliases): index built in "
        f"{build_ms:,.0f} ms, peak {peak_mb:,.0f} MiB while building\n",
        "| operation | p50 ms | p99 ms |",
        "|---|---|---|",
        row("engine `resolve`", timed(engine.resolve, full)),
        row("engine `autocomplete`", timed(engine.autocomplete, partial)),
        row("engine `search`", timed(lambda q: engine.search(q), full)),
        row(f"naive `process.extract` WRatio ({naive_count} q)", timed(naive, full[:naive_count])),
        row(
            f"`difflib.get_close_matches` ({difflib_count} q)",
            timed(lambda q: difflib.get_close_matches(q, labels, n=25), full[:difflib_count]),
        ),
    ]
    return lines


def relevance_lines(library: Library) -> list[str]:
    engine = LookupEngine(library)
    rows = relevance_set()
    labels, owners = [], []
    for entry in library.named():
        for label in (entry.name, *entry.aliases):
            labels.append(label)
            owners.append(entry.id)

    def naive_top(q: str) -> list[str]:
        found = process.extract(
            q, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=15
        )
        return list(dict.fromkeys(owners[i] for _, _, i in found))[:3]

    def difflib_top(q: str) -> list[str]:
        found = difflib.get_close_matches(q.casefold(), [x.casefold() for x in labels], n=15)
        lowered = [x.casefold() for x in labels]
        return list(dict.fromkeys(owners[lowered.index(x)] for x in found))[:3]

    def engine_top(q: str) -> list[str]:
        return [m.entry.id for m in engine.lookup(q).matches][:3]

    out = ["\n**Relevance set** (" + str(len(rows)) + " queries, bundled content)\n",
           "| method | top-1 | top-3 |", "|---|---|---|"]  # fmt: skip
    for name, fn in (("engine", engine_top), ("naive WRatio", naive_top),
                     ("difflib", difflib_top)):  # fmt: skip
        tops = [fn(q) for q, _, _ in rows]
        top1 = sum(t[:1] == [e] for t, (_, e, _) in zip(tops, rows, strict=True)) / len(rows)
        top3 = sum(e in t for t, (_, e, _) in zip(tops, rows, strict=True)) / len(rows)
        out.append(f"| {name} | {top1:.1%} | {top3:.1%} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k library")
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        library = load_library()
        LookupEngine(library)
        loads.append((time.perf_counter() - start) * 1000)
    print(f"Loading and indexing the bundled content: median {statistics.median(loads):.0f} ms "
          f"(best {min(loads):.0f} ms) over 5 runs")  # fmt: skip
    print("\n".join(relevance_lines(library)))
    for size in (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000):
        print("\n".join(run_size(size, args.queries)), flush=True)


if __name__ == "__main__":
    main()
