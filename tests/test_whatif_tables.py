"""assistant.whatif.tables: the decision tables read one value at a time, for planning."""

from __future__ import annotations

from typing import Any

import zen

from assistant.whatif.tables import Table, compile_table, get_path, match, match_cells


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


def test_paths() -> None:
    data: dict[str, Any] = {"band": {"name": "good"}, "points": {"a": 1}}
    assert get_path(data, "points.a") == 1 and get_path(data, "points.b") is None
    assert get_path(data, "band.name.x") is None and get_path(data, "band.name") == "good"


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
