"""Screenshots of every tab of the page at desktop (1280x800) and phone (390x844) size, in
Chinese, into docs/screenshots/ (docs/ui.md shows them):

    python -m benchmarks.screenshots [--url http://127.0.0.1:PORT]

Starts its own `mingbai serve` on 127.0.0.1 (question log off) unless --url is given, asks one
question so the chat shows an answer, and uses Debian's chromium.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import load

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
TABS = {"chat": "问答", "whatif": "额度模拟", "knowledge": "知识库"}
QUESTION = "闲鱼买家说我要先开通借呗才能收到货款，还发了个二维码"


def run(url: str | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    proc = None
    if url is None:
        proc, url, _ = load._start_server({"MINGBAI_LOG_QUESTIONS": "0"})
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--headless", "--no-sandbox"])
            for size, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height},
                                        locale="zh-CN")
                page.goto(url, wait_until="domcontentloaded")
                page.wait_for_selector("#mb-question textarea", timeout=60_000)
                box = page.locator("#mb-question textarea")
                box.fill(QUESTION)
                box.press("Enter")
                page.locator('[data-testid="bot"] .mb-sources').first.wait_for(timeout=60_000)
                page.wait_for_timeout(800)
                for name, label in TABS.items():
                    page.get_by_role("tab", name=label).click()
                    page.wait_for_timeout(1200)
                    path = OUT / f"{name}-{size}.png"
                    page.screenshot(path=str(path))
                    written.append(path)
                page.close()
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None)
    for path in run(parser.parse_args().url):
        print(path)


if __name__ == "__main__":
    main()
