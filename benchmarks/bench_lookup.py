"""Lookup engine benchmark: the engine beside its baselines, in the same run.

On synthetic libraries of 1k, 10k and 100k terms: index build (time, memory), resolve, the
shared answer path, autocomplete and full-text search (p50/p99), and resolve's top-1 on typo
queries (all of them, and those whose own term is strictly the closest by edit distance),
beside the naive `process.extract(WRatio)` baseline, a trigram prefilter + WRatio,
SQLite FTS5 (bm25, porter) and tantivy (when installed). On the bundled content: relevance
of the name set and the question set for the engine, FTS5 and tantivy.

    python benchmarks/bench_lookup.py            # all sizes (about 10 minutes on 2 cores)
    python benchmarks/bench_lookup.py --quick    # 1k and 10k only
    python benchmarks/bench_lookup.py --runs 1   # each timing once (default: median of 3)
    python benchmarks/bench_lookup.py --before DIR [DIR ...]   # beside earlier engines

`--before` takes checkouts of earlier commits (`git worktree add DIR COMMIT`): their engines
are imported beside this one and timed on the same libraries and queries, pass for pass.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import importlib
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content import Entry, Fact, Library, Section, Source, Term
from bot.loader import load_library
from bot.lookup import LookupEngine
from tests.test_relevance import question_set, relevance_set

try:
    import tantivy
except ImportError:  # the comparison is optional: peacebot does not need it
    tantivy = None

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
WORD = re.compile(r"[^\W_]+")


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


def queries(library: Library, count: int, seed: int = 2):
    """Name-like queries (typos, case, word order, acronyms), partial ones for autocomplete,
    and the typo queries with the term each one means."""
    rng = random.Random(seed)
    terms = list(library.terms.values())
    full, partial, typos = [], [], []
    for _ in range(count):
        term = rng.choice(terms)
        words = term.name.split()
        style = rng.choice(("typo", "lower", "order", "acronym", "typo"))
        if style == "typo":
            full.append(typo(term.name, rng))
            typos.append((full[-1], term.id))
        elif style == "lower":
            full.append(term.name.lower())
        elif style == "order":
            full.append(" ".join(reversed(words)))
        else:
            full.append(term.aliases[0].lower())
        cut = rng.randint(2, min(8, len(term.name)))
        partial.append(typo(term.name[:cut], rng) if rng.random() < 0.2 else term.name[:cut])
    return full, partial, typos


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


RUNS = 3  # each build and each query is timed this often and its median kept: the machine is shared


def row(label: str, fn: Callable[[str], object], inputs: list[str], runs: int = 0) -> str:
    """p50 and p99 of `fn` over `inputs`, each query's time the median of `runs` (default
    RUNS) passes."""
    return rows([(label, fn)], inputs, runs)[0]


def rows(
    timings: list[tuple[str, Callable[[str], object]]], inputs: list[str], runs: int = 0
) -> list[str]:
    """`row` for several functions, each query timed with each of them in turn (who goes
    first changing from pass to pass), so that the load of the shared machine and the
    garbage collector's pauses fall on all of them alike; whole passes taken in turn put
    the pauses at the same places of every pass. A query's time is its median over the
    passes: on 2 shared cores another process takes the core for a few ms now and then,
    which in a single pass lands on a random query and, 4 queries in 400 being enough, sets
    the p99 of everything alike; a cost of the query itself shows in most passes."""
    times: list[list[list[float]]] = [[[] for _ in inputs] for _ in timings]
    clock = time.perf_counter
    for run in range(runs or RUNS):
        turn = [(at, fn) for at, (_, fn) in enumerate(timings)]
        turn = turn[run % len(turn) :] + turn[: run % len(turn)]
        for position, text in enumerate(inputs):
            for at, fn in turn:
                start = clock()
                fn(text)
                times[at][position].append((clock() - start) * 1000)
    lines = []
    for per_input, (label, _) in zip(times, timings, strict=True):
        per_query = [statistics.median(samples) for samples in per_input]
        lines.append(f"| {label} | {pct(per_query, 0.5):.3f} | {pct(per_query, 0.99):.3f} |")
    return lines


def rss_mib() -> float:
    """Resident memory now (Linux): what a C or Rust index costs, which tracemalloc misses."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def documents(library: Library) -> list[tuple[Entry, str, str]]:
    out: list[tuple[Entry, str, str]] = []
    for section in library.sections.values():
        body = " ".join((section.summary, *section.key_points, section.note or ""))
        out.append((section, " ".join((section.title, *section.aliases)), body))
    for term in library.terms.values():
        out.append(
            (term, " ".join((term.name, *term.aliases)), f"{term.definition} {term.note or ''}")
        )
    for fact in library.facts.values():
        out.append((fact, " ".join(fact.tags), fact.text))
    return out


