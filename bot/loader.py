"""Load and validate a content directory into a `Library`, reporting every problem at once."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import typing
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.config import content_dir
from bot.content import (
    EARLIEST_YEAR,
    ID_PATTERN,
    LATEST_YEAR,
    TABLES,
    Library,
    QuizQuestion,
    Source,
    Term,
    parse_period,
)
from bot.text import normalise

_ID = re.compile(rf"^{ID_PATTERN}$")
# Discord rejects an embed whose text adds up to more than 6000 characters; leave room for
# the footer and field names the renderer adds.
_EMBED_BUDGET = 5500


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if not self.line:  # about the whole file or folder
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """The content directory has problems; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~10x faster


class _TextLoader(_BaseLoader):
    """Every plain scalar stays a string (so `No`, `on` and `1945` are text); only `~`/`null`
    and empty values mean "absent"."""


_TextLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# Files and folders a content directory may hold below it: far more than any library needs,
# and reached within a second when someone points `peacebot check` at `/` or a home folder.
MAX_ENTRIES = 10_000


def default_content_dir() -> Traversable:
    """Where content is read from when no directory is given (PEACEBOT_CONTENT or bundled)."""
    return content_dir()


def load_library(directory: Traversable | str | os.PathLike[str] | None = None) -> Library:
    """Load every `*.yaml` below `directory` (a folder, or a package's resources from
    `importlib.resources`); raise `ContentError` listing every problem."""
    if directory is None:
        root = default_content_dir()
    elif isinstance(directory, str | os.PathLike):
        root = Path(directory)
    else:
        root = directory
    if not root.is_dir():
        raise ContentError([Problem(display_path(root), 0, "content directory not found")])
    files, problems = _yaml_files(root)
    if not files and not problems:
        raise ContentError(
            [Problem(display_path(root), 0, "no *.yaml files in the content directory")]
        )
    builder = _Builder()
    builder.problems += problems
    for path in files:
        builder.read_file(path)
    return builder.finish()


def display_path(place: Traversable) -> str:
    """A file or folder as problems name it: relative to the working directory when it lies
    below it, so it can be opened as printed, else in full."""
    if not isinstance(place, Path):
        return str(place)  # e.g. inside a zip file
    full = place.absolute()
    try:
        return str(full.relative_to(Path.cwd()))
    except (ValueError, OSError):  # elsewhere, or the working directory is gone
        return str(full)


def _yaml_files(root: Traversable) -> tuple[list[Traversable], list[Problem]]:
    """Every `*.yaml` file below `root`, and a problem for each folder that cannot be read."""
    files: list[Traversable] = []
    problems: list[Problem] = []
    folders, seen = [root], 0
    while folders:
        folder = folders.pop()
        try:
            entries = list(folder.iterdir())
        except OSError as exc:
            reason = exc.strerror or str(exc)
            problems.append(Problem(display_path(folder), 0, f"cannot read this folder: {reason}"))
            continue
        seen += len(entries)
        if seen > MAX_ENTRIES:
            message = f"more than {MAX_ENTRIES:,} files and folders below it; not a content folder"
            raise ContentError([Problem(display_path(root), 0, message)])
        for entry in entries:
            if entry.is_dir():
                if not (isinstance(entry, Path) and entry.is_symlink()):  # as rglob: no loops
                    folders.append(entry)
            elif entry.name.endswith(".yaml") and entry.is_file():
                files.append(entry)
    return sorted(files, key=display_path), problems


