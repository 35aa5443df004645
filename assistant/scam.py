"""Scam-pattern detection, decided in code from the patterns in ``rules/scam.yaml``.

>>> ScamDetector.load().check("买家说我要先开通借呗才能收款")
True
>>> ScamDetector.load().check("借呗怎么开通")
False
>>> ScamDetector.load().check("自称客服的人打电话来说我订单异常", scam_evidence=True)
True
>>> ScamDetector.load().matched("客服让我把钱转到安全账户").family
'safe_account'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from assistant.patterns import Families, load_pattern_groups
from retrieval.prepared import Text, prepare

SCAM_RULES_PATH = Path(__file__).resolve().parent / "rules" / "scam.yaml"

WARNING = {
    "zh": (
        "⚠️ 警惕诈骗：你描述的情况符合常见诈骗手法。请立即停止操作，"
        "不要转账、不要借款或开通任何额度，不要扫对方的二维码、"
        "不要共享屏幕或告诉任何人验证码；只通过 App 内的官方客服联系，"
        "在 App 内举报，如已转账请马上报警（110），也可拨打 96110 反诈预警专线咨询。"
    ),
    "en": (
        "⚠️ Scam warning: what you describe matches a common scam. Stop now: do not transfer money, "
        "borrow or open any credit line, scan their QR code, share your screen or tell anyone a "
        "verification code. Contact customer service only inside the official app, report it in "
        "the app, and if you already paid, call the police (110) at once; the 96110 anti-fraud "
        "line can also advise you."
    ),
}


@dataclass(frozen=True)
class ScamMatch:
    """Why a message was flagged: the scam family (``scam-<family>`` is the entry explaining it;
    None for the generic third-party rules), the rule that fired and its pattern."""

    family: str | None
    rule: str  # "strong", "demand", "evidence + story" or "evidence + victim"
    pattern: str

    def __str__(self) -> str:
        return f"{self.rule} [{self.family or '-'}]: {self.pattern}"


@dataclass(frozen=True)
class ScamDetector:
    strong: Families
    someone: tuple[re.Pattern[str], ...]
    demand: tuple[re.Pattern[str], ...]
    story: tuple[re.Pattern[str], ...]
    victim: tuple[re.Pattern[str], ...]
    about_scams: tuple[re.Pattern[str], ...]

    @classmethod
    @lru_cache(maxsize=2)
    def load(cls, path: Path = SCAM_RULES_PATH) -> ScamDetector:
        groups = [f.name for f in fields(cls)]
        return cls(**load_pattern_groups(path, groups, families=["strong"]))

    @property
    def families(self) -> tuple[str, ...]:
        """The scam families of the rules file, in file order."""
        return tuple(dict.fromkeys(name for name, _ in self.strong))

    def matched(self, question: Text, scam_evidence: bool = False) -> ScamMatch | None:
        """Why ``question`` is flagged (the family and the rule that fired), or None.

        ``scam_evidence``: the best retrieved entry is a scam entry, with a confident score.
        """
        text = prepare(question).norm
        for family, pattern in self.strong:
            if pattern.search(text):
                return ScamMatch(family, "strong", pattern.pattern)
        third_party = next((p for p in self.someone if p.search(text)), None)
        if third_party is not None:
            for pattern in self.demand:
                if pattern.search(text):
                    return ScamMatch(None, "demand", pattern.pattern)
        if scam_evidence:
            if third_party is not None and any(p.search(text) for p in self.story):
                return ScamMatch(None, "evidence + story", third_party.pattern)
            victim = next((p for p in self.victim if p.search(text)), None)
            if victim is not None:
                return ScamMatch(None, "evidence + victim", victim.pattern)
        return None

    def mentions_scams(self, question: Text) -> bool:
        """True when the question is about scams at all (so a scam entry may answer it).

        >>> ScamDetector.load().mentions_scams("闲鱼的钱要等确认收货才到账吗")
        False
        >>> ScamDetector.load().mentions_scams("安全账户是骗局吗")
        True
        """
        text = prepare(question).norm
        return any(p.search(text) for p in self.about_scams)

    def check(self, question: Text, scam_evidence: bool = False) -> bool:
        return self.matched(question, scam_evidence) is not None