def engine_at(checkout: Path) -> tuple[str, type]:
    """The short commit and the `LookupEngine` class of another checkout of peacebot,
    imported beside this one: its `bot` modules are loaded under their own names and then
    moved out of the way, so both engines run in this process on the same library. They
    share this checkout's `bot.content`, whose classes the library is made of (an engine
    that asks `isinstance(entry, Term)` must know them; their fields only grew)."""
    ours = {name: m for name, m in sys.modules.items() if name.partition(".")[0] == "bot"}
    for name in ours:
        if name != "bot.content":
            del sys.modules[name]
    sys.path.insert(0, str(checkout))
    try:
        engine = importlib.import_module("bot.lookup").LookupEngine
    finally:
        sys.path.remove(str(checkout))
        for name in [name for name in sys.modules if name.partition(".")[0] == "bot"]:
            del sys.modules[name]
        sys.modules.update(ours)
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return commit or checkout.name, engine


BEFORE: list[tuple[str, type]] = []  # (commit, engine class) of each checkout given by --before


def answer_of(engine: object) -> Callable[[str], object]:
    """The shared answer path; engines before it had `lookup` (a name first, else search)."""
    return getattr(engine, "answer", None) or engine.lookup  # type: ignore[attr-defined]


# -- the baselines --------------------------------------------------------------------------


class Naive:
    """`process.extract(query, labels, scorer=WRatio)` over every name and alias."""

    def __init__(self, library: Library) -> None:
        self.labels, self.owners = [], []
        for entry in library.named():
            for label in (entry.name, *entry.aliases):
                self.labels.append(label)
                self.owners.append(entry.id)

    def top(self, query: str, limit: int = 3) -> list[str]:
        found = process.extract(query, self.labels, scorer=fuzz.WRatio,
                                processor=utils.default_process, limit=15)  # fmt: skip
        return list(dict.fromkeys(self.owners[i] for _, _, i in found))[:limit]


class TrigramWRatio(Naive):
    """The textbook speed-up: a trigram index picks 100 labels, WRatio ranks them."""

    def __init__(self, library: Library) -> None:
        super().__init__(library)
        self.keys = [utils.default_process(label) for label in self.labels]
        self.grams: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(self.keys):
            for gram in {f" {key} "[j : j + 3] for j in range(len(key))}:
                self.grams[gram].append(i)

    def top(self, query: str, limit: int = 3) -> list[str]:
        key = utils.default_process(query)
        counts: Counter[int] = Counter()
        for gram in {f" {key} "[j : j + 3] for j in range(len(key))}:
            counts.update(self.grams.get(gram, ()))
        picked = heapq.nlargest(100, counts, key=counts.__getitem__)
        scored = sorted(picked, key=lambda i: -fuzz.WRatio(key, self.keys[i]))
        return list(dict.fromkeys(self.owners[i] for i in scored))[:limit]


class Fts5:
    """SQLite FTS5 with the porter tokenizer; bm25 with names and aliases weighted 2."""

    def __init__(self, library: Library) -> None:
        self.entries = []
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter')")
        rows = []
        for entry, title, body in documents(library):
            self.entries.append(entry)
            rows.append((len(self.entries), title, body))
        self.db.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", rows)

    def top(self, query: str, limit: int = 3) -> list[str]:
        words = WORD.findall(query.casefold())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        found = self.db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 2.0, 1.0) LIMIT ?",
            (match, limit),
        ).fetchall()
        return [self.entries[rowid - 1].id for (rowid,) in found]


class Tantivy:
    """tantivy (Rust, through its Python bindings) with its English stemmer; names boosted 2."""

    def __init__(self, library: Library) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("doc", stored=True, indexed=False)
        builder.add_text_field("title", stored=False, tokenizer_name="en_stem")
        builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
        self.index = tantivy.Index(builder.build())
        writer = self.index.writer(heap_size=100_000_000, num_threads=1)
        self.entries = []
        for entry, title, body in documents(library):
            writer.add_document(tantivy.Document(doc=len(self.entries), title=title, body=body))
            self.entries.append(entry)
        writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()

    def top(self, query: str, limit: int = 3) -> list[str]:
        words = WORD.findall(query.casefold())
        if not words:
            return []
        parsed = self.index.parse_query(" ".join(words), ["title", "body"],
                                        field_boosts={"title": 2.0})  # fmt: skip
        hits = self.searcher.search(parsed, limit).hits
        return [self.entries[self.searcher.doc(address)["doc"][0]].id for _, address in hits]


