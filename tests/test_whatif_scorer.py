"""The rules scorer: golden cases, properties over every registry field (determinism,
monotonicity in each field's declared direction, Xianyu bound), the engine, what_if and
what_it_takes."""

from __future__ import annotations

import hashlib
import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.whatif import (
    LimitEstimate,
    Plan,
    Profile,
    ProfileError,
    WhatIf,
    WhatIfError,
    band_names,
    estimate_limit,
    what_if,
    what_it_takes,
)
from assistant.whatif.engine import (
    RULES_PATH,
    Rules,
    RulesError,
    context_of,
    load_rules,
)
from assistant.whatif.fields import FIELD_SPECS, FieldSpec
from assistant.whatif.scorer import ACTIONABLE, _levels, estimate_uncached

# (name, profile fields, low, high, band, points, reason codes) -- computed by hand from the
# tables in rules/limit.jdm.json (e.g. defaults: 20+9+20+8+10+4+4 = 75 points, "good" band,
# low = 5000 + 15*250 = 8750 -> 8700, high = 12000 + 15*900 = 25500).
GOLDEN: list[tuple[str, dict[str, Any], int, int, str, int, list[str]]] = [
    ("typical (defaults)", {}, 8700, 25500, "good", 75,
     ["SESAME_650_699", "ON_TIME_12_23", "INCOME_UNKNOWN", "UTILIZATION_10_30"]),
    ("issue example", dict(sesame_score=680, on_time_months=12, overdue_12m=0, utilization=0.3,
                           applications_6m=1, account_age_months=36, monthly_income=None,
                           xianyu_orders_12m=5), 8800, 26000, "good", 75,
     ["SESAME_650_699", "ON_TIME_12_23", "INCOME_UNKNOWN", "UTILIZATION_10_30"]),
    ("best possible", dict(sesame_score=950, on_time_months=600, overdue_12m=0, utilization=0.0,
                           applications_6m=0, account_age_months=1200, monthly_income=10**9),
     30000, 80000, "high", 100, []),
    ("worst possible", dict(sesame_score=350, on_time_months=0, overdue_12m=365, utilization=1.0,
                            applications_6m=1000, account_age_months=0, monthly_income=0),
     0, 600, "starter", -40,
     ["OVERDUE_6_PLUS", "SESAME_BELOW_550", "APPLICATIONS_10_PLUS", "ON_TIME_NONE"]),
    ("two overdue", dict(overdue_12m=2), 4200, 10500, "medium", 55,
     ["OVERDUE_2", "SESAME_650_699", "ON_TIME_12_23", "INCOME_UNKNOWN"]),
    ("sesame 720", dict(sesame_score=720), 11000, 32500, "high", 81,
     ["ON_TIME_12_23", "INCOME_UNKNOWN", "SESAME_700_749", "UTILIZATION_10_30"]),
    ("maxed out", dict(utilization=0.95), 5500, 13800, "good", 62,
     ["UTILIZATION_OVER_90", "SESAME_650_699", "ON_TIME_12_23", "INCOME_UNKNOWN"]),
    ("ten applications", dict(applications_6m=10), 4200, 10500, "medium", 55,
     ["APPLICATIONS_10_PLUS", "SESAME_650_699", "ON_TIME_12_23", "INCOME_UNKNOWN"]),
    ("new user", dict(sesame_score=600, on_time_months=0, account_age_months=3,
                      applications_6m=2, utilization=0.5), 3300, 8700, "medium", 49,
     ["SESAME_600_649", "ON_TIME_NONE", "INCOME_UNKNOWN", "UTILIZATION_30_50"]),
    ("high income", dict(monthly_income=25000), 11000, 32500, "high", 81,
     ["SESAME_650_699", "ON_TIME_12_23", "UTILIZATION_10_30", "ACCOUNT_AGE_36_59"]),
    ("many xianyu orders", dict(xianyu_orders_12m=60), 9100, 26700, "good", 75,
     ["SESAME_650_699", "ON_TIME_12_23", "INCOME_UNKNOWN", "UTILIZATION_10_30"]),
    ("overdue six, sesame 500", dict(sesame_score=500, overdue_12m=6), 500, 2100, "starter", 10,
     ["OVERDUE_6_PLUS", "SESAME_BELOW_550", "ON_TIME_12_23", "INCOME_UNKNOWN"]),
]


@pytest.mark.parametrize(("name", "fields", "low", "high", "band", "points", "codes"), GOLDEN,
                         ids=[g[0] for g in GOLDEN])
