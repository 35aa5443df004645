"""The grammar of what-if questions: how numbers, factor names and changes are written.

Two parts, both data more than code:

* normalisation (``normalize``): one canonical spelling for numbers, so that Chinese numerals
  (两, 十二, 一年半, 六百八), full-width digits (６８０) and units (1.2万, 8k) all become digits;
* rules (``RULES``): regular expressions, tried in order, that find a profile field, how it is
  stated (``Kind``) and its number in normalised text.

>>> normalize("芝麻分六百八，花呗用了一半，按时还款一年半")
'芝麻分680,花呗用了一半,按时还款18个月'
>>> cn_to_int("一万二")
12000

``slots.py`` turns what these rules find into ``Slots``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

MAX_CHARS = 1000  # only the start of a very long message is read
# A number, matched only where a digit run starts: trying every digit of a long run as a start
# makes each scan quadratic (600 ms for 1,000 digits).
NUM = r"(?<![\d.])(\d+(?:\.\d+)?)"


# -- normalisation -------------------------------------------------------------------------------
_TRAD_TABLE = str.maketrans(
    "還額貸請個兩從漲隻筆單歲萬幾變這麼會嗎為點錢該沒說後帳戶資與現內過開實際項數餘負債償",
    "还额贷请个两从涨只笔单岁万几变这么会吗为点钱该没说后帐户资与现内过开实际项数余负债偿",
)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = re.compile(r"[零〇一二两俩三四五六七八九十百千万]+")
_CN_FOLLOW = set("次回遍笔单个年月天周成岁块元家件号%")
_EN_NUMBERS = {w: str(i) for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty"))}
_EN_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60"})
_EN_WORD = re.compile(r"\b(" + "|".join(_EN_NUMBERS) + r")\b")
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r) for p, r in (
        (r"万一", "如果"),
        (r"千万(?=[别不要记得])", ""),
        (r"\bhalf a year\b", "6 months"),
        (r"\b(?:a|one) year and a half\b", "18 months"),
        (r"\bone and a half years?\b", "18 months"),
        (r"\btwice\b", "2 times"),
        (r"\bonce\b", "1 time"),
        (r"\bthrice\b", "3 times"),
        (r"\ba couple of\b", "2"),
        (r"\ban? (year|month)\b", r"1 \1"),
        (r"\banother (year|month)\b", r"another 1 \1"),
        (r"\b(?:a|one) (late|missed|overdue) (payment|repayment|bill)\b", r"1 \1 \2"),
        (r"\bmiss(ed)? (?:a|one) (payment|repayment|bill)\b", r"miss\1 1 \2"),
    )
)


def cn_to_int(s: str) -> int | None:
    """Chinese numeral to int: ``十二`` → 12, ``六百八`` → 680, ``一万二`` → 12000, ``两`` → 2."""
    if not s or any(ch not in _CN_DIGITS and ch not in _CN_UNITS and ch != "万" for ch in s):
        return None
    if not any(ch in _CN_UNITS or ch == "万" for ch in s):  # read digit by digit: 六八零 → 680
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    total = section = 0
    digit: int | None = None
    last_unit = 1
    for ch in s:
        if ch in ("零", "〇"):
            digit, last_unit = None, 1
        elif ch in _CN_DIGITS:
            if digit is not None:
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit, last_unit = None, _CN_UNITS[ch]
        else:  # 万
            section += digit or 0
            total += (section or 1) * 10000
            section, digit, last_unit = 0, None, 10000
    if digit is not None:
        section += digit * last_unit // 10 if last_unit >= 100 else digit  # 六百八 = 680
    return total + section


def _cn_runs(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        nxt = text[m.end(): m.end() + 1]
        prev = text[m.start() - 1: m.start()]
        after_digit = (prev.isascii() and prev.isdigit()) or prev == "."
        if after_digit and all(c in "十百千万" for c in run):
            return run  # 1.2万, 3千: the unit step below handles these
        if len(run) == 1 and run not in "十百千万" and nxt not in _CN_FOLLOW:
            return run  # 一下, 一般, 一直 ... are words, not numbers
        value = cn_to_int(run)
        return run if value is None else str(value)

    return _CN_RUN.sub(repl, text)


def normalize(text: str) -> str:
    """Lower-case, half-width, simplified, numerals as digits, units expanded."""
    return normalize_canonical(_canonical(text[:MAX_CHARS]))


def normalize_canonical(text: str) -> str:
    """:func:`normalize` of a text already in the retrieval layer's canonical form (a
    ``Prepared``'s ``norm``): the numbers and units only."""
    t = unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower().translate(_TRAD_TABLE)
    t = re.sub(r"[\u200b-\u200f\ufeff]", "", t)
    t = t.replace("百分之", "%pct%")
    for pattern, repl in _PHRASES:
        t = pattern.sub(repl, t)
    t = _EN_WORD.sub(lambda m: _EN_NUMBERS[m.group(1)], t)
    t = _cn_runs(t)
    t = re.sub(r"%pct%(\d+(?:\.\d+)?)", r"\1%", t)
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)
    t = re.sub(NUM + r"\s*万", lambda m: _num_str(float(m.group(1)) * 10000), t)
    t = re.sub(NUM + r"\s*千", lambda m: _num_str(float(m.group(1)) * 1000), t)
    t = re.sub(NUM + r"([wk])(?![a-z])",
               lambda m: _num_str(float(m.group(1)) * (10000 if m.group(2) == "w" else 1000)), t)
    t = re.sub(NUM + r"\s*(?:个)?\s*年半",
               lambda m: f"{float(m.group(1)) * 12 + 6:g}个月", t)
    t = t.replace("半年", "6个月")
    return re.sub(r"\s+", " ", t)


