"""Load and validate the Markdown knowledge base.

Every problem is reported as an :class:`EntryError` naming the file, the field and the line; a bad
file is skipped and the others still load.

>>> result = load_knowledge()            # the bundled entries
>>> result.errors
[]

Run ``python -m knowledge.loader [DIR]`` to check a folder.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge.entry import MIN_QUESTIONS, REQUIRED_FIELDS, Entry, Section
from knowledge.lexicon import GENERAL, load_lexicon

ENTRIES_DIR = Path(__file__).resolve().parent / "entries"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
_HEADINGS = {"zh": "## 中文", "en": "## English"}
# libyaml's safe loader when PyYAML was built with it (5x faster on 300 entries), else Python's
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class EntryError:
    path: Path
    field: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: field '{self.field}': {self.message}"


@dataclass(frozen=True)
class LoadResult:
    entries: list[Entry]
    errors: list[EntryError]

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}


class _Invalid(Exception):
    def __init__(self, field: str, line: int, message: str) -> None:
        super().__init__(message)
        self.field, self.line, self.message = field, line, message


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (yaml text, body, line number where the body starts)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise _Invalid("front matter", 1, "the file must start with a '---' line")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise _Invalid("front matter", 1, "no closing '---' line after the YAML front matter")


def _key_lines(yaml_text: str) -> dict[str, int]:
    """Map each top-level key to its 1-based line in the file (front matter starts at line 2)."""
    node = yaml.compose(yaml_text, Loader=_LOADER)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 2 for k, _ in node.value if isinstance(k.value, str)}


LineOf = Callable[[str], int]  # a key's line in the file, worked out only for an error message


def _str_list(meta: dict[str, Any], key: str, line: LineOf, minimum: int = 1
              ) -> tuple[str, ...]:
    value = meta[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _Invalid(key, line(key), "must be a list of strings")
    items = tuple(str(v).strip() for v in value if str(v).strip())
    if len(items) < minimum:
        raise _Invalid(key, line(key),
                       f"needs at least {minimum} non-empty items, found {len(items)}")
    return items


def _parse_sections(body: str, body_line: int) -> dict[str, Section]:
    positions = {lang: body.find(h) for lang, h in _HEADINGS.items()}
    sections: dict[str, Section] = {}
    for lang, heading in _HEADINGS.items():
        start = positions[lang]
        if start < 0:
            raise _Invalid(f"body:{lang}", body_line, f"missing the '{heading}' section")
        end_candidates = [p for p in positions.values() if p > start]
        chunk = body[start + len(heading) : min(end_candidates, default=len(body))]
        verdict_lines: list[str] = []
        points: list[str] = []
        for raw in chunk.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith(("- ", "* ")):
                points.append(line[2:].strip())
            elif points:  # continuation of the previous bullet
                points[-1] = f"{points[-1]} {line}"
            else:
                verdict_lines.append(line)
        verdict = " ".join(verdict_lines).strip()
        if not verdict:
            line_no = body_line + body[:start].count("\n")
            raise _Invalid(
                f"body:{lang}", line_no, f"'{heading}' must open with a verdict sentence"
            )
        sections[lang] = Section(verdict=verdict, points=tuple(points))
    return sections


def parse_entry(path: Path) -> Entry:
    """Parse one file; raise ``_Invalid`` on the first problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Invalid("file", 1, f"cannot be read as UTF-8 text: {exc}") from exc
    yaml_text, body, body_line = _split_front_matter(text)
    try:
        meta = yaml.load(yaml_text, Loader=_LOADER)  # a safe loader, C or Python
    except yaml.YAMLError as fast_error:
        error: yaml.YAMLError = fast_error
        try:  # the pure-Python loader points at the line a person would look at
            yaml.safe_load(yaml_text)
        except yaml.YAMLError as slow_error:
            error = slow_error
        mark = getattr(error, "problem_mark", None)
        where = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise _Invalid("front matter", where, f"broken YAML: {problem}") from error
    if not isinstance(meta, dict):
        raise _Invalid("front matter", 2, "must be a YAML mapping of field: value")

    def line(key: str) -> int:
        # where a key is, for error messages only: composed again, only when one is raised (it
        # is passed uncalled: composing every file six times was a third of `mingbai index`)
        return _key_lines(yaml_text).get(key, 2)

    for key in REQUIRED_FIELDS:
        if key not in meta or meta[key] in (None, "", []):
            raise _Invalid(key, line(key), "is missing or empty (required field)")

    entry_id = str(meta["id"]).strip()
    if not _ID_RE.match(entry_id):
        raise _Invalid("id", line("id"), "use lower-case letters, digits and '-' (3-80 chars)")
    if entry_id != path.stem:
        raise _Invalid("id", line("id"), f"is {entry_id!r} but the file is named {path.name!r}")
    reviewed = meta["reviewed"]
    if isinstance(reviewed, str):
        try:
            reviewed = date.fromisoformat(reviewed)
        except ValueError as exc:
            raise _Invalid("reviewed", line("reviewed"), "must be a date like 2026-11-28") from exc
    if not isinstance(reviewed, date):
        raise _Invalid("reviewed", line("reviewed"), "must be a date like 2026-11-28")
    for key in ("title_zh", "title_en"):
        if not isinstance(meta[key], str):
            raise _Invalid(key, line(key), "must be a string")
    sections = _parse_sections(body, body_line)
    lexicon = load_lexicon()
    products = _vocabulary(meta, "products", line, {*lexicon.products, GENERAL})
    if GENERAL in products and len(products) > 1:
        raise _Invalid("products", line("products"), f"'{GENERAL}' cannot be combined with others")
    actions = _vocabulary(meta, "actions", line, set(lexicon.actions), minimum=0)
    return Entry(
        id=entry_id,
        title_zh=meta["title_zh"].strip(),
        title_en=meta["title_en"].strip(),
        tags=tuple(t.lower() for t in _str_list(meta, "tags", line)),
        questions_zh=_str_list(meta, "questions_zh", line, MIN_QUESTIONS),
        questions_en=_str_list(meta, "questions_en", line, MIN_QUESTIONS),
        sources=_str_list(meta, "sources", line),
        reviewed=reviewed,
        zh=sections["zh"],
        en=sections["en"],
        path=path,
        products=frozenset(products - {GENERAL}),
        actions=frozenset(actions),
    )


