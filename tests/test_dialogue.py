"""assistant.dialogue: greetings, thanks, hand-offs, account look-ups and fragments are told
apart from ordinary questions; the rules file is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.dialogue import DialogueRules
from assistant.errors import ConfigError


@pytest.fixture(scope="module")
def rules() -> DialogueRules:
    return DialogueRules.load()


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("你好", "greeting"), ("您好！", "greeting"), ("在吗", "greeting"), ("hello", "greeting"),
        ("谢谢", "thanks"), ("好的谢谢", "thanks"), ("thanks!", "thanks"),
        ("转人工", "handoff"), ("我要人工客服", "handoff"), ("花呗客服电话多少", "handoff"),
        ("can I talk to a human", "handoff"),
        ("帮我查一下我的借呗现在是逾期吗", "lookup"), ("我的额度是多少", "lookup"),
        ("我是不是逾期了", "lookup"), ("check my huabei limit please", "lookup"),
        ("am I overdue on jiebei", "lookup"),
        # ordinary questions, even with a greeting or a thanks in them
        ("花呗怎么提前还款", None), ("你好，借呗能提前还吗", None), ("谢谢，那花呗分期呢", None),
        ("借呗逾期有什么后果", None), ("What happens if I repay Jiebei late?", None),
    ],
)  # fmt: skip
def test_kinds(rules: DialogueRules, message: str, kind: str | None) -> None:
    assert rules.kind(message) == kind


@pytest.mark.parametrize(
    ("message", "fragment"),
    [("花呗", True), ("额度", True), ("我之前借的借呗", True), ("借呗 网商银行", True),
     ("花呗还款", True), ("花呗能提前还吗", False), ("借呗额度怎么提", False),
     ("Huabei", True), ("how do I repay huabei", False),
     # one product shown as another is a question, not a topic
     ("借呗成网商贷了", False), ("借呗变成网商贷", False), ("借呗 网商贷", True)],
)  # fmt: skip
def test_fragments(rules: DialogueRules, message: str, fragment: bool) -> None:
    assert rules.is_fragment(message) is fragment


def test_replies_exist_in_both_languages(rules: DialogueRules) -> None:
    for key in ("greeting", "thanks", "lookup", "clarify"):
        assert rules.reply(key, "zh", products="花呗", topic="花呗")
        assert rules.reply(key, "en", products="Huabei", topic="Huabei")
    assert "95188" in rules.reply("lookup", "zh", products="花呗")


def test_the_rules_file_is_validated(tmp_path: Path) -> None:
    good = Path("assistant/rules/dialogue.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "dialogue.yaml"
    bad.write_text(good + "\ngreetings: [hi]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"greetings: unknown key \(check its spelling\)"):
        DialogueRules.load(bad)
    bad.write_text(good.replace("handoff:\n", "handoff:\n  - '(unclosed'\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="bad pattern under 'handoff'"):
        DialogueRules.load(bad)


def test_every_entry_the_rules_name_exists(rules: DialogueRules) -> None:
    from knowledge.loader import load_knowledge

    ids = {e.id for e in load_knowledge().entries}
    named = {*rules.handoff_entries, *rules.lookup_entries,
             *(e for menu in rules.menus.values() for e in menu)}  # fmt: skip
    assert named <= ids, sorted(named - ids)


def test_a_fragment_offers_its_topic_first(rules: DialogueRules) -> None:
    assert rules.menu("临时额度")[0] == "huabei-temp-limit-get"
    assert rules.menu("额度")[0] == "huabei-limit-check"


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        # a later part opened by a connective, or asked with a closing 不, is its own question
        ("在闲鱼买东西能用花呗吗？还有二手的东西支持七天无理由退不", 2),
        ("花呗自动还款从哪扣？能关掉不？", 2),
        # a space or a comma between two whole questions
        ("借呗借出来多久到账 还有一次最多能借多少", 2),
        ("花呗怎么关掉啊，关了还能再开吗", 2),
        # ... but what only adds to the question before stays with it
        ("为什么我的借呗没有额度？之前看到是有的", 1),
        ("借呗为什么不能用了，是不是因为逾期了", 1),
        ("花呗账单多扣了钱 怎么办", 1),
        ("我的花呗有逾期吗，怎么回事", 1),
        ("我的借呗额度被降了，为什么呢", 1),
    ],
)  # fmt: skip
def test_split_finds_each_question(rules: DialogueRules, message: str, parts: int) -> None:
    assert len(rules.split(message)) == parts


def test_a_part_that_relates_to_the_one_before_leans_back(rules: DialogueRules) -> None:
    assert rules.leans_back("跟花呗借呗的额度有啥关系")
    assert rules.leans_back("和借呗有什么区别")
    assert not rules.leans_back("花呗额度有啥用")
    assert not rules.leans_back("芝麻分跟花呗有关系吗")  # names its own subject first


def test_a_bad_leans_back_pattern_names_its_key(tmp_path: Path) -> None:
    good = Path("assistant/rules/dialogue.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "dialogue.yaml"
    bad.write_text(good.replace("leans_back:\n", "leans_back:\n  - '(unclosed'\n", 1),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="bad pattern under 'leans_back'"):
        DialogueRules.load(bad)
