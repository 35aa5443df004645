"""What every tab of the page shares: escaping, callouts and the Gradio event options.

What a user typed is always shown as text (``safe_text``); our own Markdown has raw HTML escaped
(``safe_markdown``); warnings, "I don't know" and errors are wrapped in a styled ``callout``
(the ``mb-*`` classes of ``ui.web.CSS``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CONCURRENCY = {"concurrency_limit": 2, "concurrency_id": "assistant"}  # 2 cores
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI-only events stay out of the API


@dataclass(frozen=True)
class OnLoad:
    """What a tab fills when the page loads: ``fn(lang, *inputs) -> outputs``, ``lang`` being
    the page's language (``ui.i18n.page_language``)."""

    fn: Callable[..., Any]
    inputs: Sequence[Any]
    outputs: Sequence[Any]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=:])")


def safe_text(s: str) -> str:
    r"""User text as Markdown that renders verbatim, never as HTML or formatting.

    >>> print(safe_text("<b>*hi*</b>"))
    &lt;b&gt;\*hi\*&lt;/b&gt;
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(s)), quote=False)


def safe_markdown(s: str) -> str:
    """Our own Markdown with any raw HTML neutralised: ``safe_markdown("a<b") == "a&lt;b"``."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;")


_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def plain_text(markdown: str) -> str:
    r"""Our answer Markdown as plain lines, for pasting into a chat app: no ``**``, bullets as •.

    >>> print(plain_text("**可以。** [1]\n- 第一点\n\n来源：\n[1] 标题"))
    可以。 [1]
    • 第一点
    <BLANKLINE>
    来源：
    [1] 标题
    """
    text = _BOLD.sub(r"\1", str(markdown))
    return "\n".join("• " + line[2:] if line.startswith("- ") else line
                     for line in text.splitlines()).strip()


def callout(kind: str, markdown: str) -> str:
    """A styled box (``kind``: scam, abstain, error) around our Markdown."""
    # Blank lines around the content let Markdown render inside the HTML block.
    return f'<div class="mb-callout mb-{kind}">\n\n{markdown}\n\n</div>'