class _Builder:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.entries: dict[str, list[tuple[object, str, int]]] = {t: [] for t in TABLES}
        self.where: dict[str, tuple[str, int]] = {}  # id -> first place it was defined
        self.refs: list[tuple[str, str, str, int]] = []  # (table, id, file, line)

    def report(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def read_file(self, path: Traversable) -> None:
        name = display_path(path)
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_TextLoader)
        except UnicodeDecodeError as exc:
            self.report(name, 1, f"not UTF-8 text ({exc.reason})")
            return
        except OSError as exc:
            self.report(name, 0, f"cannot read this file: {exc.strerror or exc}")
            return
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            self.report(name, line, f"YAML syntax error: {exc.problem or exc}")
            return
        except yaml.YAMLError as exc:
            self.report(name, 1, f"YAML error: {exc}")
            return
        if root is None:
            return  # an empty file is allowed (e.g. a placeholder)
        if not isinstance(root, yaml.MappingNode):
            self.report(name, _line(root), f"expected a mapping with keys {', '.join(TABLES)}")
            return
        for key, value in self.mapping(name, root):
            table = key.value
            if table not in TABLES:
                self.report(name, _line(key), f"unknown top-level key {table!r}")
            elif not isinstance(value, yaml.SequenceNode):
                self.report(name, _line(value), f"{table}: expected a list of entries")
            else:
                for node in value.value:
                    self.read_entry(name, table, node)

    def mapping(self, name: str, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        seen: set[str] = set()
        pairs = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.report(name, _line(key), "keys must be plain words")
                continue
            if key.value in seen:
                self.report(name, _line(key), f"duplicate key {key.value!r}")
                continue
            seen.add(key.value)
            pairs.append((key, value))
        return pairs

    def read_entry(self, name: str, table: str, node: yaml.Node) -> None:
        model = TABLES[table]
        if not isinstance(node, yaml.MappingNode):
            self.report(name, _line(node), f"{table}: each entry must be a mapping of fields")
            return
        id_node = next((v for k, v in node.value if getattr(k, "value", None) == "id"), None)
        label = f"{table}[{id_node.value}]" if isinstance(id_node, yaml.ScalarNode) else table
        where = _line(node)
        if isinstance(id_node, yaml.ScalarNode) and not _ID.fullmatch(id_node.value.strip()):
            self.report(
                name, where, f"id {id_node.value!r}: use lower-case words joined by hyphens"
            )  # also when the entry has other problems: every problem in one run
        values = self.read_fields(name, model, node, context=label)
        if values is None:
            return
        entry_id = values.get("id", "?")
        if entry_id in self.where:
            first = self.where[entry_id]
            self.report(name, where, f"duplicate id {entry_id!r} (first at {first[0]}:{first[1]})")
            return
        self.where[entry_id] = (name, where)
        entry = model(**values)
        if isinstance(entry, QuizQuestion):
            self.check_quiz(name, where, entry)
        if isinstance(entry, Term):
            lines = {k.value: _line(v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            self.check_mission_dates(name, lines, entry)
        size = sum(len(str(v)) for v in values.values())
        if size > _EMBED_BUDGET:
            self.report(name, where, f"{entry_id}: {size} characters is more than one embed shows")
        self.entries[table].append((entry, name, where))

    def read_fields(
        self, name: str, model: type, node: yaml.MappingNode, context: str
    ) -> dict[str, object] | None:
        fields, hints = _declared(model)
        values: dict[str, object] = {}
        present: set[str] = set()
        ok = True
        for key, value in self.mapping(name, node):
            present.add(key.value)
            field = fields.get(key.value)
            if field is None:
                allowed = ", ".join(fields)
                self.report(name, _line(key), f"{context}: unknown key {key.value!r} ({allowed})")
                ok = False
                continue
            converted = self.convert(
                name, f"{context}.{key.value}", value, hints[field.name], field
            )
            if converted is _INVALID:
                ok = False
            elif converted is not None:
                values[field.name] = converted
        for field in fields.values():
            if field.name not in present and field.default is dataclasses.MISSING:
                self.report(name, _line(node), f"{context}: missing required key {field.name!r}")
                ok = False
        return values if ok else None

    def convert(
        self, name: str, where: str, node: yaml.Node, hint: object, field: dataclasses.Field
    ) -> object:
        meta = field.metadata
        optional = type(None) in typing.get_args(hint)
        if optional:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if _is_null(node):
            if optional or field.default is not dataclasses.MISSING:
                return None
            self.report(name, _line(node), f"{where}: a value is required")
            return _INVALID
        if typing.get_origin(hint) is tuple:
            if not isinstance(node, yaml.SequenceNode):
                self.report(name, _line(node), f"{where}: expected a list")
                return _INVALID
            low, high = meta["items"] or (0, 1000)
            if not low <= len(node.value) <= high:
                self.report(
                    name, _line(node), f"{where}: needs {low}-{high} items, has {len(node.value)}"
                )
                return _INVALID
            item_hint = typing.get_args(hint)[0]
            items = [self.convert(name, where, item, item_hint, field) for item in node.value]
            if _INVALID in items or None in items:
                if None in items:
                    self.report(name, _line(node), f"{where}: list items must not be empty")
                return _INVALID
            return tuple(items)
        if hint is Source:
            if not isinstance(node, yaml.MappingNode):
                self.report(name, _line(node), f"{where}: expected a mapping with title and url")
                return _INVALID
            values = self.read_fields(name, Source, node, context=where)
            if values is None:
                return _INVALID
            url = values.get("url")
            if isinstance(url, str) and not _is_web_address(url):
                self.report(name, _line(node), f"{where}.url {url!r}: not an http(s) address")
                return _INVALID
            return Source(**values)
        if not isinstance(node, yaml.ScalarNode):
            self.report(name, _line(node), f"{where}: expected text")
            return _INVALID
        text = " ".join(node.value.split()) if "\n" in node.value else node.value.strip()
        if not text:
            self.report(name, _line(node), f"{where}: must not be empty")
            return _INVALID
        if len(text) > meta["max_len"]:
            self.report(
                name, _line(node), f"{where}: {len(text)} characters, at most {meta['max_len']}"
            )
            return _INVALID
        if meta["pattern"] and not re.match(meta["pattern"][0], text):
            self.report(name, _line(node), f"{where}: {text!r} is not {meta['pattern'][1]}")
            return _INVALID
        if meta["choices"] and text not in meta["choices"]:
            allowed = ", ".join(meta["choices"])
            self.report(name, _line(node), f"{where}: {text!r} is not one of: {allowed}")
            return _INVALID
        if meta["ref"] and not typing.get_origin(hint):
            self.refs.append((meta["ref"], text, name, _line(node)))
        return text

    def check_quiz(self, name: str, line: int, question: QuizQuestion) -> None:
        folded = [normalise(c) for c in question.choices]
        if len(set(folded)) != len(folded):
            self.report(name, line, f"{question.id}: choices must be distinct")
        if question.answer not in question.choices:
            self.report(
                name, line, f"{question.id}: answer {question.answer!r} is not one of the choices"
            )
        if question.hint and f" {normalise(question.answer)} " in f" {normalise(question.hint)} ":
            self.report(name, line, f"{question.id}: the hint gives the answer away")

    def check_mission_dates(self, name: str, lines: dict[str, int], term: Term) -> None:
        """Years within bounds, an end only after a start and not before it, no self-mandate."""
        for key in ("started", "ended"):
            value = getattr(term, key)
            if value and not EARLIEST_YEAR <= parse_period(value)[0] <= LATEST_YEAR:
                self.report(
                    name,
                    lines[key],
                    f"terms[{term.id}].{key}: year {value[:4]} is outside "
                    f"{EARLIEST_YEAR}-{LATEST_YEAR}",
                )
        if term.ended and not term.started:
            self.report(name, lines["ended"], f"terms[{term.id}].ended: needs 'started' too")
        elif term.ended and _latest(term.ended) < _earliest(term.started):
            self.report(
                name,
                lines["ended"],
                f"terms[{term.id}].ended: {term.ended} is before started {term.started}",
            )
        if term.mandate == term.id:
            self.report(name, lines["mandate"], f"terms[{term.id}].mandate: names the term itself")

    def finish(self) -> Library:
        tables = {t: [e for e, _, _ in rows] for t, rows in self.entries.items()}
        known = {t: {e.id for e in entries} for t, entries in tables.items()}
        for table, ref_id, name, line in self.refs:
            if ref_id not in known[table]:
                kind = table.rstrip("s")
                self.report(name, line, f"unknown {kind} {ref_id!r}")
        self.check_names()
        if self.problems:
            raise ContentError(self.problems)
        origins = {entry_id: f"{name}:{line}" for entry_id, (name, line) in self.where.items()}
        return Library(**tables, origins=origins)

    def check_names(self) -> None:
        """Names and aliases of sections and terms must lead to exactly one entry."""
        owner: dict[str, tuple[str, str, int]] = {}
        for table in ("sections", "terms"):
            for entry, name, line in self.entries[table]:
                for label in dict.fromkeys((entry.name, *entry.aliases)):
                    key = normalise(label)
                    if not key:
                        self.report(name, line, f"{entry.id}: {label!r} has no letters or digits")
                        continue
                    first = owner.setdefault(key, (entry.id, name, line))
                    if first[0] != entry.id:
                        self.report(
                            name,
                            line,
                            f"{entry.id}: name or alias {label!r} collides with {first[0]!r} "
                            f"({first[1]}:{first[2]})",
                        )


_INVALID = object()


@functools.cache
def _declared(model: type) -> tuple[dict[str, dataclasses.Field], dict[str, object]]:
    return {f.name: f for f in dataclasses.fields(model)}, typing.get_type_hints(model)


def _earliest(value: str) -> tuple[int, int]:
    year, month = parse_period(value)
    return year, month or 1


def _latest(value: str) -> tuple[int, int]:
    year, month = parse_period(value)
    return year, month or 12


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _is_web_address(url: str) -> bool:
    """http or https, with a host name: what a reader can open from Discord."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url
    except ValueError:  # e.g. a malformed IPv6 host
        return False


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
