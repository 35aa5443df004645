"""The page's own words, one language at a time: Gradio's I18n shows each in the browser's
language (Chinese for a Chinese browser, English otherwise). Answers follow the question's
language, whatever the page's.

The key of each text is its Chinese wording, so a page launched without the translations still
reads in Chinese. Pass ``page_i18n()`` to ``launch`` or ``mount_gradio_app``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import gradio as gr

# near the chat's input, one line each (the hand-off facts are general-human-customer-service's)
INDEPENDENT_LINE = ("明白是独立的问答助手，不属于蚂蚁集团，看不到你的账户；"
                    "找官方人工客服：支付宝 App 内“我的客服”，或拨打 95188。")
RECORDING_LINE = ("为改进回答，提问会在去掉证件号、手机号、银行卡号等个人号码后记录，"
                  "保留 {days} 天，不记录回答原文；部署方可用 MINGBAI_LOG_QUESTIONS=0 关闭。")

# Chinese (the key) -> English. Texts with {days} are filled with MINGBAI_LOG_DAYS.
ENGLISH: dict[str, str] = {
    "问答": "Chat",
    "额度模拟": "What-if",
    "知识库": "Knowledge",
    "提问": "Ask",
    "新对话": "New chat",
    "输入问题…": "Type a question…",
    "示例问题": "Example questions",
    "猜你想问": "Related questions",
    "# 明白 Mingbai\n花呗、借呗、芝麻信用、征信与闲鱼防骗：有来源的解答。":
        "# 明白 Mingbai\nSourced answers about Huabei, Jiebei, Sesame Credit, credit reports "
        "and Xianyu scams.",
    "**明白** · 花呗、借呗、芝麻信用、征信、闲鱼防骗；有来源的回答。":
        "**Mingbai** · Huabei, Jiebei, Sesame Credit, credit reports, Xianyu scams: sourced "
        "answers.",
    INDEPENDENT_LINE:
        "Mingbai is independent of Ant Group and cannot see your account; for a human agent use "
        "我的客服 (customer service) in the Alipay app or call 95188.",
    RECORDING_LINE:
        "Questions are recorded without personal numbers to improve answers, kept {days} days "
        "(MINGBAI_LOG_DAYS), answers not stored; MINGBAI_LOG_QUESTIONS=0 turns it off.",
    "对上一条回答有话要说？（可选，请不要写个人号码）":
        "Anything to add about the last answer? (optional; no personal numbers, please)",
    "发送反馈": "Send feedback",
    "### 你的情况": "### Your profile",
    "### 改变": "### Change",
    "估算": "Estimate",
    "各因素加减分": "Points each factor adds or takes away",
    "搜索知识库": "Search the knowledge base",
    "搜索": "Search",
    "搜索结果": "Results",
    "查看条目": "View an entry",
    "选择一个条目。": "Choose an entry.",
}


def tr(chinese: str) -> Any:
    """The page text ``chinese``, shown in the browser's language ({days} is filled once, from
    the settings)."""
    if chinese not in ENGLISH:
        raise KeyError(f"no English for page text {chinese!r}: add it to ui/i18n.py ENGLISH")
    return page_i18n()(_filled(chinese))


def _filled(text: str) -> str:
    # the browser's i18n reads {name} as a placeholder of its own: keys carry no braces
    from assistant.settings import get_settings

    return text.replace("{days}", str(get_settings().log_days))


@lru_cache(maxsize=1)
def page_i18n() -> gr.I18n:
    """The translations for ``launch``/``mount_gradio_app`` (read once: MINGBAI_LOG_DAYS)."""
    zh = {_filled(k): _filled(k) for k in ENGLISH}
    en = {_filled(k): _filled(v) for k, v in ENGLISH.items()}
    return gr.I18n(zh=zh, en=en)
