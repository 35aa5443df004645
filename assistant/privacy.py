"""Mask personal numbers: mainland ID cards (checksum), mobile numbers, bank cards (Luhn).

Masked text is what the rest of the system sees: it is never echoed, logged or evaluated raw.

>>> mask_personal_data("我身份证11010519491231002X，手机13812345678")
'我身份证110105********002X，手机138****5678'

Full-width digits (１３８…, as Chinese input methods type them) are read as ASCII digits first, so
they are masked too; the rest of the system normalises them the same way (NFKC).
"""

from __future__ import annotations

import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Digits are ASCII here (re.ASCII): other scripts' digits are not phone or card numbers.
_ID_RE = re.compile(r"(?<![0-9])([1-9]\d{16}[0-9Xx])(?![0-9])", re.ASCII)
_CARD_RE = re.compile(r"(?<![0-9])(\d(?:[ -]?\d){15,18})(?![0-9])", re.ASCII)
_MOBILE_RE = re.compile(
    r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9])", re.ASCII
)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ＋－　", "0123456789Xx+- ")


def is_valid_id_card(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_id(m: re.Match[str]) -> str:
    number = m.group(1)
    return number[:6] + "*" * 8 + number[14:] if is_valid_id_card(number) else number


def _mask_card(m: re.Match[str]) -> str:
    raw = m.group(1)
    # The run may join a card to a neighbouring number ("卡号6222… 3月", "第1 6222…"): try
    # spans of whole digit groups, longest first (separators are one character each).
    groups = re.split(r"[ -]", raw)
    for size in range(len(groups), 0, -1):
        for i in range(len(groups) - size + 1):
            digits = "".join(groups[i : i + size])
            if 16 <= len(digits) <= 19 and luhn_ok(digits):
                start = sum(len(g) + 1 for g in groups[:i])
                end = start + sum(len(g) + 1 for g in groups[i : i + size]) - 1
                masked = digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
                return raw[:start] + masked + raw[end:]
    return raw


def mask_personal_data(text: str) -> str:
    """Replace ID-card, bank-card and mobile numbers by masked forms; other text is unchanged
    (except full-width digits, which come back as ASCII digits)."""
    text = text.translate(_FULL_WIDTH)
    text = _ID_RE.sub(_mask_id, text)
    text = _CARD_RE.sub(_mask_card, text)
    return _MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def contains_personal_data(text: str) -> bool:
    ascii_digits = text.translate(_FULL_WIDTH)
    return mask_personal_data(ascii_digits) != ascii_digits
