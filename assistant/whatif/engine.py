"""Load the JDM decision graph (``rules/limit.jdm.json``) once and evaluate it.

Two evaluators read the same file and must agree (the tests check thousands of profiles):

* ``evaluate_zen``: zen-engine's own graph evaluation with ``trace`` on; the trace names the
  matched row of every decision table (about 0.25 ms a call).
* ``evaluate_compiled``: the same nodes run in topological order by a small runner that still asks
  zen's expression engine for every cell (``compile_unary_expression``/``compile_expression``),
  without zen's per-call graph overhead (about 0.1 ms a call).

The compiled runner covers the JDM subset this file uses (input, output, first-hit decision tables,
expression nodes, all pass-through). If the file grows other node kinds, or the runner disagrees
with zen on the load-time probes, ``evaluate`` falls back to zen and logs why.

What the scorer reads from the decision's output (the contract with the JSON file):
``low``, ``high``, ``band.name``, ``points_total``, and for each factor table ``points.<field>`` and
``reason.<field>`` (the reason code of the matched row).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from assistant.whatif.profile import DEFAULTS, FIELD_SPECS, FIELDS
from retrieval.errors import MingbaiError

log = logging.getLogger(__name__)

RULES_PATH = Path(__file__).resolve().parent / "rules" / "limit.jdm.json"
# zen-engine rejects integers above 2**64; every threshold is far below this cap, so capping keeps
# the result (and monotonicity) unchanged for huge incomes or order counts.
ENGINE_INT_CAP = 10**15
_LITERAL = re.compile(r"""^\s*(-?\d+(\.\d+)?|'[^']*'|"[^"]*"|true|false|null)\s*$""")
_SUPPORTED = "inputNode, outputNode, first-hit decisionTableNode, expressionNode (pass-through)"


class RulesError(MingbaiError, ValueError):
    """The rules file cannot be used; the message names the file, the node and how to fix it."""


class FactorOutcome(NamedTuple):
    """One factor table's verdict: which row matched and how many points it gave."""

    field: str
    rule_id: str
    row: int
    code: str
    points: int
    best_points: int

    @property
    def points_lost(self) -> int:
        return self.best_points - self.points


class Evaluation(NamedTuple):
    low: int
    high: int
    band: str
    points: int
    factors: tuple[FactorOutcome, ...]


@dataclass(frozen=True)
class Band:
    name: str
    label_zh: str
    label_en: str
    min_points: int  # the fewest total points that reach this band


@dataclass(frozen=True)
class _Row:
    rule_id: str
    tests: tuple[tuple[str, Any], ...]  # (input field, compiled unary expression or None = any)
    outputs: tuple[tuple[str, Any, bool], ...]  # (output path, value or expression, is_literal)


@dataclass(frozen=True)
class _Table:
    node_id: str
    name: str
    rows: tuple[_Row, ...]
    output_fields: tuple[str, ...]
    # For a one-input table on a bounded integer profile field: the matched row (or -1) of every
    # allowed value, computed once at load by zen itself; other values use the cells.
    lookup_field: str | None = None
    lookup: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Expressions:
    node_id: str
    # (key, compiled expression, root names it reads; None = pass everything)
    items: tuple[tuple[str, Any, frozenset[str] | None], ...]


_NAME = re.compile(r"""'[^']*'|"[^"]*"|`[^`]*`|(?<![\w.$])([A-Za-z_]\w*)""")
_NOT_VARIABLES = frozenset((
    "true", "false", "null", "and", "or", "not", "in", "floor", "ceil", "round", "abs", "min",
    "max", "sum", "avg", "len", "trunc", "number", "string", "bool", "contains", "upper", "lower",
    "some", "all", "none", "filter", "map", "flatMap", "count", "date", "time", "duration",
    "rand", "startsWith", "endsWith", "matches", "extract", "keys", "values", "type",
    "isNumeric", "fuzzyMatch", "median", "mode",
))


