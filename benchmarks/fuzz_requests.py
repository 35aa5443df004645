"""Hostile API requests for the fuzz tests and benchmark: what-if profiles, JSON of every shape,
and HTTP requests (wrong methods and paths, malformed, truncated and oversized bodies).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from assistant.whatif.profile import FIELD_SPECS, FIELDS
from benchmarks.fuzz_inputs import (
    personal_texts,
    questions,
    short_text,
    weighted,
)
from ui.http_api import MAX_BODY_BYTES

# -- what-if profiles and JSON ---------------------------------------------------------------
ODD_VALUES: tuple[Any, ...] = (
    math.nan, math.inf, -math.inf, -1, 0, 1e308, -1e308, 680, 680.5, "680", True, False, None,
    {"a": 1}, [680], 10**30, 2**63, 0.3, 1.5, -0.1, "", "六百八", 1e-308, 950, 351,
)


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(ODD_VALUES), short_text(40),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(short_text(10), inner, max_size=4)),
        max_leaves=max_leaves,
    )


def _in_range(name: str) -> st.SearchStrategy[Any]:
    spec = FIELD_SPECS[name]
    top = spec.maximum if spec.maximum is not None else 10**9
    value: st.SearchStrategy[Any] = (
        st.booleans() if spec.kind is bool
        else st.integers(int(spec.minimum), int(top)) if spec.kind is int
        else st.floats(spec.minimum, top))
    return st.one_of(st.none(), value) if spec.nullable else value


RANGES = {name: _in_range(name) for name in FIELDS}


def profile_dicts() -> st.SearchStrategy[Any]:
    """What-if profiles: valid ones, ones with odd values (NaN, inf, -1, 1e308, "680", true,
    null, nested objects) or unknown fields, and non-objects."""
    odd = st.one_of(st.sampled_from(ODD_VALUES), st.integers(), json_values(3),
                    st.floats(allow_nan=True, allow_infinity=True))
    valid = st.fixed_dictionaries({}, optional=RANGES)
    hostile = st.dictionaries(st.sampled_from(FIELDS),
                              st.one_of(odd, odd, *RANGES.values()), max_size=8)
    return weighted(
        (5, valid),
        (4, hostile),
        (1, st.dictionaries(short_text(12), odd, max_size=3)),
        (1, json_values(4)),
    )


# -- HTTP requests ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpCase:
    """One request to the API: method, path, raw body bytes and how they are sent."""

    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = "application/json"
    chunked: bool = False

    def send(self, client: Any) -> Any:
        headers = {"content-type": self.content_type} if self.content_type else {}
        content: Any = self.body
        if self.chunked and self.body is not None:
            body = self.body
            content = iter([body[i : i + 8192] for i in range(0, len(body), 8192)] or [b""])
        # "//x" alone reads as a host to httpx: send such a path on the client's own base URL
        url = f"{str(client.base_url).rstrip('/')}{self.path}" if self.path.startswith("//") \
            else self.path
        return client.request(self.method, url, content=content, headers=headers)


def dumps(value: Any) -> bytes:
    """JSON bytes the way a sloppy client writes them: NaN allowed, UTF-8, and lone surrogates
    as the \\udXXX escapes JSON carries them in."""
    try:
        return json.dumps(value, allow_nan=True, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, allow_nan=True).encode("ascii")


def messages() -> st.SearchStrategy[Any]:
    """Chat ``messages``: mostly well-formed conversations ending with a user question, some
    with a broken message (odd role, wrong content type), some not a list at all."""
    text = weighted((6, questions()), (1, st.none()), (1, json_values(2)))
    parts = st.lists(weighted(
        (4, st.fixed_dictionaries({"type": st.just("text"), "text": text})),
        (1, st.fixed_dictionaries({"type": st.sampled_from(("image_url", "audio"))})),
        (1, json_values(2)),
    ), min_size=1, max_size=3)
    turn = st.fixed_dictionaries({"role": st.sampled_from(("user", "assistant", "system")),
                                  "content": short_text(200)})
    last = st.fixed_dictionaries({"role": st.just("user"),
                                  "content": weighted((8, questions()), (1, parts))},
                                 optional={"name": short_text(10)})
    odd = st.fixed_dictionaries(
        {"role": st.one_of(st.sampled_from(("admin", "", "USER", "tool", "developer")),
                           json_values(1)),
         "content": weighted((3, short_text(60)), (1, st.none()), (1, parts), (1, json_values(2)))},
    )
    return weighted(
        (6, st.builds(lambda head, tail: [*head, tail], st.lists(turn, max_size=4), last)),
        (2, st.builds(lambda head, bad, tail: [*head, bad, *tail], st.lists(turn, max_size=2),
                      odd, st.lists(last, max_size=1))),
        (1, st.lists(odd, max_size=3)),
        (1, json_values(4)),
    )


def chat_bodies() -> st.SearchStrategy[Any]:
    options = {
        "model": weighted((4, st.sampled_from(("mingbai", "gpt-4o", ""))), (1, json_values(1))),
        "stream": weighted((4, st.booleans()), (1, json_values(1))),
        "temperature": json_values(1),
        "n": json_values(1),
        "tools": json_values(2),
    }
    return weighted(
        (9, st.fixed_dictionaries({"messages": messages()}, optional=options)),
        (1, json_values()),
    )


def ask_bodies() -> st.SearchStrategy[Any]:
    turn = st.fixed_dictionaries({"role": st.sampled_from(("user", "assistant")),
                                  "content": short_text(200)})
    history = weighted((4, st.lists(turn, max_size=4)), (1, json_values(3)))
    question = weighted((9, questions()), (1, json_values(3)))
    return weighted(
        (9, st.fixed_dictionaries({"question": question}, optional={"history": history})),
        (1, json_values()),
    )


def whatif_bodies() -> st.SearchStrategy[Any]:
    band = weighted((4, st.sampled_from(("starter", "low", "medium", "good", "high"))),
                    (1, st.sampled_from(("top", "", "HIGH"))), (1, json_values(1)))
    lang = weighted((4, st.sampled_from(("zh", "en"))), (1, st.sampled_from(("fr", ""))),
                    (1, json_values(1)))
    return weighted(
        (9, st.fixed_dictionaries({}, optional={"profile": profile_dicts(),
                                                "changes": profile_dicts(),
                                                "target_band": band, "lang": lang})),
        (1, json_values()),
    )


API_ROUTES = ("/v1/chat/completions", "/v1/ask", "/v1/what-if", "/v1/models", "/healthz")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CONTENT_TYPES = (
    "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=latin-1", None,
)
RAW_BODIES = (
    b"", b"{", b"}", b"[]", b"null", b"0", b'"question"', b"\xff\xfe\x00", b"\xed\xa0\x80",
    b'{"question": "\\ud800\\u82b1\\u5457"}',
    b'{"question": "\\udfff"}',
    b'{"messages": [{"role": "user", "content": "\\ud83d"}]}',
    b'{"question": "' + b"\x00" * 10 + b'"}',
    b'{"question": NaN}',
    b'{"profile": {"sesame_score": ' + b"9" * 5000 + b"}}",
    b'{"profile": {"monthly_income": 1e400}}',
    b'{"profile": {"sesame_score": -Infinity}}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b'{"question": "hi", "question": ["dup"]}',
    b"\xef\xbb\xbf" + b'{"question": "bom"}',
)


def _route_case(route: str, body: st.SearchStrategy[Any]) -> st.SearchStrategy[HttpCase]:
    return st.builds(lambda b, chunked: HttpCase("POST", route, dumps(b), chunked=chunked),
                     body, st.booleans())


def _huge_case() -> st.SearchStrategy[HttpCase]:
    """A question whose body lands just under, on, or over the 64 KB limit."""
    def build(route: str, unit: str, delta: int, chunked: bool) -> HttpCase:
        def body(text: str) -> bytes:
            if route == "/v1/ask":
                return dumps({"question": text})
            return dumps({"messages": [{"role": "user", "content": text}]})

        per = len(dumps(unit)) - 2  # bytes per unit inside a JSON string
        count = max(0, (MAX_BODY_BYTES + delta - len(body(""))) // per)
        return HttpCase("POST", route, body(unit * count), chunked=chunked)

    return st.builds(build, st.sampled_from(("/v1/ask", "/v1/chat/completions")),
                     st.sampled_from(("a", "花", "🙂", "<script>", "\\", "\n")),
                     st.one_of(st.sampled_from((-64, -1, 0, 1, 2, 64)),
                               st.integers(-6000, 6000)),
                     st.booleans())


def _truncated_case() -> st.SearchStrategy[HttpCase]:
    def cut(body: bytes, at: float, route: str) -> HttpCase:
        return HttpCase("POST", route, body[: int(len(body) * at)])

    return st.builds(cut, st.one_of(chat_bodies(), ask_bodies()).map(dumps),
                     st.floats(0, 1), st.sampled_from(API_ROUTES[:3]))


def _path() -> st.SearchStrategy[str]:
    segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@",
                      max_size=12)
    return st.builds(
        lambda prefix, parts, query: prefix + "/".join(parts) + query,
        st.sampled_from(("/", "/v1/", "/v1", "/v2/", "/healthz/", "/v1/chat/completions/",
                         "//", "/v1/ask/", "/%2e%2e/", "/v1/%ff/", "/static/")),
        st.lists(segment, max_size=4),
        st.sampled_from(("", "?", "?q=1", "?stream=true&x=%00", "#frag", "?" + "a" * 3000)),
    )


def http_cases() -> st.SearchStrategy[HttpCase]:
    """Every kind of request a stranger (or a broken client) sends."""
    return weighted(
        (22, _route_case("/v1/chat/completions", chat_bodies())),
        (18, _route_case("/v1/ask", ask_bodies())),
        (16, _route_case("/v1/what-if", whatif_bodies())),
        (8, st.builds(HttpCase, st.sampled_from(METHODS), st.sampled_from(API_ROUTES),
                      st.one_of(st.none(), st.sampled_from(RAW_BODIES)),
                      st.sampled_from(CONTENT_TYPES))),
        (8, st.builds(HttpCase, st.just("POST"), st.sampled_from(API_ROUTES[:3]),
                      st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=300)),
                      st.sampled_from(CONTENT_TYPES), st.booleans())),
        (6, _truncated_case()),
        (6, st.builds(HttpCase, st.sampled_from(METHODS), _path(),
                      st.one_of(st.none(), st.sampled_from(RAW_BODIES)))),
        (6, _huge_case()),
        (5, st.builds(lambda route, body: HttpCase("POST", route, dumps(body),
                                                   content_type="text/plain"),
                      st.sampled_from(API_ROUTES[:3]), st.one_of(chat_bodies(), ask_bodies()))),
        (5, st.builds(lambda ct: HttpCase("GET", "/v1/models", None, ct),
                      st.sampled_from(CONTENT_TYPES))),
    )


def personal_http_cases() -> st.SearchStrategy[tuple[HttpCase, str]]:
    """(request, number): a question carrying a personal number, to /v1/ask or chat."""
    def build(pair: tuple[str, str], chat: bool, stream: bool) -> tuple[HttpCase, str]:
        text, number = pair
        if chat:
            body = {"messages": [{"role": "user", "content": text}], "stream": stream}
            return HttpCase("POST", "/v1/chat/completions", dumps(body)), number
        return HttpCase("POST", "/v1/ask", dumps({"question": text})), number

    return st.builds(build, personal_texts(), st.booleans(), st.booleans())