def _vocabulary(
    meta: dict[str, Any], key: str, line: LineOf, valid: set[str], minimum: int = 1
) -> set[str]:
    """A list field whose values must come from the lexicon (knowledge/lexicon.yaml)."""
    if key not in meta:
        if minimum:
            raise _Invalid(key, line(key), "is missing (required field)")
        return set()
    values = set(_str_list(meta, key, line, minimum)) if meta[key] not in (None, []) else set()
    unknown = sorted(values - valid)
    if unknown:
        raise _Invalid(
            key, line(key),
            f"unknown value(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))} "
            "(add new ones to knowledge/lexicon.yaml)"
        )
    return values


def entry_file(entry_id: str, directory: Path | None = None) -> Path:
    """The file of one entry, wherever it sits in the folder tree (entries/<product>/<topic>/)."""
    found = sorted((directory or ENTRIES_DIR).rglob(f"{entry_id}.md"))
    if not found:
        raise FileNotFoundError(f"no entry file {entry_id}.md under {directory or ENTRIES_DIR}")
    return found[0]


def load_knowledge(directory: Path | None = None) -> LoadResult:
    """Load every ``*.md`` entry under ``directory``, sub-folders included (default: bundled)."""
    directory = directory or ENTRIES_DIR
    if not directory.is_dir():
        err = EntryError(directory, "directory", 0, "knowledge folder does not exist")
        return LoadResult([], [err])
    entries: list[Entry] = []
    errors: list[EntryError] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.rglob("*.md")):
        try:
            entry = parse_entry(path)
        except _Invalid as exc:
            errors.append(EntryError(path, exc.field, exc.line, exc.message))
            continue
        if entry.id in seen:
            line = _key_lines(_split_front_matter(path.read_text(encoding="utf-8"))[0]).get("id", 2)
            errors.append(
                EntryError(path, "id", line, f"duplicate id {entry.id!r}: also in {seen[entry.id]}")
            )
            continue
        seen[entry.id] = path
        entries.append(entry)
    return LoadResult(entries, errors)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    result = load_knowledge(Path(args[0]) if args else None)
    for err in result.errors:
        print(err, file=sys.stderr)
    print(f"{len(result.entries)} entries loaded, {len(result.errors)} errors")
    return 1 if result.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