def _canonical(text: str) -> str:
    """The retrieval layer's normalisation (traditional → simplified, product-name aliases such as
    借被 → 借呗, idle fish → Xianyu), so the parser and the router read the same text."""
    try:
        from retrieval.text import normalize as canonical

        return canonical(text)
    except Exception:  # the lexicon is optional here; the local table covers the common cases
        return text


def _num_str(x: float) -> str:
    return str(int(x)) if x.is_integer() else f"{x:g}"


# -- patterns ------------------------------------------------------------------------------------
N = NUM
G = r"[^\d,;。!?、\n]{0,6}?"  # a short gap inside one clause
GE = r"[^\d,;.!?\n]{0,24}?"  # English words are longer
# Filler between a cue and its number ("芝麻分目前大概680", "sesame score is about 680").
FILL = (r"[\s:=~]*(?:(?:is|of|at|was|about|around|roughly|approximately|just|only|now|currently|"
        r"like|maybe|probably|are|只有|大概|大约|目前|现在|已经|差不多|左右|是|有|为|才|约|都|了|分数|"
        r"score)[\s:=~]*)*")
DUR = N + r"[\s-]*(?:个)?\s*(年|个月|月|months?|mos?\b|years?|yrs?\b)"
HOW_TO = re.compile(r"(?:怎么|咋|如何|怎样|怎么样)(?:才能|才可以|可以|能|去|来)?"
                    r"(?:提额|提升|提高|涨|开通|恢复|申请|还款|还)|"
                    r"\bhow (?:do|can|could) i (?:raise|increase|get|boost|restore|open)\b")
HYP = re.compile(r"如果|假如|要是|假设|假使|倘若|若(?!干)|\bif\b|\bsuppose\b|\bsupposing\b"
                 r"|\bassuming\b|\bimagine\b")
DIRECTION = re.compile(
    r"会降|会涨|会变|会不会|会怎|降吗|涨吗|变吗|影响|提高|降低|上升|下降|减少|增加|变多|变少|变高|变低|"
    r"提额|降额|\bgo(?:es)? (?:up|down)\b|\bincrease|\bdecrease|\bdrop|\brise\b|\bchange|"
    r"\baffect|\bhurt|\bhelp|\bhigher\b|\blower\b|\bimprove|\bworse\b|\bbetter\b")
LIMIT = re.compile(r"额度|借呗|花呗|能借|可以借|可借|借多少|贷多少|\blimit|\bjiebei\b|\bhuabei\b|"
                   r"\bborrow|\bcredit line|\bhow much (?:can|could|would|will|do|might) i\b")