def _roots(source: str) -> frozenset[str] | None:
    """Top-level names an expression reads (``points`` for ``points.x + 1``); None if unsure."""
    if re.search(r"\$(?!\.)", source) or "#" in source:  # bare $ or $root: pass everything
        return None
    names = {m.group(1) for m in _NAME.finditer(source) if m.group(1)}
    roots = frozenset(names - _NOT_VARIABLES)
    return roots | {"$"} if "$." in source else roots


class _Unsupported(Exception):
    pass


def _get(data: Mapping[str, Any], path: str) -> Any:
    cur: Any = data
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = data
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[part] = nxt
        cur = nxt
    cur[parts[-1]] = value


def _num(value: Any, what: str, path: Path) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"{path}: the decision output '{what}' must be a number, got {value!r}")
    return round(value)


def context_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The engine input for a profile's values (huge integers capped at ENGINE_INT_CAP)."""
    return {
        k: (min(v, ENGINE_INT_CAP) if isinstance(v, int) and not isinstance(v, bool) else v)
        for k, v in values.items()
    }


class Rules:
    """One loaded rules file: its version hash, its bands and two ways to evaluate it."""

    def __init__(self, path: Path = RULES_PATH) -> None:
        import zen  # imported here so that importing the package stays cheap

        self.path = path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise RulesError(f"{path}: cannot read the rules file ({exc})") from exc
        self.version = hashlib.sha256(raw).hexdigest()[:12]
        try:
            self.graph: dict[str, Any] = json.loads(raw)
            self._decision = zen.ZenEngine().create_decision(raw.decode("utf-8"))
            self._decision.validate()
        except Exception as exc:  # zen and json raise various types; all mean a bad file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RulesError(
                f"{path}: not a valid JDM decision graph ({first}); "
                "re-export it from the JDM editor"
            ) from None
        self._nodes = {n["id"]: n for n in self.graph.get("nodes", [])}
        self._tables = {
            nid: self._compile_table(zen, node)
            for nid, node in self._nodes.items()
            if node.get("type") == "decisionTableNode"
        }
        self._factors = self._factor_tables()
        self.factor_fields: tuple[str, ...] = tuple(f for f in FIELDS if f in self._factors)
        self._best = {f: max(self._points_of(t)) for f, t in self._factors.items()}
        self._check_contract()
        band_tables = [t for t in self._tables.values() if "band.name" in t.output_fields]
        if not band_tables:
            raise RulesError(f"{self.path}: no decision table outputs 'band.name'")
        self._band_table = band_tables[0]
        self.bands = self._find_bands()
        self.additive = False  # set by _self_check: points_total is the sum of factor points
        self._steps: list[_Table | _Expressions] = []
        self.compiled = False
        try:
            self._steps = self._plan(zen)
            self.compiled = True
        except _Unsupported as exc:
            log.warning("%s: compiled runner off, using zen for every call: %s", path, exc)
        self._self_check()

    # -- compiling ---------------------------------------------------------------------------
    def _plan(self, zen: Any) -> list[_Table | _Expressions]:
        steps: list[_Table | _Expressions] = []
        for node_id in self._topological_order():
            node = self._nodes[node_id]
            kind, content = node.get("type"), node.get("content") or {}
            if kind in ("inputNode", "outputNode"):
                continue
            if kind not in ("decisionTableNode", "expressionNode"):
                raise _Unsupported(
                    f"node '{node.get('name')}' is a {kind}; the runner knows {_SUPPORTED}"
                )
            if (
                content.get("passThrough") is not True
                or (content.get("executionMode") or "single") != "single"
                or content.get("inputField")
                or content.get("outputPath")
            ):
                raise _Unsupported(f"node '{node.get('name')}' is not a plain pass-through node")
            if kind == "expressionNode":
                items = tuple(
                    (e["key"], zen.compile_expression(e["value"]), _roots(e["value"]))
                    for e in content["expressions"]
                )
                steps.append(_Expressions(node_id, items))
            elif (content.get("hitPolicy") or "first") != "first":
                raise _Unsupported(f"table '{node.get('name')}' is not first-hit")
            else:
                steps.append(self._tables[node_id])
        return steps

    def _compile_table(self, zen: Any, node: dict[str, Any]) -> _Table:
        content = node["content"]
        inputs = [(c["id"], c.get("field")) for c in content.get("inputs", [])]
        if any(not field for _, field in inputs):
            raise RulesError(
                f"{self.path}: table '{node.get('name')}' has an input column without a field; "
                "give every input column a field (e.g. sesame_score)"
            )
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
            rows.append(_Row(str(rule.get("_id", f"row{i + 1}")), tests, tuple(outs)))
        table = _Table(node["id"], str(node.get("name", node["id"])), tuple(rows),
                       tuple(f for _, f in outputs))
        spec = FIELD_SPECS.get(inputs[0][1]) if len(inputs) == 1 else None
        if spec is not None and spec.kind is int and spec.maximum is not None:
            lo, hi = int(spec.minimum), int(spec.maximum)
            lookup = tuple(
                -1 if (hit := self._match_cells(table, {spec.name: v})) is None else hit
                for v in range(lo, hi + 1)
            )
            table = replace(table, lookup_field=spec.name, lookup=lookup)
        return table

    def _topological_order(self) -> list[str]:
        order_index = {nid: i for i, nid in enumerate(self._nodes)}
        incoming: dict[str, set[str]] = {nid: set() for nid in self._nodes}
        for e in self.graph.get("edges", []):
            if e.get("targetId") in incoming and e.get("sourceId") in incoming:
                incoming[e["targetId"]].add(e["sourceId"])
        order: list[str] = []
        ready = sorted((n for n, s in incoming.items() if not s), key=order_index.__getitem__)
        while ready:
            nid = ready.pop(0)
            order.append(nid)
            for other, sources in incoming.items():
                if nid in sources:
                    sources.discard(nid)
                    if not sources and other not in order and other not in ready:
                        ready.append(other)
            ready.sort(key=order_index.__getitem__)
        if len(order) != len(self._nodes):
            raise RulesError(f"{self.path}: the decision graph has a cycle")
        return order

    # -- evaluating --------------------------------------------------------------------------
    def evaluate(self, ctx: Mapping[str, Any]) -> Evaluation:
        return self.evaluate_compiled(ctx) if self.compiled else self.evaluate_zen(ctx)

    def _zen(self, ctx: Mapping[str, Any], trace: bool) -> dict[str, Any]:
        try:
            return dict(self._decision.evaluate(dict(ctx), {"trace": trace}))
        except Exception as exc:  # zen reports node errors as RuntimeError with a backtrace
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RulesError(f"{self.path}: evaluating the decision failed: {first}") from None

    def evaluate_zen(self, ctx: Mapping[str, Any]) -> Evaluation:
        response = self._zen(ctx, trace=True)
        rows: dict[str, tuple[int, str]] = {}
        for node_id, trace in (response.get("trace") or {}).items():
            data = trace.get("traceData") or {}
            if isinstance(data, dict) and "index" in data:
                rule = data.get("rule") or {}
                rows[node_id] = (int(data["index"]), str(rule.get("_id", "")))
        return self._evaluation(response["result"], rows)

    def evaluate_compiled(self, ctx: Mapping[str, Any]) -> Evaluation:
        data, rows = self._run(ctx)
        return self._evaluation(data, rows)

    def _run(self, ctx: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[int, str]]]:
        data: dict[str, Any] = dict(ctx)
        rows: dict[str, tuple[int, str]] = {}
        for step in self._steps:
            if isinstance(step, _Table):
                hit = self._match(step, data)
                if hit is not None:
                    row = step.rows[hit]
                    rows[step.node_id] = (hit, row.rule_id)
                    for path, value, literal in row.outputs:
                        _set(data, path, value if literal else value.evaluate(data))
            else:
                out: dict[str, Any] = {}
                for key, expr, roots in step.items:
                    if roots is None:
                        scope = {**data, "$": out}
                    else:
                        scope = {r: data[r] for r in roots if r in data}
                        if "$" in roots:
                            scope["$"] = out
                    value = expr.evaluate(scope)
                    _set(out, key, value)
                    _set(data, key, value)
        return data, rows

    @staticmethod
    def _match(table: _Table, data: Mapping[str, Any]) -> int | None:
        if table.lookup_field is not None:
            value = data.get(table.lookup_field)
            spec = FIELD_SPECS[table.lookup_field]
            if type(value) is int and spec.minimum <= value <= len(table.lookup) - 1 + spec.minimum:
                hit = table.lookup[value - int(spec.minimum)]
                return None if hit < 0 else hit
        return Rules._match_cells(table, data)

    @staticmethod
    def _match_cells(table: _Table, data: Mapping[str, Any]) -> int | None:
        for i, row in enumerate(table.rows):
            for field, test in row.tests:
                if test is None:
                    continue
                try:
                    if not test.evaluate({"$": _get(data, field)}):
                        break
                except Exception:  # zen treats a cell it cannot compare (null >= 5) as no match
                    break
            else:
                return i
        return None

    def _evaluation(
        self, out: Mapping[str, Any], rows: Mapping[str, tuple[int, str]]
    ) -> Evaluation:
        points = out.get("points") or {}
        codes = out.get("reason") or {}
        factors = []
        for field, table in self._factors.items():
            if table.node_id not in rows:
                continue
            row, rule_id = rows[table.node_id]
            factors.append(
                FactorOutcome(
                    field,
                    rule_id,
                    row,
                    str(codes.get(field) or f"{field.upper()}_ROW_{row + 1}"),
                    _num(points.get(field), f"points.{field}", self.path),
                    self._best[field],
                )
            )
        band = out.get("band")
        return Evaluation(
            _num(out.get("low"), "low", self.path),
            _num(out.get("high"), "high", self.path),
            str(band.get("name") if isinstance(band, Mapping) else None),
            _num(out.get("points_total"), "points_total", self.path),
            tuple(factors),
        )

    # -- reading the tables ------------------------------------------------------------------
    def _factor_tables(self) -> dict[str, _Table]:
        """Tables that output ``points.<field>`` for a profile field, keyed by that field."""
        found: dict[str, _Table] = {}
        for table in self._tables.values():
            for out in table.output_fields:
                if out.startswith("points.") and out[len("points."):] in FIELD_SPECS:
                    found[out[len("points."):]] = table
        return found

    def factor_points(self, field: str, value: Any) -> int:
        """Points the factor table gives ``field = value`` (other fields do not matter)."""
        table = self._factors[field]
        ctx = context_of({field: value})
        hit = self._match(table, ctx)
        if hit is None:
            raise RulesError(f"{self.path}: table '{table.name}' has no row for {field}={value!r}")
        for path, v, literal in table.rows[hit].outputs:
            if path == f"points.{field}":
                return round(v if literal else v.evaluate(ctx))
        raise RulesError(f"{self.path}: table '{table.name}' row {hit + 1} has no points")

    def _find_bands(self) -> tuple[Band, ...]:
        table = self._band_table
        lo = sum(min(self._points_of(t)) for t in self._factors.values()) - 10
        hi = sum(self._best.values()) + 10
        first: dict[int, int] = {}
        for p in range(lo, hi + 1):
            hit = self._match(table, {"points_total": p})
            if hit is not None and hit not in first:
                first[hit] = p
        bands = []
        for row, p in first.items():
            out = {path: v for path, v, _ in table.rows[row].outputs}
            name = str(out.get("band.name"))
            bands.append(Band(name, str(out.get("band.label_zh", name)),
                              str(out.get("band.label_en", name)), p))
        return tuple(sorted(bands, key=lambda b: b.min_points))

    @staticmethod
    def _points_of(table: _Table) -> list[int]:
        return [int(v) for r in table.rows for path, v, lit in r.outputs
                if lit and path.startswith("points.") and isinstance(v, int | float)] or [0]

    # -- checks at load ----------------------------------------------------------------------
    def _check_contract(self) -> None:
        response = self._zen(context_of(DEFAULTS), trace=False)["result"]
        missing = [k for k in ("low", "high", "band.name", "points_total")
                   if _get(response, k) is None]
        if missing:
            raise RulesError(
                f"{self.path}: the decision output lacks {', '.join(missing)}; the scorer needs "
                "low, high, band.name, points_total (see docs/whatif.md)"
            )
        if not self._factors:
            raise RulesError(f"{self.path}: no decision table outputs points.<profile field>")

    def _self_check(self) -> None:
        """Compare the compiled runner with zen, and learn whether points simply add up."""
        additive = True
        for ctx in probe_contexts(48):
            ev = self.evaluate_zen(ctx)
            if self.compiled and self.evaluate_compiled(ctx) != ev:
                log.warning("%s: compiled runner disagrees with zen on %s; using zen",
                            self.path, ctx)
                self.compiled = False
            additive = additive and ev.points == sum(f.points for f in ev.factors) and (
                self.band_for_points(ev.points) == ev.band
            )
        self.additive = additive

    def band_for_points(self, points: int) -> str | None:
        """The band the band table gives a points total (None if no row matches)."""
        hit = self._match(self._band_table, {"points_total": points})
        if hit is None:
            return None
        out = {path: v for path, v, _ in self._band_table.rows[hit].outputs}
        return str(out.get("band.name"))


