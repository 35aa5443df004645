"""assistant.scam: scam stories are flagged; ordinary product questions are not."""

from __future__ import annotations

import pytest

from assistant.scam import ScamDetector

SCAMS = [
    "买家说我要先开通借呗才能收款",
    "闲鱼买家说我的店铺没开通保证金，要我扫码交钱才能收款",
    "客服让我把钱转到安全账户",
    "对方说要证明我的还款能力，让我先借一笔钱转过去",
    "有人说交500块手续费能帮我提升花呗额度",
    "卖家让我加微信私下转账，说便宜一百",
    "快递说丢件了要理赔，让我填银行卡号和验证码",
    "自称客服的人叫我下载会议软件共享屏幕",
    "someone on xianyu asked me to open Jiebei to receive the payment",
    "The buyer says my funds are frozen and I must pay a deposit to unfreeze them",
    "A seller told me to move the chat to WeChat and pay him directly",
]
NOT_SCAMS = [
    "借呗怎么开通",
    "花呗怎么提额",
    "闲鱼的钱什么时候到账",
    "短信验证码可以发给别人吗",
    "花呗套现会有什么后果",
    "How do I raise my Huabei limit?",
    "Is paying inside the Xianyu app protected?",
    "闲鱼里怎么找到官方人工客服投诉卖家",
    "借呗逾期了会怎样",
]


@pytest.fixture(scope="module")
def detector() -> ScamDetector:
    return ScamDetector.load()


@pytest.mark.parametrize("question", SCAMS)
def test_flags_scam_stories(detector: ScamDetector, question: str) -> None:
    assert detector.check(question), question


@pytest.mark.parametrize("question", NOT_SCAMS)
def test_ordinary_questions_are_not_flagged(detector: ScamDetector, question: str) -> None:
    assert not detector.check(question), detector.matched(question)


def test_retrieval_evidence_needs_a_story() -> None:
    d = ScamDetector.load()
    assert d.check("有人打电话说是闲鱼客服，说我的订单异常", scam_evidence=True)
    assert d.check("被冒充客服骗了，还用借呗借了钱", scam_evidence=True)
    assert not d.check("闲鱼的官方客服电话是多少", scam_evidence=True)
    assert not d.check("有人打电话说是闲鱼客服，说我的订单异常", scam_evidence=False)


def test_explains_which_rule_fired() -> None:
    reason = ScamDetector.load().matched("客服让我把钱转到安全账户")
    assert reason is not None and reason.startswith("strong")


def test_a_bad_pattern_names_file_and_group(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.patterns import load_pattern_groups

    rules = tmp_path / "rules.yaml"
    rules.write_text("strong:\n  - '(unclosed'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules.yaml: bad pattern under 'strong'"):
        load_pattern_groups(rules, ["strong", "someone"])