ESTIMATE = re.compile(
    r"(?:大概|大约|能有|能借|可以借|能给|会给|估计|估算|预估|能批|能开|会有)[^,;。!?]{0,4}?多少|"
    r"额度[^,;。!?]{0,4}?多少|多少额度|能借多少|\bhow much\b|\bestimate|"
    r"\bwhat (?:would|will|could|might|is|'s) (?:be )?(?:my|the) (?:jiebei |huabei )?limit|"
    r"\bwhat limit\b|\bwhat's my (?:jiebei |huabei )?limit")
# A question about where a number is shown, or what to do, is not asking for an estimate:
WHERE_TO_SEE = re.compile(r"在哪(?:里|儿)?(?:看|查|找)|哪里(?:看|查|找)|怎么(?:查|看)|"
                          r"去哪(?:看|查)|\bwhere (?:can|do|to) (?:i )?(?:see|check|find)\b")
WHAT_TO_DO = re.compile(r"怎么办|怎么弄|咋办|咋弄|咋整|行吗|行不行|可以吗|可不可以|"
                        r"可以[^,;。!?]{0,8}[吗嘛么]|能不能|能否|\bwhat (?:should|can) i do\b|"
                        r"\bcan i\b|\bis (?:that|it) (?:ok|okay|allowed)\b")
FIRST_PERSON = re.compile(r"我|本人|\b(?:i|i'm|i've|my|me)\b")
# "What decides how much I can borrow?" asks how limits work, not for an estimate.
GENERAL = re.compile(r"怎么定|如何确定|怎么算|怎么计算|如何计算|由什么决定|根据什么|取决于|为什么|"
                     r"为啥|\bdecide|\bdepend|\bdetermin|\bcalculat|\bwhy\b|\bfactors?\b")
OPENING = re.compile(r"开通|开不了|能开(?:借呗|花呗)?[吗么嘛]|能不能开|开得了|才能开|"
                     r"\bactivate|\bopen\b|\beligib|\bqualify|\bget (?:jiebei|huabei)\b")
# "要是把借呗提前还光 会被关掉吗" asks whether the account is closed or frozen, not about a limit.
ACCOUNT_ACT = re.compile(r"关闭|关掉|注销|冻结|停用|封号|被封|取消|"
                         r"\bclos(?:e|ed|es|ing)\b|\bcancel|\bfreez|\bfroze|\bshut\b|\bsuspend")
# "借呗逾期过一回还让借吗", "申请没通过再申请要多久", "提前还一半 自动还款日": a number told in a
# question that asks when, whether it still works, or what it costs; nothing asks for a limit.
OTHER_ASK = re.compile(r"多久|多长时间|什么时候|几号|几天|哪天|还款日|怎么还|"
                       r"不能(?:正常)?(?:再)?(?:使用|用)|用不了|还能(?:借|用)|能不能(?:借|用)|手续费|利息|费率|服务费|"
                       r"\bhow long\b|\bwhen\b|\bstill (?:use|borrow)\b")
# The scorer estimates a Jiebei limit: a question about Huabei alone is not its to answer.
HUABEI = re.compile(r"花呗|\bhuabei\b")
JIEBEI = re.compile(r"借呗|\bjiebei\b")
# "要700分以上才能开借呗,是真的吗" / "you need at least 700 to get Jiebei, true?" check a claimed
# requirement: the knowledge base answers (there is no public threshold), not the scorer.
THRESHOLD = re.compile(r"以上才|才能|才可以|门槛|最低要|至少要|起码要|是不是要|是否要|要求|"
                       r"\bat least\b|\bminimum\b|\bthreshold\b|\brequire")
# "If I spread it over 6 months, how much extra do I pay?" asks about fees, not about a limit.
COST = re.compile(r"手续费|利息|费率|服务费|多付|多还|多交|\binterest\b|\bfees?\b|\bcharges?\b|"
                  r"\bextra\b|\bpay\b|\bcost\b|\bapr\b")
