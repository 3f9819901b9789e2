"""Regenerate docs/screenshots/*.png: each page of `ruleengine serve` in headless Chromium.

    scripts/setup-system && .venv/bin/python scripts/screenshots.py

Starts the server on a free loopback port over examples/, takes the pictures at a fixed `now`,
and stops the server.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from service_support import EXAMPLE_RULES, EXAMPLE_SNAPSHOTS  # noqa: E402  # after the path
from test_service_pages import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402  # same

PAGES = {
    "index": "/",
    "program": "/programs/acme-rewards",
    "customer": "/programs/acme-rewards/customer?snapshot=acme-maria.json&now=2026-06-01T00:00:00Z",
    "check": "/check",
    "points": "/programs/maple-loyalty/customer?snapshot=maple-nadia.json&now=2026-05-10T00:00:00Z",
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    process, base = start_server(EXAMPLE_RULES, "--snapshots", str(EXAMPLE_SNAPSHOTS))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 760})
            for name, path in PAGES.items():
                page.goto(base + path)
                if name == "points":  # the balance, coupons and history, below the form
                    page.locator("#points").scroll_into_view_if_needed()
                page.screenshot(path=str(out / f"{name}.png"))
                print(out / f"{name}.png")
            page.goto(base + "/check/scratch?file=0")
            text = page.input_value("#scratch-text")
            page.fill("#scratch-text", text.replace("order.subtotal >= 20", "order.subtotl >= 20"))
            page.click("#check-button")
            page.screenshot(path=str(out / "scratch.png"))
            print(out / "scratch.png")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
