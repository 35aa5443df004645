"""``mingbai what-if`` through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from assistant.whatif import NOTICE, Profile, estimate_limit, what_if
from assistant.whatif.cli import parse_value, register

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Mingbai (test harness: a callback keeps 'what-if' a subcommand)."""

    register(app)
    return app


def test_plain_estimate(app: typer.Typer) -> None:
    result = runner.invoke(app, ["what-if", "--sesame", "700", "--overdue", "1", "--lang", "en"])
    assert result.exit_code == 0, result.output
    est = estimate_limit(Profile(sesame_score=700, overdue_12m=1))
    assert f"¥{est.low:,}–¥{est.high:,}" in result.output
    assert NOTICE["en"] in result.output
    assert f"rules_version: {est.rules_version}" in result.output


def test_json_with_changes(app: typer.Typer) -> None:
    result = runner.invoke(app, [
        "what-if", "--sesame", "700", "--overdue", "1", "--utilization", "30%",
        "--change", "overdue_12m=3", "--change", "utilization=0.5", "--json",
    ])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    w = what_if(Profile(sesame_score=700, overdue_12m=1, utilization=0.3),
                overdue_12m=3, utilization=0.5)
    assert doc["before"]["low"] == w.before.low and doc["after"]["high"] == w.after.high
    assert doc["changed"] == {"overdue_12m": [1, 3], "utilization": [0.3, 0.5]}
    assert doc["profile"]["sesame_score"] == 700
    assert "sesame_score" not in doc["assumed"] and "on_time_months" in doc["assumed"]
    assert doc["notice"] == NOTICE["zh"]
    assert doc["plan"]["target_band"] and "reachable" in doc["plan"]
    assert doc["rules_version"] == w.before.rules_version


def test_income_none_and_target(app: typer.Typer) -> None:
    result = runner.invoke(app, ["what-if", "--income", "none", "--target", "high", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["profile"]["monthly_income"] is None and doc["plan"]["target_band"] == "high"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--sesame", "1000"], "sesame_score must be an integer between 350 and 950"),
     (["--sesame", "abc"], "sesame_score must be an integer between 350 and 950"),
     (["--utilization", "150%"], "utilization must be a number between 0 and 1"),
     (["--overdue", "-1"], "overdue_12m must be an integer between 0 and 365"),
     (["--change", "overdue_12m"], "--change expects field=value"),
     (["--change", "sesame=700"], "unknown field 'sesame'; valid fields: sesame_score"),
     (["--change", "applications_6m=2000"],
      "applications_6m must be an integer between 0 and 1000"),
     (["--target", "platinum"], "valid bands: starter, low, medium, good, high")],
)
def test_invalid_values_exit_2_with_one_line(app: typer.Typer, args: list[str],
                                             message: str) -> None:
    result = runner.invoke(app, ["what-if", *args])
    assert result.exit_code == 2
    output = result.output.strip()
    assert message in output
    assert len(output.splitlines()) == 1


def test_parse_value() -> None:
    assert parse_value("utilization", "30%") == 0.3
    assert parse_value("utilization", "0.25") == 0.25
    assert parse_value("monthly_income", "none") is None
    assert parse_value("sesame_score", " 700 ") == 700
