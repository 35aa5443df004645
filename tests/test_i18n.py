"""ui/i18n.py: which language a request's page speaks, and the static texts' translations."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from assistant.whatif import NOTICE
from assistant.whatif.profile import FIELD_SPECS
from ui import i18n


def request(cookie: str | None = None, accept: str | None = None) -> Any:
    cookies = {} if cookie is None else {i18n.LANGUAGE_COOKIE: cookie}
    headers = {} if accept is None else {"accept-language": accept}
    return SimpleNamespace(cookies=cookies, headers=headers)


@pytest.mark.parametrize(
    ("cookie", "accept", "lang"),
    [
        ("en", "zh-CN,zh;q=0.9", "en"),  # the user's switch wins over the browser
        ("zh", "en-US,en;q=0.9", "zh"),
        (None, "en-GB,en;q=0.8", "en"),  # no choice yet: an English browser
        (None, "fr-FR,fr;q=0.9,en;q=0.5", "zh"),  # neither first: Chinese, the default
        (None, None, "zh"),
        ("klingon", "en-US", "en"),  # an unknown cookie is ignored
    ],
)
def test_the_page_language_of_a_request(cookie: str | None, accept: str | None,
                                        lang: str) -> None:
    assert i18n.page_language(request(cookie, accept)) == lang


def test_no_request_reads_chinese() -> None:
    assert i18n.page_language(None) == "zh"
    assert i18n.say("zh", "中", "en") == "中" and i18n.say("en", "中", "en") == "en"


def test_a_handler_gets_the_page_language_first_and_a_generator_still_streams() -> None:
    def plain(lang: str, x: int) -> str:
        return f"{lang}{x}"

    def streamed(lang: str, x: int) -> Any:
        yield lang
        yield x

    handler = i18n.in_page_language(plain)
    assert handler(request("en"), 1) == "en1"
    # Gradio hands the request to the parameter typed gr.Request, found by its annotation
    first = next(iter(inspect.signature(handler).parameters.values()))
    assert first.annotation in (gr.Request, "gr.Request")
    stream = i18n.in_page_language(streamed)
    assert inspect.isgeneratorfunction(stream)
    assert list(stream(request(accept="en-US"), 7)) == ["en", 7]


def test_every_static_text_has_english_and_the_registry_labels_are_in() -> None:
    texts = i18n.texts()
    assert texts[NOTICE["zh"]] == NOTICE["en"]
    for spec in FIELD_SPECS.values():
        assert texts[spec.page_label("zh")] == spec.page_label("en")
    assert all(v and "{" not in k.replace("{days}", "") for k, v in texts.items())
    with pytest.raises(KeyError, match=r"add it to ui/i18n\.py"):
        i18n.tr("没有翻译的话")


def test_the_head_script_decides_before_gradio_and_sets_the_cookie() -> None:
    head = i18n.LANGUAGE_HEAD
    assert head.startswith("<script>") and "type=\"module\"" not in head  # runs first
    assert all(ch >= " " or ch == "\n" for ch in head)  # no "\b" turned into a backspace
    assert i18n.LANGUAGE_COOKIE in head and "localStorage" in head
    assert "mingbaiSwitchLanguage" in head and "mingbaiSwitchLanguage" in i18n.SWITCH_LANGUAGE_JS