# -- the runs -------------------------------------------------------------------------------


def build(make: Callable[[], object]) -> tuple[object, float, float, float]:
    """The built object, seconds (median of RUNS builds), tracemalloc peak MiB (Python
    objects) and RSS growth MiB (of the first build)."""
    gc.collect()
    before = rss_mib()
    start = time.perf_counter()
    built = make()
    times = [time.perf_counter() - start]
    grown = rss_mib() - before
    for _ in range(RUNS - 1):
        gc.collect()
        start = time.perf_counter()
        make()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    tracemalloc.start()  # a second build, because tracing slows allocation down
    make()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    gc.collect()
    return built, seconds, peak, grown


def typo_top1(top: Callable[[str], list[str]], typos: list[tuple[str, str]]) -> str:
    return f"{sum(top(q)[:1] == [expected] for q, expected in typos) / len(typos):.1%}"


def strictly_closest(library: Library, typos: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The typo queries whose own term is the one entry closest to them by edit distance
    (optimal string alignment: a dropped, swapped or replaced letter is one edit, which is
    how `typo` makes them). With 100k invented names a typo often lands as close to another
    name as to its own, or closer; for those no resolver can know which was meant."""
    labels, owners = [], []
    for entry in library.named():
        for label in (entry.name, *entry.aliases):
            labels.append(utils.default_process(label))
            owners.append(entry.id)
    kept = []
    for query, expected in typos:
        found = process.extract(utils.default_process(query), labels, scorer=OSA.distance,
                                limit=8)  # fmt: skip
        nearest = {owners[i] for _, distance, i in found if distance == found[0][1]}
        if nearest == {expected}:
            kept.append((query, expected))
    return kept


def run_size(size: int, count: int) -> list[str]:
    library = synthetic_library(size)
    full, partial, typos = queries(library, count)
    subset = count if size <= 10_000 else max(40, count // 5)  # the slow baselines
    engine, seconds, peak, grown = build(lambda: LookupEngine(library))
    lines = [
        f"\n**{size:,} terms** ({sum(1 + len(e.aliases) for e in library.named()):,} names "
        f"and aliases, {len(library.terms) + len(library.facts) + 15:,} documents)\n",
        "| index | build s | peak MiB (Python objects) | RSS growth MiB |",
        "|---|---|---|---|",
        f"| engine (names + full text) | {seconds:.2f} | {peak:.0f} | {grown:.0f} |",
    ]
    befores: list[tuple[str, object]] = []
    for commit, engine_class in BEFORE:
        before, seconds, peak, grown = build(lambda make=engine_class: make(library))
        befores.append((commit, before))
        lines.append(f"| engine at {commit} | {seconds:.2f} | {peak:.0f} | {grown:.0f} |")
    baselines: list[tuple[str, object]] = []
    for label, make in (
        ("trigram + WRatio", lambda: TrigramWRatio(library)),
        ("SQLite FTS5 (porter)", lambda: Fts5(library)),
        *([("tantivy (en_stem)", lambda: Tantivy(library))] if tantivy else []),
    ):
        built, seconds, peak, grown = build(make)
        baselines.append((label, built))
        lines.append(f"| {label} | {seconds:.2f} | {peak:.0f} | {grown:.0f} |")
    naive = Naive(library)
    naive_runs = 1 if size > 10_000 else 0  # at 100k one pass of the naive baseline takes 20 s
    lines += ["", "| operation | p50 ms | p99 ms |", "|---|---|---|"]
    for label, fn, inputs in (
        ("`resolve`", lambda engine: engine.resolve, full),
        ("`answer` (the shared path)", answer_of, full),
        ("`autocomplete`", lambda engine: engine.autocomplete, partial),
        ("`search` (full text)", lambda engine: engine.search, full),
    ):
        timings = [(f"engine {label}", fn(engine))]
        timings += [(f"engine at {commit} {label}", fn(before)) for commit, before in befores]
        lines += rows(timings, inputs)
    lines.append(
        row(f"naive `process.extract` WRatio ({subset} q)", naive.top, full[:subset], naive_runs)
    )
    for label, built in baselines:
        what = "resolve" if "WRatio" in label else "search"
        lines.append(row(f"{label} {what}", built.top, full))  # type: ignore[attr-defined]
    trigram = baselines[0][1]
    closest = strictly_closest(library, typos)
    few = max(20, subset // 2)
    lines += [
        "",
        f"Resolve top-1 on {len(typos)} typo queries: engine **{typo_top1(_ids(engine), typos)}**, "
        + "".join(f"at {c} {typo_top1(_ids(b), typos)}, " for c, b in befores)
        + f"trigram + WRatio {typo_top1(trigram.top, typos)}, "  # type: ignore[attr-defined]
        f"naive WRatio {typo_top1(naive.top, typos[:few])}"
        + (f" ({few} q)" if size > 10_000 else ""),
        "",
        f"... on the {len(closest)} of them whose own term is strictly the closest by edit "
        f"distance: engine **{typo_top1(_ids(engine), closest)}**, "
        + "".join(f"at {c} {typo_top1(_ids(b), closest)}, " for c, b in befores)
        + f"trigram + WRatio {typo_top1(trigram.top, closest)}, "  # type: ignore[attr-defined]
        f"naive WRatio {typo_top1(naive.top, closest[:few])}"
        + (f" ({len(closest[:few])} q)" if size > 10_000 else ""),
    ]
    return lines


def _ids(engine: object) -> Callable[[str], list[str]]:
    return lambda q: [m.entry.id for m in engine.resolve(q).matches]


def _before_relevance(library: Library) -> list[tuple[str, Callable[[str], list[str]]]]:
    out = []
    for commit, engine_class in BEFORE:
        answer = answer_of(engine_class(library))
        out.append((f"engine at {commit}", lambda q, a=answer: [m.entry.id for m in a(q).matches]))
    return out


def relevance_lines(library: Library) -> list[str]:
    engine = LookupEngine(library)
    names, questions = relevance_set(), question_set()
    methods: list[tuple[str, Callable[[str], list[str]]]] = [
        (
            "engine: the shared answer path",
            lambda q: [m.entry.id for m in engine.answer(q).matches],
        ),
        ("engine: full text only", lambda q: [m.entry.id for m in engine.search(q, 5).matches]),
        *_before_relevance(library),
        ("naive WRatio (names only)", Naive(library).top),
        ("SQLite FTS5 (porter, bm25)", Fts5(library).top),
    ]
    if tantivy is not None:
        methods.append(("tantivy (en_stem, bm25)", Tantivy(library).top))
    out = [
        f"\n**Relevance** (bundled content): {len(names)} names, {len(questions)} questions\n",
        "| method | names top-1 | names top-3 | questions top-1 | questions top-3 |",
        "|---|---|---|---|---|",
    ]
    for label, top in methods:
        ranked_names = [top(q)[:3] for q, _, _ in names]
        ranked_questions = [top(q)[:3] for q, _ in questions]
        n1 = sum(r[:1] == [e] for r, (_, e, _) in zip(ranked_names, names, strict=True))
        n3 = sum(e in r for r, (_, e, _) in zip(ranked_names, names, strict=True))
        q1 = sum(
            bool(r) and r[0] in ok for r, (_, ok) in zip(ranked_questions, questions, strict=True)
        )
        q3 = sum(bool(ok & set(r)) for r, (_, ok) in zip(ranked_questions, questions, strict=True))
        out.append(f"| {label} | {n1 / len(names):.1%} | {n3 / len(names):.1%} | "
                   f"{q1 / len(questions):.1%} | {q3 / len(questions):.1%} |")  # fmt: skip
    return out


def main() -> None:
    global RUNS, BEFORE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k library")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--runs", type=int, default=RUNS, help="repeats of each timing")
    parser.add_argument("--before", type=Path, nargs="+", default=[],
                        help="checkouts of earlier commits")  # fmt: skip
    args = parser.parse_args()
    RUNS = max(1, args.runs)
    BEFORE = [engine_at(checkout.resolve()) for checkout in args.before]
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        library = load_library()
        LookupEngine(library)
        loads.append((time.perf_counter() - start) * 1000)
    print(f"Loading and indexing the bundled content: median {statistics.median(loads):.0f} ms "
          f"(best {min(loads):.0f} ms) over 5 runs")  # fmt: skip
    print("\n".join(relevance_lines(library)), flush=True)
    for size in (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000):
        print("\n".join(run_size(size, args.queries)), flush=True)


if __name__ == "__main__":
    main()