AMOUNT = re.compile(r"额度|能借|可以借|可借|借多少|贷多少|\blimit|\bborrow|\bcredit line")
MORE = re.compile(r"再|又|继续|多(?!少)|\banother\b|\bmore\b|\bagain\b|\bextra\b|\badditional\b")
CLAUSE = re.compile(r"[,;。!?、\n]|\bbut\b|\band\b")

# How a match states its field: a fact, a new value, from-to, relative, masked or cleared.
Kind = Literal["value", "set", "from_to", "mul", "add", "masked", "clear"]
Convert = Callable[[re.Match[str]], float | None]  # a match's number, in the field's unit


def _first(m: re.Match[str]) -> float | None:
    return float(m.group(1))


def _percent(m: re.Match[str]) -> float | None:
    return float(m.group(1)) / 100


def _tenths(m: re.Match[str]) -> float | None:
    return float(m.group(1)) / 10


def _months(m: re.Match[str]) -> float | None:
    n, unit = float(m.group(1)), m.group(2)
    return n * 12 if unit.startswith(("年", "y")) else n


def _const(x: float) -> Convert:
    return lambda m: x


SESAME = (r"(?:芝麻(?:信用)?分?|信用分|\bsesame(?: credit)?(?: score)?|"
          r"\bzhima(?: credit)?(?: score)?|\bcredit score)")
UP_DOWN_ZH = r"(?:涨|升|提高|提升|增加|降低|降|掉|跌|减少|变|达|回)"
UP_DOWN_EN = (r"(?:raise[sd]?|increase[sd]?|improve[sd]?|go(?:es)? up|went up|rises?|rose|drops?|"
              r"dropped|falls?|fell|gets?|got|reach(?:es|ed)?|hits?|goes|went|moves?|climbs?)")
ON_TIME = (r"(?:(?:按时|按期|准时|正常|如期)(?:还款|还)?|从(?:来)?(?:没|不)(?:有)?逾期(?:过)?|"
           r"\bon[\s-]?time\b|\bnever (?:been )?late\b)")
OVERDUE = (r"(?:逾期|晚还|迟还|延期还款|拖欠|\boverdue\b|\blate payments?\b|\bmissed payments?\b|"
           r"\bpaid late\b|\bbeen late\b|\blate\b)")
COUNT = N + r"\s*(?:次|回|笔|遍|\btimes?\b)"
APPLY = r"(?:申请|查询)(?:了|过)*"  # not 点: "点了两次" is a double tap, not applications
UTIL = r"(?:额度使用率|使用率|使用比例|占用率|\butili[sz]ation(?: rate)?\b|\busage\b)"
USED = (r"(?:用了|已用|已经用了|用掉了?|花了|刷了|透支了?|欠了|占用了?|"
        r"\bused\b|\busing\b|\bspent\b)")
INCOME = (r"(?:月收入|月薪|月入|收入|工资|薪水|薪资|底薪|每月赚|一个月赚|每个月赚|月赚|"
          r"\bincome\b|\bsalary\b|\bearns?\b|\bmake\b|\btake home\b)")
ACCOUNT = (r"(?:支付宝|账户|账号|帐户|帐号|注册|开户|(?:借呗|花呗)[^\d,;。!?]{0,3}?开通|"
           r"\baccount\b|\balipay\b)")
XIANYU = r"(?:闲鱼|咸鱼|\bxianyu\b|\bidle ?fish\b|\bgoofish\b)"
MASK = r"(\d[*?×]{1,2}(?![\d])|\dxx?\b|[*?×]{2,3}|\d+\s*多(?!少)|几百|\d*几)"
ZG = r"[^\d,;。!?、\n]"  # one gap character inside a clause
NOT_DURATION = r"(?!\s*(?:年|个月|月|天|周|次|\byears?|\bmonths?|\bdays?))"

Rule = tuple[str, Kind, re.Pattern[str], Convert]


def _r(fld: str, kind: Kind, convert: Convert, *parts: str) -> Rule:
    return (fld, kind, re.compile("".join(parts)), convert)


