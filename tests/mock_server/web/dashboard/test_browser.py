"""The dashboard in a real browser: Playwright driving Debian's chromium against a `LiveServer` on a VirtualClock.

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``; or set FLUX_MOCK_CHROMIUM) and fails, never skips,
without it. Time only moves when the test (or the page) advances the clock; the test waits for the browser to
show what the feed pushed, never for a job.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from mock_server import LiveServer, Settings, VirtualClock

ROOT = Path(__file__).resolve().parents[4]
REPORTS = ROOT / "reports"
KEY = "sk-dashboard-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("FLUX_MOCK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"chromium not found at {path}: the dashboard's browser test needs it. Install it with "
            "`apt-get install -y chromium`, or point FLUX_MOCK_CHROMIUM at a Chromium binary."
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    """A fresh headless chromium profile, 1280x800, for this module's tests."""
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=_chromium(), headless=True, args=ARGS, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(5_000)
        try:
            yield context
        finally:
            context.close()


def _dead_port() -> int:
    # A loopback port nobody listens on: bound for a moment to get a free number, then closed.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _shot(page: Page, name: str) -> None:
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / f"dashboard-{name}.png"), full_page=True)


def _row(page: Page, message_id: str) -> object:
    return page.locator(f'tr[data-id="{message_id}"]')


def test_jobs_move_live_and_every_control_works_from_the_page(browser: BrowserContext) -> None:
    started = time.monotonic()
    settings = Settings(job_seconds=10.0, seed=7, api_keys=(KEY,), webhook_retries=3)
    with LiveServer(settings=settings, clock=VirtualClock(start=1_750_000_000.0)) as server:
        api = httpx.Client(base_url=server.url, headers=AUTH, timeout=5)
        page = browser.new_page()
        errors = _watch(page)
        page.goto(f"{server.url}/__mock/ui")
        expect(page.locator("#live")).to_have_text("live")

        # A job created through the API appears, and its progress moves with the clock.
        first = api.post("/api/v1/flux/imagine", json={"prompt": "a red fox"}).json()["messageId"]
        row = page.locator(f'tr[data-id="{first}"]')
        expect(row).to_have_attribute("data-status", "PROCESSING")
        expect(row).to_have_attribute("data-progress", "0")
        api.post("/__mock/clock/advance", json={"seconds": 3})
        expect(row).to_have_attribute("data-progress", "30")

        # Advance from the page: DONE, and the job page shows its thumbnail.
        page.fill("#advance-seconds", "20")
        page.click("#advance-form button[type=submit]")
        expect(row).to_have_attribute("data-status", "DONE")
        _shot(page, "jobs")
        row.locator("a").click()
        expect(page).to_have_url(re.compile(f"/__mock/ui/jobs/{first}$"))
        image = page.locator("#job-images img").first
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        # Its create, and the thumbnail's own download (the image URL carries the messageId too).
        expect(page.locator("#job-requests")).to_contain_text("POST /api/v1/flux/imagine")
        expect(page.locator("#job-requests")).to_contain_text(f"GET /storage/v1/object/public/cdn/{first}.png")
        _shot(page, "job")

        # Arm fail:40 from the form: the next job FAILs at 40 %.
        page.goto(f"{server.url}/__mock/ui")
        page.select_option("#arm-name", "fail")
        page.fill("#arm-arg", "40")
        page.fill("#arm-count", "1")
        page.click("#arm-form button[type=submit]")
        expect(page.locator("#armed")).to_contain_text("fail:40")
        failing = api.post("/api/v1/flux/imagine", json={"prompt": "doomed"}).json()["messageId"]
        page.fill("#advance-seconds", "10")
        page.click("#advance-form button[type=submit]")
        failed = page.locator(f'tr[data-id="{failing}"]')
        expect(failed).to_have_attribute("data-status", "FAIL")
        expect(failed).to_have_attribute("data-progress", "40")

        # A webhook to a dead receiver is retried, and the page shows the attempts with their outcome.
        hook = f"http://127.0.0.1:{_dead_port()}/hook"
        api.post("/api/v1/flux/imagine", json={"prompt": "hooked", "webhookOverride": hook})
        page.goto(f"{server.url}/__mock/ui/webhooks")
        page.fill("#advance-seconds", "15")
        page.click("#advance-form button[type=submit]")
        expect(page.locator('tr[data-attempt="1"][data-outcome="retrying"]')).to_be_visible()
        page.click("#advance-form button[type=submit]")  # past the backoff: the retry fires
        expect(page.locator('tr[data-attempt="2"]')).to_be_visible()
        expect(page.locator('tr[data-attempt="1"]')).to_contain_text("in ")  # when the next attempt was due
        _shot(page, "webhooks")

        # A contract violation in the requests view, with its pointer and hint.
        api.post("/api/v1/flux/imagine", json={"prompt": "x", "n": 99})
        page.goto(f"{server.url}/__mock/ui/requests")
        expect(page.locator("tr.violation")).to_have_count(1)
        expect(page.locator("tr.detail")).to_contain_text("/n")
        _shot(page, "requests")

        # Force and release a job from its page; freeze is a no-op on a virtual clock but must answer.
        page.goto(f"{server.url}/__mock/ui/jobs/{failing}")
        page.select_option("#force-status", "DONE")
        page.click("#force-form button[type=submit]")
        expect(page.locator("#job-status")).to_have_attribute("data-status", "DONE")
        page.click("#release")
        expect(page.locator("#job-status")).to_have_attribute("data-status", "FAIL")
        page.click("#freeze")
        expect(page.locator("#flash")).to_have_text("Clock frozen")

        # Credits, then reset with its confirmation.
        page.goto(f"{server.url}/__mock/ui/health")
        expect(page.locator("#health")).to_contain_text("Seed")
        _shot(page, "health")
        page.fill("#credits-account", KEY)
        page.fill("#credits-balance", "3")
        page.click("#credits-form button[type=submit]")
        expect(page.locator("#flash")).to_contain_text("set")
        assert api.get("/__mock/credits").json()["balances"] == {"sk-da…st": 3}
        page.click("#reset")
        page.click("#reset-confirm")
        expect(page.locator("#health dd").nth(3)).to_have_text("0")  # Jobs
        assert api.get("/__mock/jobs").json() == []

        page.close()
        api.close()
        assert errors == []
    assert time.monotonic() - started < 30


