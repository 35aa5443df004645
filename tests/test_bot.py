"""assistant.bot: the public ``Assistant.ask`` API end to end (real model, real Chroma)."""

from __future__ import annotations

import pytest

from assistant.answer import Answer, Citation

pytestmark = pytest.mark.slow


def test_seed_question_in_chinese(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("在闲鱼买东西会开通借呗吗?")
    assert isinstance(ans, Answer)
    assert ans.route == "knowledge" and ans.language == "zh" and not ans.abstained
    assert ans.citations[0].doc_id == "xianyu-buying-does-not-open-jiebei"
    assert isinstance(ans.citations[0], Citation) and ans.citations[0].score > 0
    assert ans.text.startswith("**不会")
    assert "来源：" in ans.text and "[1]" in ans.text
    assert ans.scam_warning is None
    assert {"embed_ms", "store_ms", "total_ms"} <= set(ans.timings)


def test_seed_question_in_english(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("Does buying on Xianyu open Jiebei?")
    assert ans.language == "en" and ans.citations[0].doc_id == "xianyu-buying-does-not-open-jiebei"
    assert ans.text.startswith("**No") and "Sources:" in ans.text


@pytest.mark.parametrize(
    "question",
    ["在閒魚買東西會開通借唄嗎", "咸鱼买东西会开通借被吗", "idle fish 买东西 会不会开 jiebei"],
)
def test_traditional_typos_and_mixed_get_chinese_answers(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask(question)
    assert ans.language == "zh"
    assert ans.citations[0].doc_id == "xianyu-buying-does-not-open-jiebei"


def test_out_of_scope_abstains(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("今天北京天气怎么样？")
    assert ans.route == "out_of_scope" and ans.abstained and not ans.citations
    assert "不知道" in ans.text


def test_uncovered_in_domain_question_abstains(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("支付宝怎么交电费")
    assert ans.abstained and "不知道" in ans.text and not ans.citations


def test_scam_story_gets_warning_first(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码")
    assert ans.scam_warning is not None
    assert ans.text.startswith(ans.scam_warning)
    assert "96110" in ans.text
    assert ans.citations and ans.citations[0].doc_id.startswith("scam-")


def test_ordinary_question_has_no_scam_warning(bot) -> None:  # type: ignore[no-untyped-def]
    assert bot.ask("借呗怎么提前还款").scam_warning is None


def test_a_scam_told_over_several_messages_gets_the_warning(bot) -> None:  # type: ignore[no-untyped-def]
    caller = [
        {"role": "user", "content": "有人给我打电话说是支付宝客服，说我的花呗要关闭"},
        {"role": "assistant", "content": "…"},
    ]
    question = "现在要我把验证码报给他，要给吗"  # no third party in this message alone
    assert bot.ask(question).scam_warning is None
    assert bot.ask(question, caller).scam_warning is not None
    ordinary = [{"role": "user", "content": "花呗怎么还款"}, {"role": "assistant", "content": "…"}]
    assert bot.ask("还款日能改吗", ordinary).scam_warning is None
    assert bot.ask_many([question], [caller])[0].scam_warning is not None


def test_followup_uses_history(bot) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "借呗逾期了会怎样"},
        {"role": "assistant", "content": bot.ask("借呗逾期了会怎样").text},
    ]
    ans = bot.ask("那花呗呢?", history=history)
    assert ans.citations[0].doc_id == "huabei-overdue-consequences"


def test_personal_numbers_are_never_echoed(bot, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.INFO, logger="mingbai")
    ans = bot.ask("我身份证11010519491231002X，手机13812345678，借呗为什么开不了")
    assert "11010519491231002X" not in ans.text and "13812345678" not in ans.text
    assert "11010519491231002X" not in caplog.text and "13812345678" not in caplog.text
    assert "138****5678" in caplog.text


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01"])
def test_empty_question_is_a_clear_value_error(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="question is empty"):
        bot.ask(question)


def test_long_question_is_trimmed_with_a_note(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("花呗怎么提前还款？" + "啊" * 5000)
    assert ans.notes and "2000" in ans.notes[0]
    assert ans.text.startswith(ans.notes[0])


def test_control_characters_are_removed(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("花呗\x00怎么\x1b提前\u200b还款")
    assert ans.citations[0].doc_id == "huabei-early-repayment"


def test_never_claims_to_see_an_account(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("帮我查一下我的借呗额度是多少")
    assert not ans.abstained
    assert ans.citations[0].doc_id in {"about-mingbai", "general-account-lookup",
                                       "jiebei-limit-check"}
    assert "看不到" in ans.text


def test_whatif_questions_are_routed_to_the_scorer(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("芝麻分从650涨到720,借呗额度会怎样?")
    assert ans.route == "whatif" and not ans.abstained
    assert "教育" in ans.text


def test_ask_many_batches_and_matches_ask(bot) -> None:  # type: ignore[no-untyped-def]
    questions = [
        "花呗怎么提前还款",
        "今天天气怎么样",
        "芝麻分700,逾期1次,借呗额度大概多少?",
        "那借呗呢?",
    ]
    histories = [None, None, None, [{"role": "user", "content": "花呗怎么提前还款"}]]
    many = bot.ask_many(questions, histories)
    single = [bot.ask(q, h) for q, h in zip(questions, histories, strict=True)]
    assert [a.text for a in many] == [a.text for a in single]
    assert [a.route for a in many] == ["knowledge", "out_of_scope", "whatif", "knowledge"]
    assert many[3].citations[0].doc_id == "jiebei-early-repayment"


def test_browse_and_find_entries(bot) -> None:  # type: ignore[no-untyped-def]
    entries = bot.knowledge_entries()
    assert len(entries) >= 60 and entries == sorted(entries, key=lambda e: e.id)
    found = bot.find_entries("花呗 分期 手续费", k=3)
    assert found[0].doc_id == "huabei-instalments-and-fees" and found[0].sources
    assert bot.find_entries("   ") == []


# -- messages that are not plain questions (assistant.dialogue) -------------------------------
def test_greetings_and_thanks_get_one_line(bot) -> None:  # type: ignore[no-untyped-def]
    for message in ("你好", "谢谢", "hello"):
        ans = bot.ask(message)
        assert ans.route == "conversation" and not ans.abstained and not ans.citations
        assert "不知道" not in ans.text and "don't know" not in ans.text
        assert ans.text.count("\n") == 0


def test_asking_for_a_person_gets_the_official_channels(bot) -> None:  # type: ignore[no-untyped-def]
    for message in ("转人工", "I want to talk to a human"):
        ans = bot.ask(message)
        assert not ans.abstained and "95188" in ans.text
        assert ans.citations[0].doc_id == "general-human-customer-service"


@pytest.mark.parametrize(("fragment", "entry_id"), [
    ("借呗提额", "jiebei-raise-limit"), ("蚂蚁借呗关闭", "jiebei-close-service"),
])
def test_a_fragment_naming_a_product_and_an_act_is_answered(bot, fragment: str, entry_id: str  # type: ignore[no-untyped-def]
                                                            ) -> None:
    """Its likeliest meaning (the act's first menu entry for that product) is also the closest
    entry: answered from it, with other questions on offer, not asked about."""
    ans = bot.ask(fragment)
    assert not ans.clarifying and ans.citations[0].doc_id == entry_id
    assert ans.suggestions


def test_an_account_look_up_says_mingbai_cannot_see_it_first(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("帮我查一下我的借呗现在是逾期吗")
    assert ans.text.startswith("明白看不到任何人的账户") and "借呗页面" in ans.text
    assert ans.route == "knowledge" and not ans.abstained
    en = bot.ask("can you check my huabei limit for me")
    assert en.text.startswith("Mingbai cannot see anyone's account")


@pytest.mark.parametrize("fragment", ["花呗", "额度", "我之前借的借呗", "征信", "花呗借呗提额"])
def test_a_fragment_gets_a_clarifying_question(bot, fragment: str) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask(fragment)
    assert ans.clarifying and not ans.abstained and not ans.citations
    assert 2 <= len(ans.suggestions) <= 3 and all(s in ans.text for s in ans.suggestions)
    for suggestion in ans.suggestions:  # each suggestion is itself answerable
        assert not bot.ask(suggestion).abstained


def test_a_huabei_question_is_never_answered_from_a_jiebei_entry(bot) -> None:  # type: ignore[no-untyped-def]
    for question in ("花呗能提前还款吗", "花呗每个月几号还款", "花唄額度怎麼提高"):
        ans = bot.ask(question)
        assert all("jiebei" not in c.doc_id for c in ans.citations), (question, ans.citations)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # the third part names neither product nor topic: it is about the subject's 花呗 自动还款
        ("花呗自动还款是从哪里扣的钱？能关掉不？还有扣款没成功咋整",
         ["huabei-autodebit-how", "huabei-autodebit-cancel", "huabei-autodebit-failed"]),
        # "降了" does not borrow the "涨额度" of the part before it
        ("花呗额度在app哪个地方看？要怎么才能涨额度？另外为啥最近给我降了",
         ["huabei-limit-check", "huabei-raise-limit", "huabei-limit-dropped"]),
        # out of scope alone ("it"), a Jiebei question with the part before it
        ("does jiebei get reported to the credit bureau? Also will having used it hurt my "
         "mortgage application?", ["jiebei-credit-report", "jiebei-affects-mortgage"]),
        # "跟…有啥关系" relates to the 芝麻分 of the part before
        ("芝麻分到底是怎么算出来的？跟花呗借呗的额度有啥关系",
         ["sesame-score-factors", "sesame-huabei-jiebei-relation"]),
    ],
)  # fmt: skip
def test_each_part_is_answered_from_its_entry(bot, message: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask(message)
    got = [p.citations[0].doc_id if p.citations and not p.abstained else None for p in ans.parts]
    assert got == expected, [(p.question, p.retrieved[:3]) for p in ans.parts]


def test_a_later_part_borrows_the_same_words_in_every_process(bot) -> None:  # type: ignore[no-untyped-def]
    """\"收钱码\" and "收钱" start at the same place: the longer is taken, not whichever a set (its
    order set by the process's hash seed) lists first — the HTTP server once answered otherwise."""
    subject = "我开了个小店，顾客用收钱码付花呗我这边要扣手续费吗？"
    query = bot._part_query("钱多久能到我账上", [subject])
    assert query.text == "花呗 顾客 收钱码 钱多久能到我账上"


def test_questions_left_unanswered_are_listed_without_markup(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("花呗怎么还款？借呗怎么还款？网商贷怎么还？芝麻分怎么涨？"
                  "<script>alert(1)</script>有用吗？")
    assert len(ans.parts) == 3 and "芝麻分怎么涨" in ans.notes[0]
    assert "<script" not in ans.text.lower() and "<script" not in ans.notes[0].lower()


def test_a_part_that_is_a_what_if_goes_to_the_scorer(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("花呗怎么还款？芝麻分从650涨到720借呗额度会怎样？")
    assert [p.route for p in ans.parts] == ["knowledge", "whatif"]
    assert ans.parts[0].citations and "教育" in ans.parts[1].text


def test_a_near_tie_about_different_things_asks_which_with_both_answers(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("花呗扣了我的钱")  # an automatic repayment, or a bank charge not credited?
    cited = [c.doc_id for c in ans.citations]
    assert ans.clarifying and not ans.abstained and len(cited) == 2
    assert ans.suggestion_ids == tuple(cited)  # the chips send the two questions
    assert ans.text.startswith("你问的可能是下面两件事之一") and "[2]" in ans.text
    assert "来源" in ans.text
    chosen = bot.ask(ans.suggestions[0])  # a chip: the full answer, no question back
    assert not chosen.clarifying and chosen.citations[0].doc_id == cited[0]


def test_a_question_is_prepared_once(bot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Routing, the follow-up check, search, the decision, the scam check and the suggestions all
    read one prepared object: the message is normalised once and slot-parsed once, and a
    follow-up adds one more text (the query it resolved to), not one per step."""
    import assistant.whatif.slots as slots
    import retrieval.prepared as prepared

    normalised: list[str] = []
    parsed: list[str] = []
    real_normalize, real_parse = prepared.normalize, slots._parse
    monkeypatch.setattr(prepared, "normalize",
                        lambda t: normalised.append(t) or real_normalize(t))
    monkeypatch.setattr(slots, "_parse", lambda t: parsed.append(t) or real_parse(t))
    bot.ask("借呗能提前还吗")
    assert normalised == ["借呗能提前还吗"] and len(parsed) == 1
    normalised.clear()
    parsed.clear()
    history = [{"role": "user", "content": "花呗逾期有什么后果"},
               {"role": "assistant", "content": "…"}]
    ans = bot.ask("那借呗呢", history)
    assert ans.citations and "jiebei" in ans.citations[0].doc_id
    assert normalised.count("那借呗呢") == 1 and len(normalised) == len(set(normalised)) <= 4
    assert len(parsed) <= 2  # the message and the query it resolved to, once each


def test_knowledge_search_uses_the_answer_rule(bot) -> None:  # type: ignore[no-untyped-def]
    """A search finds only entries that could answer: nothing for the weather, the right entry
    for a covered question, no scam entry for an ordinary one."""
    assert bot.find_entries("今天北京天气怎么样") == []
    assert bot.find_entries("what's the weather like in Shanghai") == []
    found = bot.find_entries("在闲鱼买东西会开通借呗吗", k=5)
    assert found and found[0].doc_id == "xianyu-buying-does-not-open-jiebei"
    assert all(not c.doc_id.startswith("scam-") for c in bot.find_entries("借呗怎么还款"))


def test_every_example_on_the_page_gets_the_answer_it_promises(bot) -> None:  # type: ignore[no-untyped-def]
    """The chips a newcomer clicks first: the what-if examples estimate, the others answer from
    the entry they are about, the scam story gets the warning."""
    from ui.web import EXAMPLES

    kinds = {q: bot.ask(q) for q in EXAMPLES}
    for q, ans in kinds.items():
        assert not ans.abstained and not ans.clarifying, q
    assert kinds["What if my Sesame score goes from 650 to 720?"].route == "whatif"
    assert "¥" in kinds["What if my Sesame score goes from 650 to 720?"].text
    assert kinds["如果逾期两次，借呗额度会降多少?"].route == "whatif"
    assert kinds["闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码"].scam_warning
    for q in ("在闲鱼买东西会开通借呗吗?", "Does buying on Xianyu open Jiebei?"):
        assert kinds[q].citations[0].doc_id == "xianyu-buying-does-not-open-jiebei", q
    assert kinds["借呗逾期有什么后果?"].citations[0].doc_id.startswith("jiebei-overdue")
