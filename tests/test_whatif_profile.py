"""The what-if Profile: ranges, defaults and error messages that name the field."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.whatif.profile import (
    DEFAULTS,
    FIELD_SPECS,
    FIELDS,
    Profile,
    ProfileError,
    check_value,
    format_value,
)


def test_defaults_are_a_valid_typical_profile() -> None:
    p = Profile()
    assert p.as_dict() == DEFAULTS
    assert set(DEFAULTS) == set(FIELDS)
    assert Profile(**DEFAULTS) == p


def test_issue_example_builds() -> None:
    p = Profile(sesame_score=680, on_time_months=12, overdue_12m=0, utilization=0.3,
                applications_6m=1, account_age_months=36, monthly_income=None, xianyu_orders_12m=5)
    assert p.key() == (680, 12, 0, 0.3, 1, 36, None, 5, False)


def test_profile_is_frozen_and_hashable() -> None:
    p = Profile(sesame_score=700)
    with pytest.raises(ValueError, match="frozen"):  # pydantic's ValidationError
        p.sesame_score = 710
    assert hash(p) == hash(Profile(sesame_score=700))


@pytest.mark.parametrize(
    ("field", "bad", "range_text"),
    [
        ("sesame_score", 349, "between 350 and 950"),
        ("sesame_score", 951, "between 350 and 950"),
        ("sesame_score", 1000, "between 350 and 950"),
        ("on_time_months", -1, "between 0 and 600"),
        ("on_time_months", 601, "between 0 and 600"),
        ("overdue_12m", 366, "between 0 and 365"),
        ("utilization", 1.01, "between 0 and 1"),
        ("utilization", -0.1, "between 0 and 1"),
        ("utilization", float("nan"), "between 0 and 1"),
        ("utilization", float("inf"), "between 0 and 1"),
        ("applications_6m", 1001, "between 0 and 1000"),
        ("account_age_months", 1201, "between 0 and 1200"),
        ("monthly_income", -5, ">= 0 or None"),
        ("xianyu_orders_12m", -1, ">= 0"),
        ("sesame_score", 680.5, "integer"),
        ("sesame_score", "680", "integer"),
        ("sesame_score", True, "integer"),
        ("sesame_score", None, "between 350 and 950"),
        ("overdue_12m", [1], "integer"),
    ],
)
def test_invalid_values_name_the_field_and_range(field: str, bad: object, range_text: str) -> None:
    with pytest.raises(ProfileError) as info:
        Profile(**{field: bad})
    message = str(info.value)
    assert message.startswith(field)
    assert range_text in message
    assert isinstance(info.value, ValueError)
    assert "\n" not in message


def test_unknown_field_lists_valid_fields() -> None:
    with pytest.raises(ProfileError, match="valid fields: sesame_score"):
        Profile(sesame=700)


def test_integral_floats_are_accepted_and_utilization_is_rounded() -> None:
    p = Profile(sesame_score=700.0, utilization=0.1 + 0.2)
    assert p.sesame_score == 700 and isinstance(p.sesame_score, int)
    assert p.utilization == 0.3


def test_income_may_be_unknown_and_huge() -> None:
    assert Profile(monthly_income=None).monthly_income is None
    assert Profile(monthly_income=10**30).monthly_income == 10**30


def test_with_changes_validates() -> None:
    p = Profile()
    assert p.with_changes(overdue_12m=2).overdue_12m == 2
    with pytest.raises(ProfileError, match="overdue_12m"):
        p.with_changes(overdue_12m=-2)


def test_check_value_and_format_value() -> None:
    assert check_value("utilization", 0.5) == 0.5
    with pytest.raises(ProfileError, match="unknown profile field"):
        check_value("nope", 1)
    assert format_value("utilization", 0.3, "en") == "30%"
    assert format_value("on_time_months", 12, "zh") == "12个月"
    assert format_value("monthly_income", None, "zh") == "未提供"
    assert format_value("monthly_income", 12000, "en") == "¥12,000"


@given(field=st.sampled_from([f for f in FIELDS if FIELD_SPECS[f].maximum is not None]),
       offset=st.integers(min_value=1, max_value=10**6))
def test_any_value_above_the_range_is_rejected_by_name(field: str, offset: int) -> None:
    spec = FIELD_SPECS[field]
    assert spec.maximum is not None
    bad = spec.maximum + (offset if spec.kind is int else offset / 1000)
    with pytest.raises(ProfileError) as info:
        Profile(**{field: bad})
    assert field in str(info.value) and spec.describe_range() in str(info.value)


@given(field=st.sampled_from(FIELDS), offset=st.integers(min_value=1, max_value=10**6))
def test_any_value_below_the_range_is_rejected_by_name(field: str, offset: int) -> None:
    spec = FIELD_SPECS[field]
    with pytest.raises(ProfileError) as info:
        Profile(**{field: spec.minimum - offset})
    assert str(info.value).startswith(field)


@given(st.floats(min_value=0, max_value=1, allow_nan=False))
def test_any_utilization_in_range_is_kept_to_four_decimals(u: float) -> None:
    value = Profile(utilization=u).utilization
    assert 0 <= value <= 1
    assert math.isclose(value, u, abs_tol=5e-5)