# -- yes/no factors: their words come from the field registry ("房贷", "mortgage"); a factor
# counts only when the message says the person has it, or has not ("借呗会影响批房贷吗" is about
# the mortgage application, not a loan being repaid).
HAS_ZH = (r"(?:有|背着|背了|欠着|还着|在还|正在还|每月还|每个月还|每月要还|还有)\s*"
          r"(?:一笔|一个|个|笔)?\s*")
HAS_AFTER_ZH = r"\s*(?:在还|还在还|还没还完|没还完|每月|每个月)"
HAS_EN = (r"\b(?:i have|i've got|i'm paying|i am paying|i'm repaying|paying|repaying|with|have|"
          r"has)\s+(?:a |an |my |some |another )?")
NOT_ZH = r"(?:没有|没|无|不欠)\s*(?:任何)?\s*(?:的)?\s*"
NOT_EN = (r"\b(?:no|without|don'?t have (?:a |an |any )?|do not have (?:a |an |any )?)\s*"
          r"(?:other |any )?")
# paying it off: a change from having it ("如果我把房贷还清了", "if I pay off my car loan")
CLEARED_ZH = r"(?:还清|还完|结清|提前还完)了?\s*(?:我的|所有的?)?\s*"
CLEARED_AFTER_ZH = r"\s*(?:已经)?(?:提前)?(?:还清|还完|结清)了?"
CLEARED_EN = r"\b(?:paid|pay|paying|clear|cleared|clearing)\s+off\s+(?:my |the |all my )?"


def _yes_no_rules() -> tuple[Rule, ...]:
    """The rules of every yes/no field, built from its registry words."""
    from assistant.whatif.fields import FIELD_SPECS

    rules: list[Rule] = []
    for spec in FIELD_SPECS.values():
        if spec.kind is not bool:
            continue
        zh = "(?:" + "|".join(re.escape(w) for w in spec.words.zh) + ")" if spec.words.zh else None
        en = (r"(?:" + "|".join(re.escape(w.lower()) for w in spec.words.en) + r")s?\b"
              if spec.words.en else None)
        if zh:
            rules += [_r(spec.name, "value", _const(0), NOT_ZH, zh),
                      _r(spec.name, "clear", _const(0), CLEARED_ZH, zh),
                      _r(spec.name, "clear", _const(0), zh, CLEARED_AFTER_ZH),
                      _r(spec.name, "value", _const(1), HAS_ZH, zh),
                      _r(spec.name, "value", _const(1), zh, HAS_AFTER_ZH)]
        if en:
            rules += [_r(spec.name, "value", _const(0), NOT_EN, en),
                      _r(spec.name, "clear", _const(0), CLEARED_EN, en),
                      _r(spec.name, "value", _const(1), HAS_EN, en)]
    return tuple(rules)


