"""Which language a text is in: the one detector every layer uses (answers follow it).

>>> detect_language("jiebei 额度 why 降了"), detect_language("Does Xianyu open Jiebei?")
('zh', 'en')
"""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["zh", "en"]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def detect_language(text: str) -> Lang:
    """Any Chinese character makes the text Chinese (mixed questions get Chinese answers)."""
    return "zh" if CJK.search(text) else "en"
