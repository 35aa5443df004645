"""Load the JDM decision graph (``rules/limit.jdm.json``) once, check it and evaluate it.

zen-engine evaluates the graph with ``trace`` on (about 0.3 ms a call); the trace names the matched
row of every decision table, which is what the reasons and the plans are built from. The tables
are also read one at a time for planning (``tables.py``).

What the scorer reads from the decision's output (the contract with the JSON file):
``low``, ``high``, ``band.name``, ``points_total``, and for each factor table ``points.<field>`` and
``reason.<field>`` (the reason code of the matched row).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, NamedTuple

from assistant.whatif.fields import DEFAULTS, FIELD_SPECS, FIELDS, random_values
from assistant.whatif.tables import Table, compile_table, get_path, match
from knowledge.errors import RulesError

log = logging.getLogger(__name__)

RULES_PATH = Path(__file__).resolve().parent / "rules" / "limit.jdm.json"
# zen-engine rejects integers above 2**64; every threshold is far below this cap, so capping keeps
# the result (and monotonicity) unchanged for huge incomes or order counts.
ENGINE_INT_CAP = 10**15


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
    """One loaded rules file: its version hash, its bands, its tables and its evaluation."""

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
        self._tables: dict[str, Table] = {}
        for nid, node in self._nodes.items():
            if node.get("type") == "decisionTableNode":
                self._require_input_fields(node)
                self._tables[nid] = compile_table(zen, node)
        self._factors = self._factor_tables()
        self.factor_fields: tuple[str, ...] = tuple(f for f in FIELDS if f in self._factors)
        self._best = {f: max(self._points_of(t)) for f, t in self._factors.items()}
        self._check_contract()
        band_tables = [t for t in self._tables.values() if "band.name" in t.output_fields]
        if not band_tables:
            raise RulesError(f"{self.path}: no decision table outputs 'band.name'")
        self._band_table = band_tables[0]
        self.bands = self._find_bands()
        self._check_acyclic()
        self.additive = False  # set by _self_check: points_total is the sum of factor points
        self._self_check()

    # -- checking the graph ------------------------------------------------------------------
    def _require_input_fields(self, node: Mapping[str, Any]) -> None:
        if any(not c.get("field") for c in node["content"].get("inputs", [])):
            raise RulesError(
                f"{self.path}: table '{node.get('name')}' has an input column without a field; "
                "give every input column a field (e.g. sesame_score)"
            )

    def _check_acyclic(self) -> None:
        graph: dict[str, set[str]] = {n: set() for n in self._nodes}
        for e in self.graph.get("edges", []):
            if e.get("targetId") in graph and e.get("sourceId") in graph:
                graph[e["targetId"]].add(e["sourceId"])
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as exc:
            raise RulesError(
                f"{self.path}: the decision graph has a cycle ({' -> '.join(exc.args[1])})"
            ) from None

    # -- evaluating --------------------------------------------------------------------------
    def evaluate(self, ctx: Mapping[str, Any]) -> Evaluation:
        """The decision for one engine input, with the matched row of every factor table."""
        response = self._zen(ctx, trace=True)
        rows: dict[str, tuple[int, str]] = {}
        for node_id, trace in (response.get("trace") or {}).items():
            data = trace.get("traceData") or {}
            if isinstance(data, dict) and "index" in data:
                rule = data.get("rule") or {}
                rows[node_id] = (int(data["index"]), str(rule.get("_id", "")))
        return self._evaluation(response["result"], rows)

    def _zen(self, ctx: Mapping[str, Any], trace: bool) -> dict[str, Any]:
        try:
            return dict(self._decision.evaluate(dict(ctx), {"trace": trace}))
        except Exception as exc:  # zen reports node errors as RuntimeError with a backtrace
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RulesError(f"{self.path}: evaluating the decision failed: {first}") from None

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
    def _factor_tables(self) -> dict[str, Table]:
        """Tables that output ``points.<field>`` for a profile field, keyed by that field."""
        found: dict[str, Table] = {}
        for table in self._tables.values():
            for out in table.output_fields:
                if out.startswith("points.") and out[len("points."):] in FIELD_SPECS:
                    found[out[len("points."):]] = table
        return found

    def factor_points(self, field: str, value: Any) -> int:
        """Points the factor table gives ``field = value`` (other fields do not matter)."""
        table = self._factors[field]
        ctx = context_of({field: value})
        hit = match(table, ctx)
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
            hit = match(table, {"points_total": p})
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
    def _points_of(table: Table) -> list[int]:
        return [int(v) for r in table.rows for path, v, lit in r.outputs
                if lit and path.startswith("points.") and isinstance(v, int | float)] or [0]

    # -- checks at load ----------------------------------------------------------------------
    def _check_contract(self) -> None:
        response = self._zen(context_of(DEFAULTS), trace=False)["result"]
        missing = [k for k in ("low", "high", "band.name", "points_total")
                   if get_path(response, k) is None]
        if missing:
            raise RulesError(
                f"{self.path}: the decision output lacks {', '.join(missing)}; the scorer needs "
                "low, high, band.name, points_total (see docs/whatif.md)"
            )
        if not self._factors:
            raise RulesError(f"{self.path}: no decision table outputs points.<profile field>")

    def _self_check(self) -> None:
        """Learn whether points simply add up (the planner then adds table points instead of
        evaluating every candidate)."""
        additive = True
        for ctx in probe_contexts(48):
            ev = self.evaluate(ctx)
            additive = additive and ev.points == sum(f.points for f in ev.factors) and (
                self.band_for_points(ev.points) == ev.band
            )
        self.additive = additive

    def band_for_points(self, points: int) -> str | None:
        """The band the band table gives a points total (None if no row matches)."""
        hit = match(self._band_table, {"points_total": points})
        if hit is None:
            return None
        out = {path: v for path, v, _ in self._band_table.rows[hit].outputs}
        return str(out.get("band.name"))


def probe_contexts(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Deterministic spread of engine inputs: defaults, both extremes and ``n`` random ones
    (``fields.random_values``: each field's probe values)."""
    rnd = random.Random(seed)
    out = [context_of(DEFAULTS)]
    lows = {name: spec.minimum for name, spec in FIELD_SPECS.items()}
    highs = {name: spec.maximum if spec.maximum is not None else 10**6
             for name, spec in FIELD_SPECS.items()}
    for extreme in (lows, highs):
        out.append(context_of({k: FIELD_SPECS[k].kind(v) for k, v in extreme.items()}))
    for _ in range(n):
        out.append(context_of(random_values(rnd)))
    return out


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """The rules file, loaded and checked once per process."""
    return Rules(path)
