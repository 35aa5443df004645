"""Evaluation files: JSONL, CSV or YAML with one question per row, read into ``EvalRow`` rows.

A bad row is kept aside with its line (``BadRow``), not fatal; a file that cannot be used at all
raises ``EvalFileError`` saying what was wrong and how to fix it. Unknown columns are warnings.

>>> loaded = load_rows("knowledge/eval/faq.jsonl")  # doctest: +SKIP
>>> loaded.rows[0].question, loaded.bad, loaded.warnings  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import EvalFileError

KNOWN_COLUMNS = {
    "question", "history", "expect_route", "expect_doc", "expect_abstain", "expect_scam",
    "must_include", "must_not_include", "lang", "tags", "id",
    "expect_clarify", "expect_parts", "expect_no_scam_after", "expect_handoff",
}  # fmt: skip
LIST_COLUMNS = ("history", "expect_doc", "must_include", "must_not_include", "tags",
                "expect_parts")  # fmt: skip
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}


@dataclass(frozen=True)
class BadRow:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class EvalRow:
    question: str
    line: int = 0
    history: tuple[dict[str, str], ...] = ()
    expect_route: str | None = None
    expect_doc: tuple[str, ...] = ()
    expect_abstain: bool | None = None
    expect_scam: bool | None = None
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    lang: str | None = None
    tags: tuple[str, ...] = ()
    id: str | None = None
    expect_clarify: bool | None = None  # the answer asks what the message is about
    expect_parts: tuple[str, ...] = ()  # several questions: the entry each part is answered from
    expect_no_scam_after: bool | None = None  # a scam story in the history, an ordinary question
    expect_handoff: bool | None = None  # the official channels (95188, in-app service)

    @classmethod
    def from_dict(cls, data: dict[str, Any], line: int = 0) -> EvalRow:
        q = data.get("question")
        if not isinstance(q, str) or not q.strip():
            raise ValueError("'question' is required and must be non-empty text")

        def strs(key: str) -> tuple[str, ...]:
            value = data.get(key)
            if value in (None, ""):
                return ()
            if isinstance(value, str):
                return (value,)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise ValueError(f"'{key}' must be text or a list of texts")

        def flag(key: str) -> bool | None:
            value = data.get(key)
            if value in (None, ""):
                return None
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in ("true", "1", "yes"):
                return True
            if str(value).strip().lower() in ("false", "0", "no"):
                return False
            raise ValueError(f"'{key}' must be true or false, got {value!r}")

        history = data.get("history") or []
        if not isinstance(history, list) or not all(
            isinstance(m, dict) and "role" in m and "content" in m for m in history
        ):
            raise ValueError("'history' must be a list of {role, content} messages")
        route = data.get("expect_route")
        if route not in (None, "", "knowledge", "whatif", "out_of_scope", "conversation"):
            raise ValueError(
                f"'expect_route' must be knowledge, whatif, out_of_scope or conversation: {route!r}"
            )
        lang = data.get("lang")
        if lang not in (None, "", "zh", "en"):
            raise ValueError(f"'lang' must be zh or en, got {lang!r}")
        phrases = {key: strs(key) for key in ("must_include", "must_not_include")}
        for key, values in phrases.items():
            for p in values:
                if p.startswith("re:"):
                    try:
                        re.compile(p[3:])
                    except re.error as exc:
                        raise ValueError(f"'{key}': bad regular expression {p!r}: {exc}") from None
        row_id = data.get("id")
        return cls(
            question=q,
            line=line,
            history=tuple({"role": str(m["role"]), "content": str(m["content"])} for m in history),
            expect_route=route or None,
            expect_doc=strs("expect_doc"),
            expect_abstain=flag("expect_abstain"),
            expect_scam=flag("expect_scam"),
            must_include=phrases["must_include"],
            must_not_include=phrases["must_not_include"],
            lang=lang or None,
            tags=strs("tags"),
            id=None if row_id in (None, "") else str(row_id),
            expect_clarify=flag("expect_clarify"),
            expect_parts=strs("expect_parts"),
            expect_no_scam_after=flag("expect_no_scam_after"),
            expect_handoff=flag("expect_handoff"),
        )


# -- loading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedRows:
    path: Path
    rows: list[EvalRow]
    bad: list[BadRow]
    warnings: list[str]


def load_rows(path: Path | str) -> LoadedRows:
    """Read an evaluation file (.jsonl, .csv, .yaml) into rows; bad rows are kept aside.

    >>> loaded = load_rows("faq.csv")  # question,expect_doc,tags  # doctest: +SKIP
    >>> loaded.rows[0].line, [str(b) for b in loaded.bad]  # doctest: +SKIP
    (2, ["line 7: 'question' is required and must be non-empty text"])
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise EvalFileError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
            "use .jsonl, .csv or .yaml"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EvalFileError(f"{path}: no such file; check the path") from None
    except UnicodeDecodeError as exc:
        raise EvalFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read it ({exc.strerror}); check the path") from None
    empty = f"{path}: the file has no questions; add one row per question (docs/evaluation.md)"
    if not text.strip():
        raise EvalFileError(empty)
    reader = {"jsonl": _read_jsonl, "csv": _read_csv, "yaml": _read_yaml}[kind]
    records, bad = reader(path, text)
    rows: list[EvalRow] = []
    unknown: dict[str, int] = {}
    for line, data in records:
        for key in data:
            if key not in KNOWN_COLUMNS:
                unknown.setdefault(str(key), line)
        try:
            rows.append(EvalRow.from_dict(data, line))
        except ValueError as exc:
            bad.append(BadRow(line, str(exc)))
    if not rows and not bad:
        raise EvalFileError(empty)
    warnings = []
    for key, line in unknown.items():
        close = difflib.get_close_matches(key, sorted(KNOWN_COLUMNS), n=1)
        known = ", ".join(sorted(KNOWN_COLUMNS))
        hint = f"did you mean {close[0]!r}?" if close else f"known columns: {known}"
        warnings.append(f"{path}: unknown column {key!r} (line {line}) is ignored; {hint}")
    return LoadedRows(path, rows, sorted(bad, key=lambda b: b.line), warnings)