def probe_contexts(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Deterministic spread of engine inputs: defaults, both extremes and ``n`` random ones."""
    rnd = random.Random(seed)
    out = [context_of(DEFAULTS)]
    lows = {name: spec.minimum for name, spec in FIELD_SPECS.items()}
    highs = {name: spec.maximum if spec.maximum is not None else 10**6
             for name, spec in FIELD_SPECS.items()}
    out.append(context_of({k: (int(v) if FIELD_SPECS[k].kind is int else float(v))
                           for k, v in lows.items()}))
    out.append(context_of({k: (int(v) if FIELD_SPECS[k].kind is int else float(v))
                           for k, v in highs.items()}))
    for _ in range(n):
        out.append(context_of(random_values(rnd)))
    return out


def random_values(rnd: random.Random) -> dict[str, Any]:
    """A random valid profile as a dict (thresholds are hit often on purpose)."""
    pick: Callable[[list[int]], int] = rnd.choice
    return {
        "sesame_score": rnd.randint(350, 950),
        "on_time_months": pick([0, 1, 5, 6, 11, 12, 24, 35, 36, rnd.randint(0, 600)]),
        "overdue_12m": pick([0, 0, 1, 2, 3, 5, 6, rnd.randint(0, 365)]),
        "utilization": round(pick([0, 10, 30, 50, 70, 90, 100, rnd.randint(0, 100)]) / 100
                             if rnd.random() < 0.6 else rnd.random(), 4),
        "applications_6m": pick([0, 1, 2, 3, 4, 5, 9, 10, rnd.randint(0, 1000)]),
        "account_age_months": pick([0, 5, 6, 12, 36, 60, rnd.randint(0, 1200)]),
        "monthly_income": None if rnd.random() < 0.3 else pick(
            [0, 2999, 3000, 5000, 8000, 12000, 20000, rnd.randint(0, 60000)]),
        "xianyu_orders_12m": pick([0, 1, 9, 10, 49, 50, rnd.randint(0, 500)]),
    }


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """The rules file, loaded and checked once per process."""
    return Rules(path)
