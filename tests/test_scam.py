"""assistant.scam: scam stories are flagged; ordinary product questions are not."""

from __future__ import annotations

import re

import pytest

from assistant.errors import ConfigError
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
    # families generalised after holdout-2's misses: police impersonation, a fee to raise a
    # limit or score (either order), paid record removal, passwords and ID photos
    "自称公安的人说我涉嫌洗钱，要我把钱转到监管账户配合调查",
    "Caller says he is a police officer and I must move my savings into a designated account",
    "收到短信说花呗额度能提到3万，先交299服务费",
    "对方说芝麻分可以帮我刷到750，先付300定金",
    "the guy says if I pay 200 yuan he can raise my Huabei limit to 20000",
    "got a text saying my jiebei limit can go up to 50k if I pay a 99 fee first",
    "有个中介说交800手续费就能把我的征信不良记录清除",
    "Someone messaged me offering to delete my overdue record from my credit report for 1500 yuan",
    "闲鱼买家让我拍身份证正反面发给他",
    "卖家要我把支付宝密码告诉他，说帮我退款",
    "the buyer wants me to send him the SMS code and a photo of my ID card",
    # the open-credit family still fires with its "so that" (才能 / 以便 ...)
    "对方说我得先开通花呗才能收到货款",
    "他说到账前要先开个借呗",
]
NOT_SCAMS = [
    # merchants enabling credit collection, top-ups, fees: everyday questions (real customer
    # questions were flagged by looser patterns: 1.2% false alarms)
    "我开的小店怎么开通花呗收款",
    "商家用收钱码收花呗要扣多少手续费",
    "想停掉收款码上的花呗收钱功能",
    "用花呗交的话费怎么还没到账啊",
    "借呗借的钱多久到账",
    "用花呗付的时候要不要输验证码",
    "花呗分期的提前还清了手续费还收不收",
    "花呗消费记录能删掉吗",
    "支付宝里有钱，怎么把钱提到卡里再还花呗",
    "借呗怎么开通",
    "花呗怎么提额",
    "闲鱼的钱什么时候到账",
    "短信验证码可以发给别人吗",
    "花呗套现会有什么后果",
    "How do I raise my Huabei limit?",
    "Is paying inside the Xianyu app protected?",
    "闲鱼里怎么找到官方人工客服投诉卖家",
    "借呗逾期了会怎样",
    "征信修复公司靠谱吗",
    "征信上的逾期记录多久能消除",
    "支付宝密码忘了怎么办",
    "How do I secure my Alipay account?",
    "警察打电话叫我去派出所做笔录，是真的吗",
    "实名认证要上传身份证照片吗",
    "借呗额度提到5万要多久",
    "will my jiebei limit go up if I pay off my huabei?",
    "how long until my limit goes up after I pay the bill",
    "闲鱼卖家收到货款要交手续费吗",
    "My friend says I should never tell anyone my SMS code, not even the bank. Is she right?",
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
    assert reason is not None and (reason.rule, reason.family) == ("strong", "safe_account")
    generic = ScamDetector.load().matched("对方让我加微信私下交易")
    assert generic is not None and (generic.rule, generic.family) == ("demand", None)


def test_a_bad_pattern_names_file_and_group(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.patterns import load_pattern_groups

    rules = tmp_path / "rules.yaml"
    rules.write_text("strong:\n  - '(unclosed'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules.yaml: bad pattern under 'strong'"):
        load_pattern_groups(rules, ["strong", "someone"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strong:\n  a: ['x']\ndemnad: ['y']\n",
         "unknown group 'demnad'; valid groups: strong, demand"),
        ("strong: ['x']\n", "'strong' must map family names to lists of patterns"),
        ("strong:\n  a: '(unclosed'\n", "'strong.a' must be a list of patterns"),
        ("strong:\n  a: ['(unclosed']\n", "bad pattern under 'strong.a'"),
    ],
)
def test_a_misspelled_group_or_a_bad_family_is_an_error(tmp_path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    from assistant.patterns import load_pattern_groups

    rules = tmp_path / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_pattern_groups(rules, ["strong", "demand"], families=["strong"])


def test_every_scam_family_is_explained_by_its_entry() -> None:
    from knowledge.loader import load_knowledge

    entries = load_knowledge().by_id()
    families = ScamDetector.load().families
    assert len(families) >= 7
    for family in families:
        entry = entries.get(f"scam-{family.replace('_', '-')}")
        assert entry is not None and entry.is_scam, family
