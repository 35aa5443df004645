"""The compiled runner's parts: expression roots, paths, ordering, planning, tables and running.

That the whole runner equals zen-engine on the shipped rules is tested in test_whatif_scorer.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import zen

from assistant.whatif.compiled_rules import (
    Expressions,
    Table,
    Unsupported,
    compile_table,
    expression_roots,
    get_path,
    match,
    match_cells,
    plan,
    run,
    set_path,
    topological_order,
)


def _table(rules: list[dict[str, str]], field: str = "sesame_score") -> dict[str, Any]:
    return {
        "id": "t", "name": "Sesame", "type": "decisionTableNode",
        "content": {
            "hitPolicy": "first", "passThrough": True,
            "inputs": [{"id": "in", "field": field}],
            "outputs": [{"id": "pts", "field": "points.sesame_score"},
                        {"id": "code", "field": "reason.sesame_score"}],
            "rules": rules,
        },
    }


SESAME = _table([
    {"_id": "r1", "in": ">= 700", "pts": "30", "code": "'HIGH'"},
    {"_id": "r2", "in": "[600..699]", "pts": "points_base + 10", "code": "'MID'"},
    {"_id": "r3", "in": "", "pts": "0", "code": "'LOW'"},
])


@pytest.mark.parametrize(
    ("source", "roots"),
    [("points.a + points.b", {"points"}), ("min([low, high]) * 2", {"low", "high"}),
     ("'text with name' + x", {"x"}), ("$.low + 1", {"$"}), ("$", None), ("#", None)],
)
def test_expression_roots(source: str, roots: set[str] | None) -> None:
    assert expression_roots(source) == (None if roots is None else frozenset(roots))


def test_paths() -> None:
    data: dict[str, Any] = {"band": 3}
    set_path(data, "band.name", "good")  # a non-dict parent is replaced
    set_path(data, "points.a", 1)
    assert data == {"band": {"name": "good"}, "points": {"a": 1}}
    assert get_path(data, "points.a") == 1 and get_path(data, "points.b") is None
    assert get_path(data, "band.name.x") is None


def test_topological_order_keeps_file_order_and_leaves_out_cycles() -> None:
    edges = [{"sourceId": "in", "targetId": "b"}, {"sourceId": "in", "targetId": "a"},
             {"sourceId": "a", "targetId": "out"}, {"sourceId": "b", "targetId": "out"},
             {"sourceId": "x", "targetId": "y"}, {"sourceId": "y", "targetId": "x"},
             {"sourceId": "in", "targetId": "unknown"}]
    assert topological_order(["in", "a", "b", "out"], edges) == ["in", "a", "b", "out"]
    assert topological_order(["in", "x", "y", "out"], edges) == ["in", "out"]


def test_compile_table_matches_like_its_cells_and_builds_a_lookup() -> None:
    table = compile_table(zen, SESAME)
    assert isinstance(table, Table) and table.lookup_field == "sesame_score"
    assert len(table.lookup) == 950 - 350 + 1
    for v in (350, 599, 600, 699, 700, 950):
        assert match(table, {"sesame_score": v}) == match_cells(table, {"sesame_score": v})
    assert match(table, {"sesame_score": 720}) == 0
    assert match(table, {"sesame_score": 650.5}) == 1  # not an int: the cells decide
    assert match(table, {}) == 2  # null >= 700 does not match; the empty row does
    other = compile_table(zen, _table(SESAME["content"]["rules"], field="age"))
    assert other.lookup_field is None and other.lookup == ()


def test_plan_and_run() -> None:
    total = {"id": "sum", "type": "expressionNode", "name": "Sum",
             "content": {"passThrough": True,
                         "expressions": [{"key": "total", "value": "points.sesame_score * 2"},
                                         {"key": "twice", "value": "$.total"}]}}
    nodes = [{"id": "in", "type": "inputNode"}, SESAME, total, {"id": "out", "type": "outputNode"}]
    steps = plan(zen, nodes, {"t": compile_table(zen, SESAME)})
    assert [type(s) for s in steps] == [Table, Expressions]
    data, rows = run(steps, {"sesame_score": 650, "points_base": 5})
    assert rows == {"t": (1, "r2")}
    assert data["points"] == {"sesame_score": 15} and data["reason"] == {"sesame_score": "MID"}
    assert (data["total"], data["twice"]) == (30, 30)


@pytest.mark.parametrize(
    ("node", "message"),
    [({"id": "f", "type": "functionNode", "name": "Fn", "content": {}}, "is a functionNode"),
     ({**SESAME, "content": {**SESAME["content"], "hitPolicy": "collect"}}, "not first-hit"),
     ({**SESAME, "content": {**SESAME["content"], "passThrough": False}}, "pass-through")],
)
def test_plan_refuses_what_it_does_not_know(node: dict[str, Any], message: str) -> None:
    with pytest.raises(Unsupported, match=message):
        plan(zen, [node], {"t": compile_table(zen, SESAME)})
