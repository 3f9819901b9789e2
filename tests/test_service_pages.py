"""The pages in headless Chromium (Playwright), against `ruleengine serve` on a loopback port.

Playwright cannot download its browsers here, so the tests launch Debian's Chromium, which
`scripts/setup-system` installs. When either is missing the tests fail and say so: a page
test that skips would let a broken page through.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service_support import EXAMPLE_SNAPSHOTS, ROOT, copy_rules

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETUP = "run scripts/setup-system (it installs Chromium) and pip install -e '.[dev]'"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(rules: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """`ruleengine serve` on a free loopback port; waits (boundedly) for /healthz."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ruleengine", "serve", str(rules), "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):  # at most ~20 s
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.1)
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError("ruleengine serve did not start")


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_rules(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def server(rules: Path) -> Iterator[str]:
    # --today pins the day of date-dependent notes: the rule check must not depend on the calendar
    process, base = start_server(
        rules,
        "--snapshots",
        str(EXAMPLE_SNAPSHOTS),
        "--reload-interval",
        "0",
        "--today",
        "2026-06-01",
    )
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"playwright is not installed: {SETUP}")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: {SETUP}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def api_result(base: str, program: str, snapshot: str, now: str) -> dict[str, Any]:
    text = (EXAMPLE_SNAPSHOTS / snapshot).read_text(encoding="utf-8")
    body = f'{{"snapshot": {text}, "now": "{now}"}}'.encode()
    request = urllib.request.Request(
        f"{base}/v1/programs/{program}/evaluate",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


def test_index_lists_every_program(server: str, page: Any) -> None:
    page.goto(server + "/")
    programs = page.locator("tr.program").evaluate_all("rows => rows.map(r => r.dataset.program)")
    assert programs == [
        "acme-rewards",
        "aurora-beauty",
        "greenleaf-market",
        "maple-loyalty",
        "northwind-coffee",
        "urban-threads",
    ]


def test_program_preview_speaks_customer_words(server: str, page: Any) -> None:
    page.goto(server + "/")
    page.click("text=acme-rewards")
    assert (
        page.locator("li.earning-rule[data-rule=signup-bonus]")
        .inner_text()
        .startswith("Create an account: 200 points")
    )
    steps = page.locator(".milestone[data-rule=loyalty-journey] li.step").all_inner_texts()
    assert [s.split(":")[0] for s in steps] == ["Step 1 of 3", "Step 2 of 3", "Step 3 of 3"]
    assert "choose 1 of: 15% off, free shipping" in steps[1]


def journey_labels(page: Any, rule: str) -> list[str]:
    return [
        s.strip() for s in page.locator(f".journey[data-rule={rule}] li .label").all_inner_texts()
    ]


def test_customer_view_follows_now(server: str, page: Any) -> None:
    page.goto(server + "/programs/acme-rewards/customer")
    page.select_option("#snapshot-select", "acme-maria.json")
    page.fill("#now", "2026-04-10T00:00:00Z")
    page.click("#show")
    assert page.inner_text("#customer") == "c-1001"
    assert journey_labels(page, "loyalty-journey") == [
        "step 1 of 3: 1/3 orders",
        "step 2 of 3: not started",
        "step 3 of 3: not started",
    ]
    bar = page.locator(".journey[data-rule=loyalty-journey] li[data-step='1'] progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("1.0", "3.0")
    keys = page.locator("tr.decision").evaluate_all("rows => rows.map(r => r.dataset.key)")
    expected = api_result(server, "acme-rewards", "acme-maria.json", "2026-04-10T00:00:00Z")
    assert keys == [d["key"] for d in expected["decisions"]]
    assert page.locator("li.explanation[data-rule=loyalty-journey]").count() >= 1

    page.fill("#now", "2026-06-01T00:00:00Z")
    page.click("#show")
    labels = journey_labels(page, "loyalty-journey")
    assert labels[0] == "step 1 of 3: done" and labels[1].startswith("step 2 of 3: ")
    keys = page.locator("tr.decision").evaluate_all("rows => rows.map(r => r.dataset.key)")
    expected = api_result(server, "acme-rewards", "acme-maria.json", "2026-06-01T00:00:00Z")
    assert keys == [d["key"] for d in expected["decisions"]]
    assert "loyalty-journey/2" in keys
    assert "pick 1 of" in page.inner_text("tr.decision[data-key='loyalty-journey/2'] .rewards")


def api_timeline(base: str, program: str, snapshot: str, now: str) -> dict[str, Any]:
    text = (EXAMPLE_SNAPSHOTS / snapshot).read_text(encoding="utf-8")
    body = f'{{"snapshot": {text}, "now": "{now}"}}'.encode()
    request = urllib.request.Request(
        f"{base}/v1/programs/{program}/timeline",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


def test_customer_view_shows_balance_coupons_and_the_points_history(server: str, page: Any) -> None:
    now = "2026-05-10T00:00:00Z"
    page.goto(server + f"/programs/maple-loyalty/customer?snapshot=maple-nadia.json&now={now}")
    result = api_result(server, "maple-loyalty", "maple-nadia.json", now)
    assert page.inner_text("#balance-active") == f"{result['balance']['active']:,}"
    assert page.inner_text("#balance-pending") == f"{result['balance']['pending']:,}"
    redeemable = page.locator("li.redeemable").evaluate_all(
        "items => items.map(i => i.dataset.program)"
    )
    assert redeemable == [r["program"] for r in result["redeemable"]]
    coupons = page.locator("tr.coupon").evaluate_all("rows => rows.map(r => r.dataset.coupon)")
    assert coupons == [c["coupon"] for c in result["coupons"]]
    history = api_timeline(server, "maple-loyalty", "maple-nadia.json", now)
    kinds = page.locator("#timeline tr.entry").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == [entry["kind"] for entry in history["entries"]]
    last = page.locator("#timeline tr.entry").last.inner_text()
    assert history["entries"][-1]["text"] in last


def test_customer_view_shows_the_vip_tier_and_the_way_to_the_next(server: str, page: Any) -> None:
    now = "2026-06-01T00:00:00Z"
    page.goto(server + f"/programs/aurora-beauty/customer?snapshot=aurora-lea.json&now={now}")
    tier = api_result(server, "aurora-beauty", "aurora-lea.json", now)["tier"]
    assert page.get_attribute("#tier", "data-tier") == tier["current"] == "gold"
    assert page.inner_text("#tier-name") == tier["name"]
    assert f"order {tier['qualifying']}" in page.inner_text("#tier")
    assert page.inner_text("#tier-amount") == "€330.00 of €1,000.00 spent"
    assert page.inner_text("#tier-next").startswith("spend €670.00 more to reach Platinum")
    bar = page.locator("#tier-progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("330.00", "1000.00")


def test_program_preview_shows_ways_to_redeem(server: str, page: Any) -> None:
    page.goto(server + "/programs/maple-loyalty")
    five_off = page.inner_text("li.redeem-option[data-program=five-off]")
    assert five_off.startswith("$5 off your order: 500 points for CA$5.00 off")
    assert "up to 2 times per month" in five_off
    per_100 = page.inner_text("li.redeem-option[data-program=dollars-off]")
    assert "100 points for each CA$1.00 off (at least 200, at most 5,000 points)" in per_100
    # what customers need to know before they spend: points wait, then expire
    assert page.inner_text("#expiry p").startswith("Points expire 12 months after your last")
    assert page.locator(".earning-rule .pending").first.inner_text() == (
        "(pending for 14 days before they can be spent)"
    )


def test_pasted_snapshot_problems_are_shown(server: str, page: Any) -> None:
    page.goto(server + "/programs/acme-rewards/customer?now=2026-06-01T00:00:00Z")
    page.fill("#paste textarea", '{"customer": {"id": 5}, "activity": []}')
    page.click("#paste button")
    codes = page.locator("li.problem").evaluate_all("items => items.map(i => i.dataset.code)")
    assert codes == ["RE610"]
    assert "$.customer.id" in page.inner_text("#problems")


def test_scratch_editor_locates_a_broken_rule_and_writes_nothing(
    server: str, page: Any, rules: Path
) -> None:
    on_disk = (rules / "acme.yaml").read_text(encoding="utf-8")
    page.goto(server + "/check")
    section = page.locator("section.rule-file", has_text="acme.yaml")
    assert "checks" in section.inner_text()
    section.locator("text=edit a copy").click()
    text = page.input_value("#scratch-text")
    assert text == on_disk
    page.fill("#scratch-text", text.replace("order.subtotal >= 20", "order.subtotl >= 20", 1))
    page.click("#check-button")
    found = page.locator("#scratch-diagnostics .diagnostic")
    assert found.count() == 1
    line = next(i for i, row in enumerate(on_disk.splitlines(), 1) if "order.subtotal >= 20" in row)
    assert (found.get_attribute("data-code"), found.get_attribute("data-line")) == (
        "RE402",
        str(line),
    )
    assert "did you mean `order.subtotal`?" in found.inner_text()
    assert page.locator("#scratch-preview").count() == 0

    page.fill("#scratch-text", on_disk.replace("name: Loyalty journey", "name: Welcome trail", 1))
    page.click("#check-button")
    assert page.locator("#clean").count() == 1
    assert "Welcome trail" in page.inner_text(
        "#scratch-preview .milestone[data-rule=loyalty-journey]"
    )
    assert (rules / "acme.yaml").read_text(encoding="utf-8") == on_disk


def test_serve_starts_and_stops_cleanly(rules: Path) -> None:
    # how fast it starts is measured in benchmarks (docs/performance.md), never asserted here
    process, _ = start_server(rules)
    process.terminate()
    assert process.wait(timeout=10) is not None
