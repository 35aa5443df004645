"""assistant.privacy: ID cards (checksum), mobiles and bank cards (Luhn) are masked."""

from __future__ import annotations

import pytest

from assistant.privacy import (
    contains_personal_data,
    is_valid_id_card,
    luhn_ok,
    mask_personal_data,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("身份证11010519491231002X", "身份证110105********002X"),
        ("id 11010519491231002x.", "id 110105********002x."),
        ("手机13812345678", "手机138****5678"),
        ("call +86 138-1234-5678", "call 138****5678"),
        ("卡号6222020200000000006", "卡号6222***********0006"),
        ("card 4111 1111 1111 1111 ok", "card 4111********1111 ok"),
        # full-width digits, as Chinese input methods type them
        ("手机１３８１２３４５６７８", "手机138****5678"),
        ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证110105********002X"),
        ("卡号６２２２０２０２００００００００００６", "卡号6222***********0006"),
        # an ID number directly followed by letters or preceded by them
        ("11010519491231002Xabc", "110105********002Xabc"),
        ("ID11010519491231002X", "ID110105********002X"),
        ("身份证110105194912310021是", "身份证110105194912310021是"),  # bad checksum
    ],
)
def test_masks_personal_numbers(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


@pytest.mark.parametrize(
    "text",
    [
        "身份证110105194912310021",  # wrong checksum: not an ID number
        "卡号6222020200000000001",  # fails Luhn
        "芝麻分680，额度20000，订单号123456789012",
        "1234567890",
        "电话12812345678",  # not a mobile prefix
    ],
)
def test_leaves_other_numbers_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def test_checksums() -> None:
    assert is_valid_id_card("11010519491231002X")
    assert not is_valid_id_card("110105194912310021")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_contains_personal_data_ignores_harmless_full_width_digits() -> None:
    assert not contains_personal_data("芝麻分７２０，额度２００００")
    assert contains_personal_data("手机１３８１２３４５６７８")
    assert not contains_personal_data("手机12812345678")
