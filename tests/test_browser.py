"""A real browser (Debian's chromium, driven by Playwright) against `mingbai serve`.

Skipped, with the reason and the install command, where chromium is not installed — except when
MINGBAI_REQUIRE_BROWSER=1 (set by .ci/run, which installs it): then a missing browser fails.
Screenshots are saved to artifacts/ as test artifacts.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

if not Path(CHROMIUM).exists():
    _why = "chromium is not installed (apt-get install chromium fonts-wqy-microhei)"
    if os.environ.get("MINGBAI_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{_why}, and MINGBAI_REQUIRE_BROWSER=1 says the browser tests must run")
    pytest.skip(_why, allow_module_level=True)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.dialogs = dialogs  # type: ignore[attr-defined]
        pg.goto(server, wait_until="domcontentloaded")
        pg.wait_for_selector("#mb-question textarea", timeout=60_000)
        yield pg
        browser.close()


def _ask(page: Any, question: str) -> Any:
    box = page.locator("#mb-question textarea")
    before = page.locator('[data-testid="bot"]').count()
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"bot\"]').length > n", arg=before,
        timeout=60_000,
    )
    bot = page.locator('[data-testid="bot"]').nth(before)
    bot.locator(".mb-sources, .mb-abstain").first.wait_for(timeout=60_000)
    return bot


def test_all_tabs_are_there(page: Any) -> None:
    for name in ("问答", "额度模拟", "知识库"):
        assert page.get_by_role("tab", name=name).count() == 1, name
    # the developer evaluation lives on the operator page now (test_operator_page_...)
    assert page.get_by_role("tab", name="评测 Evaluation").count() == 0
    assert "95188" in page.locator("#mb-independent").inner_text()
    assert "MINGBAI_LOG_QUESTIONS=0" in page.locator("#mb-recording").inner_text()


def test_a_thumbs_down_reaches_the_question_log(
    page: Any, server: str, session_home: Path
) -> None:
    import sqlite3
    import time

    tab = _fresh(page, server, 1280, 1400, locale="en-US")  # Gradio's own button names
    _ask(tab, "借呗可以提前还款吗")
    tab.get_by_role("button", name="Dislike").last.click()
    deadline = time.monotonic() + 10
    votes: list[Any] = []
    while time.monotonic() < deadline and not votes:
        con = sqlite3.connect(session_home / "questions.db")
        votes = con.execute(
            "select f.vote, q.face from feedback f join questions q on q.id = f.answer_id "
            "where q.question = '借呗可以提前还款吗'").fetchall()
        con.close()
        time.sleep(0.3)
    assert votes and votes[-1] == (-1, "page")
    tab.context.close()


def test_operator_page_needs_its_token_and_holds_the_evaluation(page: Any, server: str) -> None:
    import httpx

    from tests.conftest import ADMIN_TOKEN

    assert httpx.get(f"{server}/admin", timeout=10).status_code == 401
    context = page.context.browser.new_context(locale="zh-CN")
    op = context.new_page()
    op.goto(f"{server}/admin?token={ADMIN_TOKEN}", wait_until="domcontentloaded")
    assert "明白 Mingbai · 运营 Operator" in op.content()
    op.goto(f"{server}/admin/eval/", wait_until="domcontentloaded")
    op.get_by_role("tab", name="评测 Evaluation").wait_for(timeout=60_000)
    op.screenshot(path=str(ARTIFACTS / "browser-operator-eval.png"), full_page=True)
    context.close()


def test_chat_answer_shows_its_sources(page: Any) -> None:
    bot = _ask(page, "在闲鱼买东西会开通借呗吗?")
    assert "不会" in bot.inner_text()
    sources = bot.locator(".mb-sources")
    assert sources.count() == 1 and "[1]" in sources.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-chat.png"), full_page=True)


def test_markup_in_a_question_is_shown_as_text(page: Any) -> None:
    _ask(page, '<img src=x onerror="alert(1)"> 花呗是什么')
    user = page.locator('[data-testid="user"]').last
    assert "<img" in user.inner_text()
    assert user.locator("img").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def _ask_any(page: Any, question: str) -> Any:
    """Like _ask, for answers that may have no sources (a clarifying question)."""
    box = page.locator("#mb-question textarea")
    before = page.locator('[data-testid="bot"]').count()
    box.fill(question)
    box.press("Enter")
    return _wait_for_answer(page, before)


def _wait_for_answer(page: Any, before: int) -> Any:
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"bot\"]').length > n", arg=before,
        timeout=60_000,
    )
    bot = page.locator('[data-testid="bot"]').nth(before)
    seen, stable = "", 0
    for _ in range(200):  # streamed to the end: the same text three reads in a row
        page.wait_for_timeout(150)
        text = bot.inner_text().strip()
        stable = stable + 1 if text == seen and text not in ("", "…") else 0
        seen = text
        if stable >= 3:
            break
    return bot


def _offered_for(page: Any, bot: Any) -> str:
    """Waits until the related questions on offer are those the (clarifying) answer lists, i.e.
    the turn is complete; returns the first."""
    related = page.locator("#mb-related")
    related.wait_for(state="visible", timeout=30_000)
    for _ in range(200):
        first = related.get_by_role("button").first.inner_text().strip()
        if first and first in bot.inner_text():
            return first
        page.wait_for_timeout(150)
    raise AssertionError(f"the offered questions are not the answer's: {bot.inner_text()!r}")


def test_a_two_question_message_gets_two_answers_with_their_sources(page: Any) -> None:
    page.get_by_role("tab", name="问答").click()
    bot = _ask(page, "花呗怎么提前还款？借呗能提前还吗？")
    bot.locator(".mb-sources").nth(1).wait_for(timeout=60_000)
    text = bot.inner_text()
    assert "1. 花呗怎么提前还款" in text and "2. 借呗能提前还吗" in text
    assert bot.locator(".mb-sources").count() == 2


def test_a_fragment_offers_questions_that_send_when_clicked(page: Any) -> None:
    page.get_by_role("tab", name="问答").click()
    bot = _ask_any(page, "额度")
    question = _offered_for(page, bot)  # the questions the answer listed
    assert "额度" in bot.inner_text() and bot.locator(".mb-sources").count() == 0
    before = page.locator('[data-testid="bot"]').count()
    page.locator("#mb-related").get_by_role("button").first.click()
    answer = _wait_for_answer(page, before)
    assert page.locator('[data-testid="user"]').last.inner_text().strip() == question
    assert answer.locator(".mb-sources").count() == 1  # answered from the knowledge base
    page.screenshot(path=str(ARTIFACTS / "browser-related.png"), full_page=True)


def test_the_trash_icon_forgets_the_conversation(page: Any, server: str) -> None:
    page = _fresh(page, server, 1280, 1400, locale="en-US")  # Gradio's own button names
    _ask(page, "花呗能提前还款吗")
    page.locator("#mb-related").wait_for(state="visible", timeout=30_000)  # the turn is complete
    page.locator("#mb-chat").get_by_role("button", name=re.compile("clear", re.I)).first.click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"bot\"]').length === 0",
        timeout=30_000,
    )
    page.locator("#mb-related").wait_for(state="hidden", timeout=30_000)
    # with the history forgotten, "那借呗呢" is a fragment, not "can Jiebei be repaid early"
    bot = _ask_any(page, "那借呗呢")
    _offered_for(page, bot)  # a clarifying question, complete
    assert bot.locator(".mb-sources").count() == 0, bot.inner_text()
    page.context.close()


def test_what_if_range_changes_with_an_input(page: Any) -> None:
    page.get_by_role("tab", name="额度模拟").click()
    before = page.locator("#mb-whatif-before")
    before.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#mb-whatif-before').innerText.includes('¥')",
        timeout=30_000,
    )
    initial = before.inner_text()
    sesame = page.locator("#mb-wi-sesame_score input[type=number]")
    sesame.fill("820")
    sesame.press("Enter")
    page.wait_for_function(
        "t => document.querySelector('#mb-whatif-before').innerText !== t", arg=initial,
        timeout=30_000,
    )
    assert before.inner_text() != initial and "¥" in before.inner_text()
    assert "教育" in page.locator("body").inner_text()  # the notice is always visible
    page.wait_for_function(  # let every pending update settle before the screenshot
        "() => !document.body.innerText.includes('processing |')", timeout=30_000
    )
    page.screenshot(path=str(ARTIFACTS / "browser-whatif.png"), full_page=True)


def test_what_if_opens_plainly_at_desktop_and_phone_size(page: Any, server: str) -> None:
    """No change applied, the income box empty (unknown), utilization in %, units in the
    labels; at phone width too (the screenshot is an artifact)."""
    for width, height, name in ((1280, 800, "desktop"), (390, 844, "phone")):
        context = page.context.browser.new_context(viewport={"width": width, "height": height},
                                                   locale="zh-CN")
        tab = context.new_page()
        tab.goto(server, wait_until="domcontentloaded")
        tab.get_by_role("tab", name="额度模拟").click()
        tab.wait_for_function(
            "() => document.querySelector('#mb-whatif-after')?.innerText.includes('¥')",
            timeout=60_000)
        assert "改变后（没有改变）" in tab.locator("#mb-whatif-after").inner_text()
        for box in ("#mb-change-value-0", "#mb-wi-monthly_income"):  # empty, not "0"
            assert tab.locator(f"{box} textarea, {box} input").first.input_value() == "", box
        util = tab.locator("#mb-wi-utilization input[type=number]")
        assert util.input_value() == "30" and util.get_attribute("max") == "100"
        labels = tab.locator("#mb-wi-overdue_12m").inner_text()
        assert "（次）" in labels and tab.locator("#mb-wi-overdue_12m input[type=number]"
                                                 ).get_attribute("max") == "24"
        chart = tab.locator("#mb-whatif-chart img")  # matplotlib: an image
        chart.wait_for(timeout=30_000)
        tab.wait_for_function("() => document.querySelector('#mb-whatif-chart img').complete")
        shown = chart.bounding_box()
        natural = chart.evaluate("img => img.naturalWidth")
        assert shown is not None and shown["x"] + shown["width"] <= width, shown  # not cut off
        # the chart's 11 pt labels stay readable: drawn at >= 60% of their size (~9 px)
        assert natural and shown["width"] / natural >= 0.6, (shown, natural)
        tab.screenshot(path=str(ARTIFACTS / f"browser-whatif-{name}.png"), full_page=True)
        context.close()


def test_the_conversation_survives_a_reload_until_new_chat(page: Any) -> None:
    page.get_by_role("tab", name="问答").click()
    _ask(page, "花呗怎么还款")
    page.locator("#mb-related").wait_for(state="visible", timeout=30_000)  # the turn is complete
    count = page.locator('[data-testid="bot"]').count()
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"bot\"]').length === n", arg=count,
        timeout=30_000)
    assert "花呗怎么还款" in page.locator('[data-testid="user"]').last.inner_text()
    page.locator("#mb-clear").click()  # 新对话 New chat
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"bot\"]').length === 0", timeout=30_000)
    page.reload(wait_until="domcontentloaded")
    page.wait_for_selector("#mb-question textarea", timeout=60_000)
    page.wait_for_timeout(1500)  # a restored conversation would have appeared by now
    assert page.locator('[data-testid="bot"]').count() == 0


def _fresh(page: Any, server: str, width: int, height: int, locale: str = "zh-CN") -> Any:
    context = page.context.browser.new_context(viewport={"width": width, "height": height},
                                               locale=locale)
    tab = context.new_page()
    tab.goto(server, wait_until="domcontentloaded")
    tab.wait_for_selector("#mb-question textarea", timeout=60_000)
    return tab


def _search_knowledge(tab: Any, query: str, status: str) -> None:
    """Search the knowledge tab (already open) and wait until its status line says ``status``."""
    tab.locator("#mb-kb-query textarea, #mb-kb-query input").first.fill(query)
    tab.locator("#mb-kb-search").click()
    tab.wait_for_function(
        f"() => document.querySelector('#mb-kb-status')?.innerText.includes({status!r})",
        timeout=30_000)


def test_the_page_speaks_the_browsers_language(page: Any, server: str) -> None:
    english = _fresh(page, server, 1280, 800, locale="en-US")
    for name in ("Chat", "What-if", "Knowledge"):
        assert english.get_by_role("tab", name=name).count() == 1, name
    assert english.get_by_role("button", name="Ask").count() == 1
    assert "问答" not in english.locator("#mb-tabs").inner_text()
    english.context.close()
    chinese = _fresh(page, server, 1280, 800)
    assert chinese.get_by_role("button", name="提问").count() == 1
    assert "Chat" not in chinese.locator("#mb-tabs [role=tablist]").inner_text()
    chinese.context.close()


def test_the_user_can_switch_the_page_language_and_it_is_kept(page: Any, server: str) -> None:
    """A Chinese browser, switched to English with the header's button: the tabs, the What-if
    labels and estimate, the search status and the 👎 reasons follow; a reload keeps the
    choice; switching back gives Chinese. A French browser (neither) reads Chinese."""
    tab = _fresh(page, server, 1280, 1400)
    tab.locator("#mb-lang").click()  # "English"
    tab.wait_for_selector("#mb-question textarea", timeout=60_000)
    tab.get_by_role("tab", name="What-if").wait_for(timeout=30_000)
    tab.get_by_role("tab", name="What-if").click()
    tab.wait_for_function(
        "() => document.querySelector('#mb-whatif-after')?.innerText.includes('¥')",
        timeout=60_000)
    shown = tab.locator("#mb-whatif-after").inner_text() + tab.locator(
        "#mb-whatif-reasons").inner_text() + tab.locator("#mb-wi-overdue_12m").inner_text()
    assert "After (no change)" in shown and "Overdue" in shown, shown
    assert not re.search(r"[\u4e00-\u9fff]", shown), shown  # one language at a time
    tab.get_by_role("tab", name="Knowledge").click()
    _search_knowledge(tab, "weather tomorrow", "No entry")
    tab.reload(wait_until="domcontentloaded")
    tab.get_by_role("tab", name="Chat").wait_for(timeout=60_000)
    assert tab.locator("#mb-lang").inner_text().strip() == "中文"
    tab.locator("#mb-lang").click()
    tab.get_by_role("tab", name="问答").wait_for(timeout=60_000)
    tab.context.close()
    french = _fresh(page, server, 1280, 800, locale="fr-FR")
    assert french.get_by_role("tab", name="问答").count() == 1
    assert french.get_by_role("button", name="提问").count() == 1
    french.context.close()


def test_copy_puts_clean_text_on_the_clipboard(page: Any, server: str) -> None:
    """Gradio's copy button on an answer: the warning, the verdict, • points and the sources as
    plain lines; no Markdown, no HTML."""
    tab = _fresh(page, server, 1280, 1400)
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"])
    box = tab.locator("#mb-question textarea")
    box.fill("闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码让我扫，怎么办")
    box.press("Enter")
    bot = tab.locator('[data-testid="bot"]').last
    bot.locator(".mb-sources").wait_for(timeout=60_000)
    tab.wait_for_timeout(500)
    bot.hover()
    tab.locator('#mb-chat button[aria-label="Copy message"], '
                '#mb-chat button[aria-label="复制消息"]').last.click()
    tab.wait_for_timeout(300)
    copied = tab.evaluate("navigator.clipboard.readText()")
    assert "警惕诈骗" in copied and "借呗" in copied, copied
    assert "\n• " in copied and "来源：\n[1]" in copied, copied
    for markup in ("**", "<div", "<details", "mb-", "&lt;"):
        assert markup not in copied, (markup, copied)
    tab.context.close()


def test_desktop_shows_the_examples_without_scrolling(page: Any, server: str) -> None:
    tab = _fresh(page, server, 1280, 800)
    box = tab.locator("#mb-examples").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800, box
    tab.context.close()


def test_on_a_phone_every_tab_is_one_tap_and_an_answer_opens_at_its_first_line(
    page: Any, server: str
) -> None:
    tab = _fresh(page, server, 390, 844)
    for name in ("问答", "额度模拟", "知识库"):
        assert tab.get_by_role("tab", name=name).is_visible(), name
    box = tab.locator("#mb-question textarea")
    box.fill("闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码让我扫，怎么办")
    box.press("Enter")
    bot = tab.locator('[data-testid="bot"]').last
    bot.locator(".mb-sources").wait_for(timeout=60_000)
    tab.wait_for_timeout(500)  # the scroll runs after the last update
    first = bot.bounding_box()
    assert first is not None and 0 <= first["y"] < 844 / 3, first  # its top, near the top
    assert "借呗" in bot.inner_text()
    tab.screenshot(path=str(ARTIFACTS / "browser-chat-phone.png"))
    tab.context.close()


def test_a_chosen_entry_comes_into_view_and_no_label_badge_covers_content(
    page: Any, server: str
) -> None:
    """At phone size: picking a search result brings the entry's text into view; the chat and
    the What-if chart carry no floating label badge (one used to sit on the text and on the
    chart's title)."""
    tab = _fresh(page, server, 390, 844)
    for box_id in ("#mb-chat", "#mb-whatif-chart"):
        labels = tab.locator(f'{box_id} [data-testid="block-label"]')
        assert all(not labels.nth(i).is_visible() for i in range(labels.count())), box_id
    tab.get_by_role("tab", name="知识库").click()
    _search_knowledge(tab, "花呗怎么还款", "找到")
    cell = tab.locator("#mb-kb-results span.text").filter(has_text=re.compile(r"^huabei-")).first
    cell.wait_for(timeout=30_000)
    cell.click()
    tab.wait_for_function(
        "() => document.querySelector('#mb-kb-entry')?.innerText.includes('来源')",
        timeout=30_000)
    tab.wait_for_timeout(800)  # the smooth scroll
    shown = tab.locator("#mb-kb-entry").bounding_box()
    assert shown is not None and -2 <= shown["y"] < 844 / 2, shown  # its top, in view
    tab.context.close()


def test_every_page_text_is_translated_not_shown_as_a_key(page: Any, server: str) -> None:
    for locale in ("zh-CN", "en-US"):
        tab = _fresh(page, server, 1280, 1400, locale=locale)
        assert "MINGBAI_LOG_QUESTIONS=0" in tab.locator("#mb-recording").inner_text()
        for i in range(tab.get_by_role("tab").count()):
            tab.get_by_role("tab").nth(i).click()
            tab.wait_for_timeout(300)
            text = tab.locator("body").inner_text()
            assert "translation_metadata" not in text and "i18n{" not in text, (locale, i)
        tab.context.close()


def test_no_serious_accessibility_violations_on_any_tab(page: Any, server: str) -> None:
    """axe-core (axe-playwright-python ships it: offline) on each tab at both sizes: no serious or
    critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for width, height in ((1280, 800), (390, 844)):
        tab = _fresh(page, server, width, height)
        for i in range(tab.get_by_role("tab").count()):
            tab.get_by_role("tab").nth(i).click()
            tab.wait_for_timeout(500)
            found = axe.run(tab).response["violations"]
            bad = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in found
                   if v["impact"] in ("serious", "critical")]
            assert not bad, (width, i, bad)
        tab.context.close()