def test_golden(name: str, fields: dict[str, Any], low: int, high: int, band: str, points: int,
                codes: list[str]) -> None:
    est = estimate_limit(Profile(**fields))
    assert (est.low, est.high, est.band, est.points) == (low, high, band, points)
    assert [r.code for r in est.reasons] == codes


def test_result_shape_and_rules_version() -> None:
    est = estimate_limit(Profile())
    assert isinstance(est, LimitEstimate)
    assert est.rules_version == hashlib.sha256(RULES_PATH.read_bytes()).hexdigest()[:12]
    assert len(est.reasons) <= 4
    lost = [r.points_lost for r in est.reasons]
    assert lost == sorted(lost, reverse=True) and all(x > 0 for x in lost)
    assert all(r.text_zh and r.text_en for r in est.reasons)
    assert est.band_label("zh") == "良好" and est.band_label("en") == "good"
    assert band_names() == ("starter", "low", "medium", "good", "high")


def test_rules_load_additive_with_a_table_per_scored_field() -> None:
    rules = load_rules()
    assert rules.additive
    assert set(rules.factor_fields) == {
        "sesame_score", "on_time_months", "overdue_12m", "utilization", "applications_6m",
        "account_age_months", "monthly_income", "other_loans",
    }


def test_estimate_limit_rejects_non_profiles() -> None:
    with pytest.raises(ProfileError, match="needs a Profile"):
        estimate_limit({"sesame_score": 700})  # type: ignore[arg-type]