# Tried in order; an earlier match consumes its characters so a later, looser pattern cannot read
# the same number again (the yes/no rules first: "还清房贷" is not paying off Huabei).
RULES: tuple[Rule, ...] = (
    *_yes_no_rules(),
    # -- Sesame score
    _r("sesame_score", "from_to", _first, SESAME, GE, r"(?:从|from)?\s*", N, r"\s*分?\s*",
       UP_DOWN_ZH, r"?\s*(?:到|至|成|->|→|\bto\b)\s*", N),
    _r("sesame_score", "masked", _const(0), SESAME, G, MASK),
    _r("sesame_score", "set", _first, SESAME, G, UP_DOWN_ZH, r"了?\s*(?:到|至|成)\s*", N),
    _r("sesame_score", "set", _first, SESAME, GE, UP_DOWN_EN, r"\s*(?:up |down )?to\s*", N),
    _r("sesame_score", "set", _first,
       r"\b(?:raise|increase|improve|boost|get|bring|push)\s+(?:my\s+)?", SESAME,
       r"\s*(?:up\s+)?to\s*", N),
    _r("sesame_score", "add", _first, SESAME, G, r"(?:涨|升|提高|提升|增加|加)了?\s*", N, r"\s*分"),
    _r("sesame_score", "value", _first, N, r"\s*分?\s*的?\s*", SESAME),
    _r("sesame_score", "value", _first, SESAME, FILL, N, NOT_DURATION),
    # -- overdue events in 12 months
    _r("overdue_12m", "value", _const(0),
       r"(?:没(?:有)?|无|从(?:来)?没(?:有)?|从(?:来)?不|从未|不曾)过?\s*(?:任何)?\s*(?:逾期|晚还)|"
       r"逾期\s*0\s*次?|\bno (?:late|missed|overdue) (?:payments?|records?)|"
       r"\bnever (?:been )?(?:late|overdue)|\bnever missed"),
    _r("overdue_12m", "masked", _const(0), OVERDUE, G, r"(\d*几|好几)\s*次"),
    _r("overdue_12m", "value", _first, OVERDUE, ZG, r"{0,8}?", COUNT),
    _r("overdue_12m", "value", _first, COUNT, G, r"的?", OVERDUE),
    _r("overdue_12m", "value", _first, N,
       r"\s*(?:late|missed|overdue)\s+(?:payments?|repayments?|bills?)"),
    _r("overdue_12m", "value", _first,
       r"\b(?:miss(?:ed)?|(?:was|been|be|am|is|are|were) late on)\s+", N,
       r"\s+(?:payments?|repayments?|bills?)"),
    _r("overdue_12m", "value", _first, r"\b(?:late|overdue)\s+", N, r"\s+times?"),
    # -- credit applications in 6 months
    _r("applications_6m", "value", _const(0),
       r"(?:没(?:有)?|从没|从未)(?:申请|借)过?(?:任何)?(?:网贷|贷款)?|"
       r"\bno (?:new )?(?:loan |credit )?applications|\bhaven'?t applied"),
    _r("applications_6m", "masked", _const(0), APPLY, G, r"(\d*几|好几)\s*(?:次|个|家)"),
    _r("applications_6m", "value", _first, APPLY, r"\s*", N, r"\s*(?:次|个|家|笔|回)"),
    _r("applications_6m", "value", _first, N,
       r"\s*(?:次|个|家|笔)\s*的?\s*(?:网贷|贷款|借贷|信用卡|借款)?\s*(?:申请|查询)"),
    _r("applications_6m", "value", _first, r"(?:借|办)(?:了|过)+\s*", N,
       r"\s*(?:次|个|家|笔)\s*(?:网贷|贷款|借款|信用卡)"),
    _r("applications_6m", "value", _first, r"(?:申请|查询)(?:了|过)?\s*", N,
       r"\s*(?:次|个|家)?\s*(?:网贷|贷款|借款|信用卡)"),
    _r("applications_6m", "value", _first, r"\b(?:applied|apply)\s+(?:for\s+)?", N,
       r"\s*(?:more\s+)?(?:loans?|times|credit cards?|cards?|credit lines?|applications?|"
       r"lenders?)"),
    _r("applications_6m", "value", _first, N,
       r"\s*(?:loan |credit |card |hard )?(?:applications|inquiries|enquiries)"),
    # -- Xianyu orders in 12 months
    _r("xianyu_orders_12m", "value", _first, XIANYU, ZG, r"{0,10}?", N,
       r"\s*(?:单|笔|次|个|件|\borders?\b|\bsales?\b|\bdeals?\b|\bitems?\b|\bthings\b|"
       r"\btransactions?\b|\btimes\b)"),
    _r("xianyu_orders_12m", "value", _first, N,
       r"\s*(?:单|笔|个|件|orders?|sales?|deals?|items?|things|transactions?)\s*(?:的)?\s*"
       r"(?:on |via |through |in )?", XIANYU),
    # -- utilization: changes first (pay off half, pay it all off, bring it down to 20%)
    _r("utilization", "mul", _const(0.5),
       r"\b(?:pay|paid|paying|repay|clear)\s+(?:off|back|down)?\s*half|"
       r"\bhalf (?:of )?my (?:huabei|balance|debt|credit|card)|还(?:掉|了)?\s*(?:一)?半|"
       r"(?:花呗|欠款|信用卡|账单|额度)[^,;。!?]{0,4}?还(?:掉|了)?\s*(?:一)?半"),
    _r("utilization", "clear", _const(0.0),
       r"\b(?:pay|paid|paying|clear)\s+(?:off|back)\s+(?:all\s+(?:of\s+)?)?(?:my\s+)?"
       r"(?:huabei|balances?|debts?|credit cards?|cards?|everything|it all)|"
       r"\bpay (?:it|everything|them) (?:all )?off|还清|结清|全部还|都还了|还完"),
    _r("utilization", "set", _percent, UTIL,
       r"[^\d,;。!?]{0,8}?(?:降|减|控制|压|lower|reduc|bring|drop|get|cut)\w*\s*"
       r"(?:到|至|在|\bto\b|down to|below|under)\s*", N, r"\s*%"),
    _r("utilization", "set", _percent, r"\b(?:lower|reduce|bring|cut|get)\s+(?:my\s+)?", UTIL,
       r"\s+(?:down\s+)?to\s+", N, r"\s*%"),
    _r("utilization", "set", _percent,
       r"(?:\b(?:bring|get|lower|reduce|cut|pay)\s+(?:it|that|this|them)?\s*(?:down\s+)?to|"
       r"降到|降至|减到|控制在|压到)\s*", N, r"\s*%"),
    _r("utilization", "value", _percent, UTIL, GE, N, r"\s*%"),
    _r("utilization", "value", _first, UTIL, r"\s*(?:is|of|at|=|:|为|是)?\s*",
       r"(0?\.\d+|0|1(?:\.0+)?)(?![\d%])"),
    _r("utilization", "value", _percent, N, r"\s*%\s*(?:的)?\s*(?:额度)?\s*",
       r"(?:使用率|utili[sz]ation|of (?:my )?(?:credit |total )?(?:limits?|huabei|credit|cards?))"),
    _r("utilization", "value", _percent, USED, r"[^\d,;。!?]{0,4}?", N, r"\s*%"),
    _r("utilization", "value", _tenths, USED, r"[^\d,;。!?]{0,4}?", N, r"\s*成"),
    _r("utilization", "value", _const(0.5), USED, r"[^\d,;。!?]{0,4}?(?:一半|半|\bhalf\b)"),
    _r("utilization", "value", _const(1.0),
       r"用满|刷满|用光|刷爆|用完|透支光|\bmaxed(?: out)?\b|\bmax(?:ed)? out\b"),
    # -- monthly income
    _r("monthly_income", "value", _const(0),
       r"(?:没有|无)(?:固定)?(?:收入|工作)|\bno (?:income|job)\b|\bunemployed\b"),
    _r("monthly_income", "set", _first, INCOME, G, UP_DOWN_ZH, r"了?\s*(?:到|至|成)\s*", N),
    _r("monthly_income", "set", _first, INCOME, GE, UP_DOWN_EN, r"\s*(?:up |down )?to\s*", N),
    _r("monthly_income", "value", _first, INCOME, FILL, r"(?:¥|rmb|cny|人民币)?\s*", N),
    _r("monthly_income", "value", _first, INCOME, ZG, r"{0,12}?", N,
       r"\s*(?:元|块|rmb|yuan|cny)"),
    # -- months of on-time repayment
    _r("on_time_months", "set", _months, ON_TIME, G, r"(?:到|至|满|\bto\b|\breach\w*)\s*", DUR),
    _r("on_time_months", "value", _months, ON_TIME, ZG, r"{0,16}?", DUR),
    _r("on_time_months", "value", _months, DUR, ZG, r"{0,8}?", ON_TIME),
    _r("on_time_months", "value", _months, DUR,
       r"[^\d,;.!?\n]{0,10}?(?:on[\s-]?time|without (?:a )?(?:late|missed)|"
       r"\bof (?:on[\s-]?time )?(?:payments?|repayments?))"),
    # -- account age
    _r("account_age_months", "value", _months, ACCOUNT, ZG, r"{0,12}?", DUR),
    _r("account_age_months", "value", _months, DUR, ZG,
       r"{0,6}?的?(?:老)?(?:支付宝|账户|账号|用户|\bold\b|\baccount\b)"),
)