def test_with_an_admin_token_the_page_asks_for_it_once(browser: BrowserContext) -> None:
    settings = Settings(job_seconds=3.0, seed=1, api_keys=(KEY,), admin_token="s3cret")
    with LiveServer(settings=settings, clock=VirtualClock()) as server:
        page = browser.new_page()
        page.goto(f"{server.url}/__mock/ui/health")
        page.fill("#token-input", "s3cret")
        page.click("#token-form button[type=submit]")
        expect(page.locator("#live")).to_have_text("live")
        expect(page.locator("#health")).to_contain_text("Seed")
        page.fill("#advance-seconds", "5")
        page.click("#advance-form button[type=submit]")
        expect(page.locator("#flash")).to_have_text("Clock advanced 5 s")
        assert page.evaluate("sessionStorage.getItem('flux-mock-admin-token')") == "s3cret"
        page.reload()  # kept for the session: no second prompt
        expect(page.locator("#live")).to_have_text("live")
        expect(page.locator("#token-dialog")).not_to_be_visible()
        # A narrow window: one column, and the page itself never scrolls sideways (wide tables scroll in place).
        page.set_viewport_size({"width": 400, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        page.keyboard.press("Tab")  # the skip link comes first, for keyboard users
        assert page.evaluate("document.activeElement.className") == "skip"
        _shot(page, "narrow")
        page.close()


def test_the_first_paint_shows_the_jobs_without_the_event_stream(browser: BrowserContext) -> None:
    # The feed is blocked, so whatever the page shows came in its first HTML answer: a slow browser, a headless
    # screenshot, or a proxy that buffers the stream still sees the jobs.
    settings = Settings(job_seconds=10.0, seed=7, api_keys=(KEY,), concurrency=1)
    with LiveServer(settings=settings, clock=VirtualClock(start=1_750_000_000.0)) as server:
        api = httpx.Client(base_url=server.url, headers=AUTH, timeout=5)
        first = api.post("/api/v1/flux/imagine", json={"prompt": "a red fox"}).json()["messageId"]
        second = api.post("/api/v1/flux/imagine", json={"prompt": "a grey wolf"}).json()["messageId"]
        api.post("/__mock/clock/advance", json={"seconds": 3})
        page = browser.new_page()
        errors = _watch(page)
        feeds: list[str] = []
        page.route("**/__mock/ui/events*", lambda route: (feeds.append(route.request.url), route.abort()))
        page.goto(f"{server.url}/__mock/ui", wait_until="domcontentloaded")
        _shot(page, "first-paint")
        expect(_row(page, first)).to_have_attribute("data-status", "PROCESSING")  # type: ignore[arg-type]
        expect(_row(page, first)).to_have_attribute("data-progress", "30")  # type: ignore[arg-type]
        expect(_row(page, second)).to_have_attribute("data-status", "QUEUED")  # type: ignore[arg-type]
        expect(page.locator("#jobs-count")).to_have_text("2 shown of 2 job(s)")
        expect(page.locator("body")).not_to_contain_text("Waiting for data")
        page.goto(f"{server.url}/__mock/ui/jobs/{second}", wait_until="domcontentloaded")
        expect(page.locator("#job-status")).to_have_attribute("data-status", "QUEUED")
        expect(page.locator("#job-timeline")).to_contain_text("QUEUED until")
        expect(page.locator("#job-requests")).to_contain_text("POST /api/v1/flux/imagine")
        page.goto(f"{server.url}/__mock/ui/health", wait_until="domcontentloaded")
        expect(page.locator("#health")).to_contain_text("off: no limits applied")
        expect(page.locator("#live")).not_to_have_text("live")  # the stream never connected
        assert feeds  # the page did try it
        page.close()
        api.close()
        # The blocked feed is the only error the page may log.
        assert all("events" in e or "Failed to load" in e or "ERR_FAILED" in e for e in errors), errors
