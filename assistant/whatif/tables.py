"""The decision tables of the rules file, read for planning: which row a value falls in.

zen-engine evaluates the whole graph (``engine.Rules.evaluate``); the planner and the band finder
also need to ask one table about one value ("how many points would 20% utilization give?") many
times. ``compile_table`` compiles each cell once with zen's expression engine and ``match`` finds
the first row a value matches (a one-input table on a bounded integer field keeps a lookup of
every allowed value, computed by zen itself at load). Nothing here imports zen: the caller passes
it in (``ExpressionCompiler``).

>>> get_path({"band": {"name": "good"}}, "band.name"), get_path({}, "band.name")
('good', None)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from assistant.whatif.fields import FIELD_SPECS

_LITERAL = re.compile(r"""^\s*(-?\d+(\.\d+)?|'[^']*'|"[^"]*"|true|false|null)\s*$""")


class CompiledExpression(Protocol):
    """A cell compiled by zen (``zen.Expression``)."""

    def evaluate(self, context: Any = None) -> Any: ...


class ExpressionCompiler(Protocol):
    """The part of zen the runner needs; the ``zen`` module itself fits."""

    def compile_expression(self, expression: str) -> CompiledExpression: ...

    def compile_unary_expression(self, expression: str) -> CompiledExpression: ...

    def evaluate_expression(self, expression: str) -> Any: ...


@dataclass(frozen=True)
class Row:
    rule_id: str
    # (input field, compiled unary expression or None = any)
    tests: tuple[tuple[str, CompiledExpression | None], ...]
    outputs: tuple[tuple[str, Any, bool], ...]  # (output path, value or expression, is_literal)


@dataclass(frozen=True)
class Table:
    node_id: str
    name: str
    rows: tuple[Row, ...]
    output_fields: tuple[str, ...]
    # For a one-input table on a bounded integer profile field: the matched row (or -1) of every
    # allowed value, computed once at load by zen itself; other values use the cells.
    lookup_field: str | None = None
    lookup: tuple[int, ...] = ()


# -- paths ---------------------------------------------------------------------------------------
def get_path(data: Mapping[str, Any], path: str) -> Any:
    """``data["a"]["b"]`` for ``a.b``; None if any part is missing."""
    cur: Any = data
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


# -- compiling -----------------------------------------------------------------------------------
def compile_table(zen: ExpressionCompiler, node: Mapping[str, Any]) -> Table:
    """A decision table node with every cell compiled (the caller checks input fields first)."""
    content = node["content"]
    inputs = [(c["id"], c.get("field")) for c in content.get("inputs", [])]
    outputs = [(c["id"], c["field"]) for c in content.get("outputs", [])]
    rows = []
    for i, rule in enumerate(content.get("rules", [])):
        tests = tuple(
            (field, zen.compile_unary_expression(cell) if (cell := rule.get(cid, "")).strip()
             else None)
            for cid, field in inputs
        )
        outs = []
        for cid, field in outputs:
            cell = (rule.get(cid) or "").strip()
            if not cell or _LITERAL.match(cell):
                outs.append((field, zen.evaluate_expression(cell) if cell else None, True))
            else:
                outs.append((field, zen.compile_expression(cell), False))
        rows.append(Row(str(rule.get("_id", f"row{i + 1}")), tests, tuple(outs)))
    table = Table(node["id"], str(node.get("name", node["id"])), tuple(rows),
                  tuple(f for _, f in outputs))
    spec = FIELD_SPECS.get(inputs[0][1]) if len(inputs) == 1 else None
    if spec is not None and spec.kind is int and spec.maximum is not None:
        lo, hi = int(spec.minimum), int(spec.maximum)
        lookup = tuple(
            -1 if (hit := match_cells(table, {spec.name: v})) is None else hit
            for v in range(lo, hi + 1)
        )
        table = replace(table, lookup_field=spec.name, lookup=lookup)
    return table


def match(table: Table, data: Mapping[str, Any]) -> int | None:
    """The first row of ``table`` that ``data`` matches (None if none does)."""
    if table.lookup_field is not None:
        value = data.get(table.lookup_field)
        spec = FIELD_SPECS[table.lookup_field]
        if type(value) is int and spec.minimum <= value <= len(table.lookup) - 1 + spec.minimum:
            hit = table.lookup[value - int(spec.minimum)]
            return None if hit < 0 else hit
    return match_cells(table, data)


def match_cells(table: Table, data: Mapping[str, Any]) -> int | None:
    """Like ``match`` but always evaluating the cells (no lookup)."""
    for i, row in enumerate(table.rows):
        for field, test in row.tests:
            if test is None:
                continue
            try:
                if not test.evaluate({"$": get_path(data, field)}):
                    break
            except Exception:  # zen treats a cell it cannot compare (null >= 5) as no match
                break
        else:
            return i
    return None
