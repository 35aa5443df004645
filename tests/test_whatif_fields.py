"""assistant.whatif.fields: the registry every what-if face is built from, and the yes/no factor
it added (other loans) end to end."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.whatif.fields import FIELD_SPECS, FIELDS, FIELDS_PATH, load_fields, random_values
from assistant.whatif.profile import DEFAULTS, Profile, ProfileError
from assistant.whatif.reply import whatif_reply
from assistant.whatif.scorer import estimate_limit, what_if
from assistant.whatif.slots import parse_slots
from knowledge.errors import RulesError


def test_the_registry_drives_profile_defaults_and_labels() -> None:
    assert tuple(Profile.model_fields) == FIELDS
    assert Profile().as_dict() == DEFAULTS
    for spec in FIELD_SPECS.values():
        assert spec.label.zh and spec.label.en and spec.reason.zh and spec.reason.en
        assert spec.format(spec.default, "zh") and spec.format(spec.default, "en")


def test_an_unknown_key_or_a_wrong_type_names_the_file_the_field_and_the_key(
    tmp_path: Path,
) -> None:
    text = FIELDS_PATH.read_text(encoding="utf-8")
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("    range: [350, 950]", "    rnage: [350, 950]"), "utf-8")
    with pytest.raises(RulesError, match=r"typo\.yaml: field sesame_score: rnage") as exc:
        load_fields(typo)
    assert exc.value.field == "sesame_score"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("kind: yesno", "kind: maybe"), "utf-8")
    with pytest.raises(RulesError, match=r"field other_loans: kind"):
        load_fields(wrong)


def test_random_values_are_valid_profiles_and_repeat_for_a_seed() -> None:
    a = [random_values(random.Random(3)) for _ in range(1)]
    assert a == [random_values(random.Random(3))]
    rnd = random.Random(5)
    for _ in range(200):
        Profile(**random_values(rnd))  # raises if a probe value is out of range


def test_other_loans_is_a_yes_no_factor_that_lowers_the_estimate() -> None:
    assert Profile(other_loans=1).other_loans is True
    with pytest.raises(ProfileError, match="other_loans must be yes or no") as exc:
        Profile(other_loans="maybe")
    assert exc.value.field == "other_loans"
    w = what_if(Profile(), other_loans=True)
    assert w.after.points == w.before.points - 6
    assert "其他贷款（房贷、车贷等）从没有变为有" in w.explanation.zh
    codes = [r.code for r in estimate_limit(Profile(other_loans=True)).reasons]
    assert "OTHER_LOANS" in codes


@pytest.mark.parametrize(
    ("question", "values", "changes"),
    [("我有房贷，借呗额度大概多少", {"other_loans": True}, {}),
     ("芝麻分700 没有车贷 借呗能借多少", {"sesame_score": 700, "other_loans": False}, {}),
     ("如果我把房贷还清了，借呗额度能涨多少", {"other_loans": True}, {"other_loans": 0}),
     ("If I pay off my car loan, how much would my Jiebei limit go up?",
      {"other_loans": True}, {"other_loans": 0})],
)
def test_the_chat_reads_the_yes_no_factor(question: str, values: dict[str, object],
                                          changes: dict[str, object]) -> None:
    slots = parse_slots(question)
    assert slots.is_personal_whatif
    assert dict(slots.values) == values and dict(slots.changes) == changes


def test_a_mortgage_application_question_is_not_a_loan_being_repaid() -> None:
    """借呗 affecting a mortgage application is a knowledge question, not an estimate."""
    for question in ("明年打算买房 借呗还欠一万多 银行批房贷会看这个吗",
                     "用过借呗会不会影响以后申请车贷"):
        slots = parse_slots(question)
        assert "other_loans" not in slots.values and not slots.is_personal_whatif


def test_paying_off_the_mortgage_is_estimated_before_and_after() -> None:
    reply = whatif_reply("如果我把房贷还清了，借呗额度能涨多少", "zh")
    before, after = reply.estimate_before, reply.estimate_after
    assert before is not None and after is not None and after.points == before.points + 6
    assert "其他贷款（房贷、车贷等）从有变为没有" in reply.text


def test_the_command_line_has_an_option_per_field() -> None:
    from ui.cli import app

    runner = CliRunner()
    help_text = runner.invoke(app, ["what-if", "--help"]).output
    for spec in FIELD_SPECS.values():
        assert f"--{spec.option.name.replace('_', '-')}" in help_text
    out = runner.invoke(app, ["what-if", "--other-loans", "yes", "--change", "other_loans=no",
                              "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["profile"]["other_loans"] is True
    bad = runner.invoke(app, ["what-if", "--other-loans", "perhaps"])
    assert bad.exit_code == 2 and "other_loans must be yes or no" in bad.output


def test_the_range_a_user_reads_comes_from_the_registry_in_both_languages() -> None:
    """The page's error callout and the chat's out-of-range reply say the range the same way,
    in the page's units (a share as 0-100 %)."""
    assert FIELD_SPECS["sesame_score"].shown_range("zh") == " 350–950 之间的整数"
    assert FIELD_SPECS["sesame_score"].shown_range("en") == "a whole number from 350 to 950"
    assert FIELD_SPECS["utilization"].shown_range("zh") == " 0–100% 之间的数"
    assert FIELD_SPECS["utilization"].shown_range("en") == "a percentage from 0 to 100"
    assert FIELD_SPECS["other_loans"].shown_range("en") == "yes or no"
    zh = whatif_reply("额度使用率150%，芝麻分700，借呗额度大概多少", "zh").text
    assert "额度使用率应为 0–100% 之间的数，你给的 150% 不在范围内" in zh