Records = tuple[list[tuple[int, dict[str, Any]]], list[BadRow]]


def _read_jsonl(path: Path, text: str) -> Records:
    records, bad = [], []
    for i, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(i, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        if isinstance(data, dict):
            records.append((i, data))
        else:
            bad.append(BadRow(i, 'expected a JSON object such as {"question": "..."}'))
    return records, bad


def _read_csv(path: Path, text: str) -> Records:
    """CSV with a header line; list cells are JSON (``["a","b"]``) or ``a|b``."""
    reader = csv.reader(io.StringIO(text))
    records: list[tuple[int, dict[str, Any]]] = []
    bad: list[BadRow] = []
    try:
        header = [h.strip() for h in next(reader)]
        if "question" not in header:
            raise EvalFileError(
                f"{path}:1: the header has no 'question' column; the first line names the "
                "columns, e.g. question,expect_route,expect_doc,tags"
            )
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                bad.append(BadRow(line, f"{len(cells)} cells but the header has {len(header)}"))
                continue
            try:
                pairs = zip(header, cells, strict=False)  # missing trailing cells are empty
                data = {k: _csv_cell(k, c.strip()) for k, c in pairs if k and c.strip()}
            except ValueError as exc:
                bad.append(BadRow(line, str(exc)))
                continue
            records.append((line, data))
    except csv.Error as exc:
        raise EvalFileError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    return records, bad


def _csv_cell(key: str, cell: str) -> Any:
    if key not in LIST_COLUMNS:
        return cell
    if cell.startswith("["):
        try:
            return json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValueError(f"'{key}': not a valid JSON list ({exc.msg})") from None
    if key == "history":
        raise ValueError("'history' in CSV must be JSON: [{\"role\": ..., \"content\": ...}]")
    return [part.strip() for part in cell.split("|") if part.strip()]


def _read_yaml(path: Path, text: str) -> Records:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise EvalFileError(f"{path}{where}: not valid YAML ({problem}); fix the syntax") from None
    if data is None:
        return [], []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise EvalFileError(f"{path}: YAML must be a list of rows, e.g. '- question: ...'")
    records, bad = [], []
    for item, item_node in zip(data, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if isinstance(item, dict):
            records.append((line, item))
        else:
            bad.append(BadRow(line, "expected a mapping such as 'question: ...'"))
    return records, bad