# -- properties ----------------------------------------------------------------------------------
def _values(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Any valid value of a registry field (no upper bound: up to 10**7)."""
    top = spec.maximum if spec.maximum is not None else 10**7
    value: st.SearchStrategy[Any] = (
        st.booleans() if spec.kind is bool
        else st.floats(spec.minimum, top, allow_nan=False) if spec.kind is float
        else st.integers(int(spec.minimum), int(top)))
    return st.none() | value if spec.nullable else value


# every field of the registry, so a new factor is in every property below
profiles = st.builds(Profile, **{name: _values(spec) for name, spec in FIELD_SPECS.items()})


@given(profiles)
def test_estimates_are_deterministic_ranges(p: Profile) -> None:
    a = estimate_limit(p)
    b = estimate_uncached(p.as_dict())
    assert a == b == estimate_limit(Profile(**p.as_dict()))
    assert 0 <= a.low < a.high
    assert a.band in band_names()


RAISING = {name: _values(spec) for name, spec in FIELD_SPECS.items()
           if spec.effect == "raises" and not spec.nullable}
RAISING["monthly_income"] = st.integers(0, 10**6)  # known incomes (unknown counts as middle)
LOWERING = {name: _values(spec) for name, spec in FIELD_SPECS.items() if spec.effect == "lowers"}


def test_every_scored_field_has_a_direction() -> None:
    assert set(RAISING) | set(LOWERING) == set(load_rules().factor_fields)
    assert "other_loans" in LOWERING


@pytest.mark.parametrize("field", sorted(RAISING))
@settings(max_examples=150)
@given(data=st.data())
def test_limit_never_decreases_when_a_good_factor_rises(field: str, data: st.DataObject) -> None:
    p = data.draw(profiles)
    a, b = sorted([data.draw(RAISING[field]), data.draw(RAISING[field])])
    lo = estimate_limit(p.with_changes(**{field: a}))
    hi = estimate_limit(p.with_changes(**{field: b}))
    assert hi.low >= lo.low and hi.high >= lo.high and hi.points >= lo.points


@pytest.mark.parametrize("field", sorted(LOWERING))
@settings(max_examples=150)
@given(data=st.data())
def test_limit_never_increases_when_a_bad_factor_rises(field: str, data: st.DataObject) -> None:
    p = data.draw(profiles)
    a, b = sorted([data.draw(LOWERING[field]), data.draw(LOWERING[field])])
    lo = estimate_limit(p.with_changes(**{field: a}))
    hi = estimate_limit(p.with_changes(**{field: b}))
    assert hi.low <= lo.low and hi.high <= lo.high and hi.points <= lo.points


def test_unknown_income_is_neutral() -> None:
    unknown = estimate_limit(Profile(monthly_income=None))
    middle = estimate_limit(Profile(monthly_income=6000))
    assert (unknown.low, unknown.high, unknown.points) == (middle.low, middle.high, middle.points)


@settings(max_examples=300)
@given(profiles, st.integers(0, 10**9))
def test_xianyu_orders_move_the_midpoint_by_at_most_ten_percent(p: Profile, orders: int) -> None:
    base = estimate_limit(p.with_changes(xianyu_orders_12m=0))
    more = estimate_limit(p.with_changes(xianyu_orders_12m=orders))
    assert base.midpoint <= more.midpoint <= base.midpoint * 1.10
    assert more.band == base.band and more.points == base.points


@given(st.sampled_from(["sesame_score", "on_time_months", "overdue_12m", "applications_6m",
                        "account_age_months"]), st.integers(2000, 10**6))
def test_validation_errors_name_the_field(field: str, bad: int) -> None:
    with pytest.raises(ValueError, match=field):
        estimate_limit(Profile(**{field: bad}))


# -- the engine ----------------------------------------------------------------------------------
def test_zen_trace_names_the_matched_rows() -> None:
    ev = load_rules().evaluate(context_of(Profile(sesame_score=680).as_dict()))
    sesame = next(f for f in ev.factors if f.field == "sesame_score")
    assert sesame.rule_id == "sesame-score-r3" and sesame.row == 2
    assert sesame.code == "SESAME_650_699" and sesame.points_lost == 10


def test_bad_rules_files_fail_with_the_file_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jdm.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RulesError, match=r"broken\.jdm\.json"):
        Rules(broken)
    doc = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "band"]
    doc["edges"] = [e for e in doc["edges"] if "band" not in (e["sourceId"], e["targetId"])]
    doc["edges"].append({"id": "x", "sourceId": "total-points", "targetId": "base-range",
                         "type": "edge"})
    no_band = tmp_path / "no_band.jdm.json"
    no_band.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(RulesError, match=r"no_band\.jdm\.json"):
        Rules(no_band)


def test_an_edited_rules_file_gets_a_new_version(tmp_path: Path) -> None:
    doc = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    for node in doc["nodes"]:
        if node["id"] == "sesame-score":
            node["content"]["rules"][0]["sesame-score-points"] = "31"
    edited = tmp_path / "edited.jdm.json"
    edited.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    rules = Rules(edited)
    assert rules.version != load_rules().version
    top = context_of(Profile(sesame_score=900).as_dict())
    assert rules.evaluate(top).points == load_rules().evaluate(top).points + 1


# -- what_if -------------------------------------------------------------------------------------
def test_what_if_overdue() -> None:
    w = what_if(Profile(), overdue_12m=2)
    assert isinstance(w, WhatIf)
    assert w.changed == {"overdue_12m": (0, 2)}
    assert w.after.high < w.before.high and w.after.band == "medium"
    assert "逾期" in w.explanation.zh and "overdue" in w.explanation.en
    assert "下降" in w.explanation.zh


def test_what_if_without_effect_says_so() -> None:
    w = what_if(Profile(utilization=0.3), utilization=0.15)
    assert (w.before.low, w.before.high, w.before.band) == (w.after.low, w.after.high, w.after.band)
    assert "没有变化" in w.explanation.zh and "stays" in w.explanation.en


def test_what_if_unknown_field_names_valid_fields() -> None:
    with pytest.raises(WhatIfError, match="valid fields: sesame_score"):
        what_if(Profile(), sesame=700)


def test_what_if_invalid_value_names_field() -> None:
    with pytest.raises(ProfileError, match="overdue_12m must be an integer between 0 and 365"):
        what_if(Profile(), overdue_12m=-1)


# -- what_it_takes -------------------------------------------------------------------------------
def _reaches(p: Profile, band: str) -> bool:
    names = band_names()
    return names.index(estimate_limit(p).band) >= names.index(band)


def test_plan_already_there() -> None:
    plan = what_it_takes(Profile(sesame_score=800), "good")
    assert plan.reachable and not plan.steps and "已经" in plan.explanation.zh


def test_plan_reaches_the_band_with_actionable_fields_only() -> None:
    p = Profile(overdue_12m=3, utilization=0.8, applications_6m=7)
    plan = what_it_takes(p, "good")
    assert isinstance(plan, Plan) and plan.reachable and plan.steps
    assert plan.estimate is not None and _reaches(p.with_changes(**plan.changes), "good")
    actionable = {f for f, _ in ACTIONABLE}
    assert set(plan.changes) <= actionable
    assert all(s.text_zh and s.text_en for s in plan.steps)


@pytest.mark.parametrize(
    ("fields", "band"),
    [({}, "high"), ({"overdue_12m": 3, "utilization": 0.8, "applications_6m": 7}, "good"),
     ({"sesame_score": 560, "overdue_12m": 1, "utilization": 0.6}, "medium"),
     ({"on_time_months": 0, "utilization": 0.95, "applications_6m": 12}, "good")],
)
def test_plan_is_minimal(fields: dict[str, Any], band: str) -> None:
    p = Profile(**fields)
    plan = what_it_takes(p, band)
    assert plan.reachable
    k = len(plan.changes)
    # no smaller set of actionable fields reaches the band, even at their best values
    for size in range(1, k):
        for combo in combinations([f for f, _ in ACTIONABLE], size):
            best = {f: _levels(f, getattr(p, f))[-1][0] for f in combo if _levels(f, getattr(p, f))}
            assert not _reaches(p.with_changes(**best), band), combo


def test_plan_unreachable_says_so() -> None:
    p = Profile(sesame_score=350, account_age_months=0, monthly_income=0)
    plan = what_it_takes(p, "high")
    assert not plan.reachable and plan.estimate is None
    assert "到不了" in plan.explanation.zh and "does not reach" in plan.explanation.en


def test_plan_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A starved CPU (every clock read a second later) gets the same, minimal plans."""
    import time

    cases = [(Profile(overdue_12m=3, utilization=0.8, applications_6m=7), "good"),
             (Profile(on_time_months=0, utilization=0.95, applications_6m=12), "good"),
             (Profile(), "high")]
    want = [what_it_takes(p, band) for p, band in cases]
    ticks = iter(range(10**9))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(ticks)))
    assert [what_it_takes(p, band) for p, band in cases] == want
    assert all(plan.reachable and plan.steps for plan in want)


