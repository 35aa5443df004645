"""The page's own words, one language at a time. Answers follow the question's language,
whatever the page's.

Which language: the one the user chose with the page's switch (kept in the browser), else
English for an English browser, else Chinese. ``LANGUAGE_HEAD`` (put first in the page's <head>
by ``ui.server.FirstInHead``) decides it before Gradio starts, tells Gradio (whose I18n reads
``navigator.language``) and sets the ``mingbai-lang`` cookie, which :func:`page_language`
reads on every request, so texts a handler writes (an estimate, an error, a search status) come
in the page's language too.

Static texts go through :func:`tr` (Gradio's I18n; pass ``page_i18n()`` to ``launch`` or
``mount_gradio_app``). The key of each is its Chinese wording, so a page launched without the
translations still reads in Chinese; the English is in ``ENGLISH``, and the What-if factors'
labels and the estimate notice come from the field registry.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Literal

import gradio as gr

from assistant.whatif import NOTICE
from assistant.whatif.profile import FIELD_SPECS

Lang = Literal["zh", "en"]
LANGUAGE_COOKIE = "mingbai-lang"
# Runs in <head>, before Gradio's module script reads navigator.language.
LANGUAGE_HEAD = """<script>
(() => {
  const KEY = "mingbai-lang";
  let chosen = null;
  try { chosen = window.localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
  const browser = navigator.language || (navigator.languages || [])[0] || "";
  const english = /^en([-_]|$)/i.test(browser);
  const lang = chosen === "zh" || chosen === "en" ? chosen : (english ? "en" : "zh");
  const locale = lang === "en" ? "en" : "zh-CN";
  const pretend = (name, value) =>
    Object.defineProperty(Navigator.prototype, name, {configurable: true, get: () => value});
  pretend("language", locale);
  pretend("languages", [locale]);
  document.cookie = KEY + "=" + lang + "; path=/; SameSite=Lax";
  document.documentElement.lang = locale;
  window.mingbaiSwitchLanguage = () => {
    try { window.localStorage.setItem(KEY, lang === "en" ? "zh" : "en"); } catch (e) { return; }
    window.location.reload();
  };
})();
</script>"""
SWITCH_LANGUAGE_JS = "() => window.mingbaiSwitchLanguage && window.mingbaiSwitchLanguage()"


def page_language(request: gr.Request | None) -> Lang:
    """The page's language for this request: the ``mingbai-lang`` cookie the page sets, else
    the browser's Accept-Language (English if it asks for English first), else Chinese."""
    if request is None:
        return "zh"
    cookies = getattr(request, "cookies", None) or {}
    chosen = cookies.get(LANGUAGE_COOKIE) if hasattr(cookies, "get") else None
    if chosen in ("zh", "en"):
        return chosen
    headers = getattr(request, "headers", None) or {}
    accept = str(headers.get("accept-language", "") if hasattr(headers, "get") else "")
    return "en" if accept.strip().lower().startswith("en") else "zh"


def lang_of(lang: str) -> Lang:
    """``lang`` as one of the page's two languages (anything but "en" reads Chinese)."""
    return "en" if lang == "en" else "zh"


def say(lang: str, zh: str, en: str) -> str:
    """``zh`` or ``en``, as ``lang`` asks (anything but "en" reads Chinese)."""
    return en if lang_of(lang) == "en" else zh


def in_page_language(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A Gradio handler ``fn(lang, *inputs)`` called with the page's language first (Gradio
    hands the request to a first parameter typed ``gr.Request``); a generator stays one, so
    Gradio still streams it."""
    if inspect.isgeneratorfunction(fn):
        def streamed(request: gr.Request, *inputs: Any) -> Iterator[Any]:
            yield from fn(page_language(request), *inputs)

        handler: Callable[..., Any] = streamed
    else:
        def handler(request: gr.Request, *inputs: Any) -> Any:
            return fn(page_language(request), *inputs)

    handler.__name__ = getattr(fn, "__name__", "handler")
    return handler

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
    "全部条目": "All entries",
    "English": "中文",  # the language switch names the other language
    "（不改）": "(no change)",
    "项目": "Factor",
    "新值": "New value",
    "例如 2": "e.g. 2",
    "可不填": "optional",
}


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    """Every static page text, Chinese -> English: ``ENGLISH``, the What-if factors' labels
    (from the field registry) and the estimate notice."""
    fields = {spec.page_label("zh"): spec.page_label("en") for spec in FIELD_SPECS.values()}
    return {**ENGLISH, **fields, NOTICE["zh"]: NOTICE["en"]}


def tr(chinese: str) -> Any:
    """The page text ``chinese``, shown in the browser's language ({days} is filled once, from
    the settings)."""
    if chinese not in texts():
        raise KeyError(f"no English for page text {chinese!r}: add it to ui/i18n.py ENGLISH")
    return page_i18n()(_filled(chinese))


def _filled(text: str) -> str:
    # the browser's i18n reads {name} as a placeholder of its own: keys carry no braces
    from assistant.settings import get_settings

    return text.replace("{days}", str(get_settings().log_days))


@lru_cache(maxsize=1)
def page_i18n() -> gr.I18n:
    """The translations for ``launch``/``mount_gradio_app`` (read once: MINGBAI_LOG_DAYS)."""
    zh = {_filled(k): _filled(k) for k in texts()}
    en = {_filled(k): _filled(v) for k, v in texts().items()}
    return gr.I18n(zh=zh, en=en)
