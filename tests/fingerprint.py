"""The copy check's fingerprint of the source article: hashed word pairs, never its sentences.

The source article is not part of the repository. The test that no content sentence copies it
compares our sentences with `tests/data/article-fingerprint.json` instead: for each article
sentence of 8 or more words, the set of its word pairs ("peace enforcement", "enforcement
missions", ...), each pair hashed to 32 bits. Sets are sorted, so neither the words nor their
order are stored; the file says whether a pair of words occurs in a sentence, and nothing else.
It also holds a hash of each whole line, so a test can tell that a heading is the article's.

A sentence of ours copies an article sentence when their word-pair sets overlap by a Dice
coefficient (twice the shared pairs over the pairs of both) of `COPY_THRESHOLD` or more.
Quotations of up to `QUOTE_WORDS` words in double quotes, and titles in `*italics*`, are left
out first: notes quote the article to say what it got wrong, and questions name it by its title.

Maintainers remake the fingerprint when the article changes (CI checks it against the article
whenever ../shared/seed is there):

    python -m tests.fingerprint ../shared/seed           # write tests/data/article-fingerprint.json
    python -m tests.fingerprint ../shared/seed --check   # exit 1 if the file is out of date
    python -m tests.fingerprint ../shared/seed --check --compare   # and against fuzz.ratio

Both print how the threshold separates the article from the content: the lowest score of a
lazy copy (first word dropped, a middle word changed) of any article sentence, and the highest
score of any content sentence. Both numbers are recorded in the file.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import utils

ROOT = Path(__file__).resolve().parent.parent
FINGERPRINT = ROOT / "tests" / "data" / "article-fingerprint.json"
CONTENT = ROOT / "content"

COPY_THRESHOLD = 0.55
MIN_ARTICLE_SENTENCE_WORDS = 8
QUOTE_WORDS = 12
# Fields that are not prose of ours: ids and references, tags, names and titles (a section's
# title is the article's heading on purpose), and source citations.
NOT_PROSE = frozenset(
    {"id", "section", "related_terms", "tags", "name", "title", "aliases", "source", "sources"}
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def _quotation(opening: str, closing: str) -> str:
    opening, closing = re.escape(opening), re.escape(closing)
    word = rf"[^{closing}\s]"
    return rf"{opening}(?:{word}+\s+){{0,{QUOTE_WORDS - 1}}}{word}*{closing}"


_QUOTE = re.compile("|".join(_quotation(*marks) for marks in ('""', "“”", "**")))


def normalise(text: str) -> str:
    """Lower case, punctuation removed, white space folded (rapidfuzz's default_process)."""
    return " ".join(utils.default_process(text).split())


def split_sentences(text: str) -> list[str]:
    """Split at line breaks and at sentence ends; drop bullet and list markers."""
    sentences = []
    for line in text.splitlines():
        line = _LIST_MARKER.sub("", line).strip()
        sentences.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return sentences


def word_pairs(text: str) -> frozenset[int]:
    """The hashed pairs of neighbouring words of `text`, after normalising it."""
    words = normalise(text).split()
    return frozenset(_hash(f"{a} {b}") for a, b in itertools.pairwise(words))


def _hash(pair: str) -> int:
    return int.from_bytes(hashlib.blake2b(pair.encode(), digest_size=4).digest(), "big")


def line_hash(line: str) -> int:
    """One hashed line of the article (a heading, or a whole paragraph), after normalising it."""
    return _hash(normalise(line))


def dice(ours: frozenset[int], theirs: frozenset[int]) -> float:
    if not ours or not theirs:
        return 0.0
    return 2 * len(ours & theirs) / (len(ours) + len(theirs))


def make_fingerprint(article_texts: Iterable[str]) -> list[list[int]]:
    """The word-pair sets of every sentence of 8+ words, each sorted, in sorted order."""
    sets = {
        tuple(sorted(word_pairs(sentence)))
        for text in article_texts
        for sentence in split_sentences(text)
        if len(normalise(sentence).split()) >= MIN_ARTICLE_SENTENCE_WORDS
    }
    return sorted(list(pairs) for pairs in sets)


@dataclass(frozen=True)
class Copy:
    score: float
    where: str
    sentence: str


def copies(
    sentences: Iterable[tuple[str, str]],
    fingerprint: list[list[int]],
    threshold: float = COPY_THRESHOLD,
) -> list[Copy]:
    """Our `(where, sentence)`s that score `threshold` or more against an article sentence,
    most similar first."""
    article = [frozenset(pairs) for pairs in fingerprint]
    found = []
    for where, sentence in sentences:
        score = best_score(sentence, article)
        if score >= threshold:
            found.append(Copy(score, where, sentence))
    return sorted(found, key=lambda copy: -copy.score)


def best_score(sentence: str, article: list[frozenset[int]]) -> float:
    ours = word_pairs(_QUOTE.sub(" ", sentence))
    return max((dice(ours, theirs) for theirs in article), default=0.0)


# -- the content, read as plain YAML (independent of bot.loader) ------------------------------


def load_raw_content(content_dir: Path = CONTENT) -> dict[str, list[tuple[str, dict]]]:
    """Every entry of every top-level list in every `*.yaml` below `content_dir`:
    `{"facts": [(file name, entry), ...], "terms": [...], ...}`."""
    loaded: dict[str, list[tuple[str, dict]]] = {}
    for path in sorted(content_dir.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: the top level must be a mapping")
        for kind, entries in data.items():
            for entry in entries or []:
                loaded.setdefault(kind, []).append((path.name, entry))
    return loaded


def content_sentences(raw_content: dict[str, list[tuple[str, dict]]]) -> list[tuple[str, str]]:
    """`(where, sentence)` for every sentence of every text field of ours (see NOT_PROSE)."""
    found = []
    for kind, entries in raw_content.items():
        for file, entry in entries:
            for where, text in _prose(entry, f"{file}: {kind} {entry.get('id')}"):
                found.extend((where, sentence) for sentence in split_sentences(text))
    return found


def _prose(value: object, where: str, key: str = "") -> Iterator[tuple[str, str]]:
    if key in NOT_PROSE:
        return
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _prose(item, f"{where} {name}" if where else name, str(name))
    elif isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from _prose(item, f"{where} {number}", key)
    elif isinstance(value, str):
        yield where, value


# -- the maintainer command --------------------------------------------------------------------


def lazy_copy(sentence: str) -> str:
    """A careless copy: first word dropped, a middle word changed, case and punctuation off."""
    words = sentence.split()[1:]
    words[len(words) // 2] = "really"
    return " ".join(words).upper().rstrip(".") + "!"


def compare_with_ratio(sentences: list[str], article: list[frozenset[int]], seed: int = 2) -> str:
    """How this check compares with the one it replaced (rapidfuzz `fuzz.ratio` > 85 on the
    normalised sentences), on random edits of the article's own sentences: 1 to 4 words
    replaced, dropped or inserted, ten times each."""
    from rapidfuzz import fuzz

    rng = random.Random(seed)
    filler = ["state", "force", "mission", "council", "troops", "region", "peace", "law"]
    both = old_only = new_only = 0
    for sentence in sentences:
        original = normalise(sentence)
        for edits in (1, 2, 3, 4):
            for _ in range(10):
                words = original.split()
                for _ in range(edits):
                    where, how = rng.randrange(len(words)), rng.choice("rdi")
                    if how == "r":
                        words[where] = rng.choice(filler)
                    elif how == "d" and len(words) > 3:
                        del words[where]
                    else:
                        words.insert(where, rng.choice(filler))
                edited = " ".join(words)
                old = fuzz.ratio(edited, original) > 85
                new = best_score(edited, article) >= COPY_THRESHOLD
                both += old and new
                old_only += old and not new
                new_only += new and not old
    caught_before = both + old_only
    lazy = min(fuzz.ratio(normalise(lazy_copy(s)), normalise(s)) for s in sentences)
    return (
        f"of {caught_before} edits that fuzz.ratio > 85 caught, this check catches {both} "
        f"({both / caught_before:.1%}); it also catches {new_only} that fuzz.ratio missed; "
        f"fuzz.ratio scores a lazy copy as low as {lazy:.1f}"
    )


def _long_sentences(seed_dir: Path) -> list[str]:
    return [
        sentence
        for path in sorted(seed_dir.glob("*.txt"))
        for sentence in split_sentences(path.read_text(encoding="utf-8"))
        if len(normalise(sentence).split()) >= MIN_ARTICLE_SENTENCE_WORDS
    ]


def build(seed_dir: Path) -> dict:
    files = sorted(seed_dir.glob("*.txt"))
    if not files:
        raise SystemExit(f"no *.txt source article in {seed_dir}")
    texts = [path.read_text(encoding="utf-8") for path in files]
    fingerprint = make_fingerprint(texts)
    article = [frozenset(pairs) for pairs in fingerprint]
    long_sentences = _long_sentences(seed_dir)
    lowest_copy = min(best_score(lazy_copy(s), article) for s in long_sentences)
    ours = content_sentences(load_raw_content())
    highest_ours = max(best_score(s, article) for _, s in ours)
    return {
        "about": "Hashed word pairs of each source-article sentence of 8+ words (see "
        "tests/fingerprint.py); made by `python -m tests.fingerprint SEED_DIR`.",
        "article_files": [path.name for path in files],
        "calibration": {
            "threshold": COPY_THRESHOLD,
            "lowest_lazy_copy_score": round(lowest_copy, 3),
            "highest_content_score": round(highest_ours, 3),
            "content_sentences": len(ours),
        },
        # So tests can tell that a heading is the article's, without the article.
        "lines": sorted(
            {line_hash(line) for text in texts for line in text.splitlines() if normalise(line)}
        ),
        "sentences": fingerprint,
    }


def render(made: dict) -> str:
    """JSON with one article sentence per line, so a change shows as a readable diff."""
    head = (
        json.dumps(
            {k: json.dumps(v) if k == "lines" else v for k, v in made.items() if k != "sentences"},
            indent=2,
        )
        .replace('"[', "[")
        .replace(']"', "]")
    )
    rows = ",\n".join(f"    {json.dumps(pairs)}" for pairs in made["sentences"])
    return f'{head[:-2]},\n  "sentences": [\n{rows}\n  ]\n}}\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fingerprint", description=__doc__)
    parser.add_argument("seed_dir", type=Path, help="the folder holding the article (*.txt)")
    parser.add_argument("--output", type=Path, default=FINGERPRINT, help=f"default {FINGERPRINT}")
    parser.add_argument("--check", action="store_true", help="only check the file is current")
    parser.add_argument(
        "--compare", action="store_true", help="also compare with the fuzz.ratio check it replaced"
    )
    args = parser.parse_args(argv)
    made = build(args.seed_dir)
    if args.compare:
        article = [frozenset(pairs) for pairs in made["sentences"]]
        print(compare_with_ratio(_long_sentences(args.seed_dir), article))
    calibration = made["calibration"]
    print(
        f"{len(made['sentences'])} article sentences; a lazy copy of any of them scores at "
        f"least {calibration['lowest_lazy_copy_score']}, no content sentence more than "
        f"{calibration['highest_content_score']} (threshold {COPY_THRESHOLD})"
    )
    if args.check:
        shipped = json.loads(args.output.read_text(encoding="utf-8"))
        if (shipped["sentences"], shipped["lines"]) != (made["sentences"], made["lines"]):
            print(f"{args.output} is out of date: run python -m tests.fingerprint", file=sys.stderr)
            return 1
        print(f"{args.output} matches the article")
        return 0
    args.output.write_text(render(made), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