def test_plan_search_is_bounded_by_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.whatif import scorer

    p = Profile(on_time_months=0, utilization=0.95, applications_6m=12, overdue_12m=4)
    assert what_it_takes(p, "good").reachable
    monkeypatch.setattr(scorer, "SEARCH_LIMIT", 3)
    scorer._levels.cache_clear()
    assert what_it_takes(p, "good") == what_it_takes(p, "good")
    assert not what_it_takes(p, "good").reachable


def test_plan_unknown_band_lists_valid_bands() -> None:
    with pytest.raises(WhatIfError, match="valid bands: starter, low, medium, good, high"):
        what_it_takes(Profile(), "platinum")



def _edited(tmp_path: Path, edit: Any) -> Path:
    doc = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    edit(doc)
    path = tmp_path / "edited.jdm.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_xianyu_bound_holds_even_if_the_table_is_edited(tmp_path: Path) -> None:
    def greedy(doc: dict[str, Any]) -> None:
        for node in doc["nodes"]:
            if node["id"] == "xianyu-orders-12m":
                node["content"]["rules"][0]["xianyu-orders-12m-pct"] = "150"

    rules = Rules(_edited(tmp_path, greedy))
    base = rules.evaluate(context_of(Profile(xianyu_orders_12m=0).as_dict()))
    more = rules.evaluate(context_of(Profile(xianyu_orders_12m=500).as_dict()))
    assert (base.low + base.high) < (more.low + more.high) <= (base.low + base.high) * 1.10


def test_other_node_kinds_are_evaluated_by_zen(tmp_path: Path) -> None:
    def with_function(doc: dict[str, Any]) -> None:
        doc["nodes"].append({
            "id": "passthrough-fn", "type": "functionNode", "name": "Pass through",
            "position": {"x": 2500, "y": 520},
            "content": {"source": "export const handler = async (input) => input;"},
        })
        doc["edges"] = [e for e in doc["edges"] if e["targetId"] != "response"]
        doc["edges"] += [
            {"id": "e1", "sourceId": "final-range", "targetId": "passthrough-fn", "type": "edge"},
            {"id": "e2", "sourceId": "passthrough-fn", "targetId": "response", "type": "edge"},
        ]

    rules = Rules(_edited(tmp_path, with_function))
    ctx = context_of(Profile(sesame_score=680).as_dict())
    assert rules.evaluate(ctx) == load_rules().evaluate(ctx)


def test_a_cycle_in_the_graph_is_refused_naming_it(tmp_path: Path) -> None:
    def loop(doc: dict[str, Any]) -> None:
        doc["edges"].append({"id": "back", "sourceId": "band", "targetId": "total-points",
                             "type": "edge"})

    with pytest.raises(RulesError, match="cycle"):
        Rules(_edited(tmp_path, loop))


def test_the_lowest_profile_still_gets_a_range_from_zero() -> None:
    """Every factor at its worst (other loans included) goes below the band table's -40 anchor:
    the range is floored at zero, never negative."""
    worst = Profile(sesame_score=350, on_time_months=0, overdue_12m=365, utilization=1,
                    applications_6m=1000, account_age_months=0, monthly_income=0,
                    other_loans=True)
    est = estimate_limit(worst)
    assert est.points == -46 and est.band == "starter" and 0 == est.low < est.high
