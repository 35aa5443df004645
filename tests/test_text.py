"""retrieval.text: normalisation and language detection."""

from __future__ import annotations

import pytest

from retrieval.text import detect_language, normalize, strip_control


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("在閒魚買東西會開通借唄嗎？", "在闲鱼买东西会开通借呗吗?"),
        ("借被额度", "借呗额度"),
        ("花贝怎么还", "花呗怎么还"),
        ("咸鱼卖东西", "闲鱼卖东西"),
        ("芝麻分６８０", "芝麻分680"),
        ("ＡＢＣ　借呗", "ABC 借呗"),
        ("does idle fish open jie bei", "does Xianyu open Jiebei"),
        ("goofish and HUABEI", "Xianyu and Huabei"),
        ("sesame credit score", "Sesame Credit score"),
        ("jiebei 額度 why 降了", "借呗 额度 why 降了"),
        ("支付包怎么关花呗", "支付宝怎么关花呗"),
        ("支付保怎么关花呗", "支付宝怎么关花呗"),
        ("花呗能支付保费吗", "花呗能支付保费吗"),
        ("用支付保支付保证金", "用支付宝支付保证金"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_aliases_need_word_boundaries() -> None:
    assert normalize("jiebeiabc huabeix") == "jiebeiabc huabeix"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("借呗是什么", "zh"),
        ("What is Jiebei?", "en"),
        ("jiebei 额度", "zh"),
        ("閒魚", "zh"),
        ("123", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_strip_control_keeps_text() -> None:
    assert strip_control("借\x00呗\u200b是\x1b什么\t?") == "借呗是什么 ?"
