"""The dashboard's pages, assets and guard rules, in-process (no browser)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mock_server import Settings, VirtualClock, create_app
from mock_server.domain.records.journal import mask_key
from mock_server.web.dashboard import is_shell

pytestmark = pytest.mark.anyio


async def _get(
    settings: Settings, path: str, *, client: tuple[str, int] = ("127.0.0.1", 1), **headers: str
) -> httpx.Response:
    app = create_app(settings, clock=VirtualClock())
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        return await http.get(path, headers=headers)


async def test_the_page_is_server_rendered_with_its_forms_and_the_registered_scenarios() -> None:
    response = await _get(Settings(), "/__mock/ui?status=fail&key=sk-te")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<option value="FAIL" selected>' in page  # the filter from the URL, normalised
    assert 'value="sk-te"' in page
    assert '<option value="fail" selected>fail[:&lt;progress&gt;] (job)</option>' in page
    for control in ("advance-form", "freeze", "unfreeze", "arm-form", "credits-form", "reset", "reset-dialog"):
        assert f'id="{control}"' in page
    assert 'src="/__mock/ui/assets/app.js"' in page
    assert '<a href="/__mock/ui" aria-current="page">Jobs</a>' in page


@pytest.mark.parametrize("view", ["requests", "webhooks", "health"])
async def test_each_view_has_its_deep_link(view: str) -> None:
    response = await _get(Settings(), f"/__mock/ui/{view}")
    assert response.status_code == 200
    assert f'data-view="{view}"' in response.text
    assert f'href="/__mock/ui/{view}" aria-current="page"' in response.text


async def test_a_job_page_escapes_the_id_it_was_given() -> None:
    response = await _get(Settings(), "/__mock/ui/jobs/%3Cscript%3Ex")
    assert response.status_code == 200
    assert "<script>x" not in response.text
    assert 'data-job="&lt;script&gt;x"' in response.text


async def test_unknown_views_assets_and_filters_say_what_exists() -> None:
    view = await _get(Settings(), "/__mock/ui/nope")
    assert view.status_code == 404
    assert "/__mock/ui/webhooks" in view.json()["message"]
    asset = await _get(Settings(), "/__mock/ui/assets/evil.js")
    assert asset.status_code == 404
    assert "app.css, app.js" in asset.json()["message"]
    bad = await _get(Settings(), "/__mock/ui/events?status=LOST")
    assert bad.status_code == 400
    assert "QUEUED, PROCESSING, DONE, FAIL" in bad.json()["message"]


@pytest.mark.parametrize(("name", "media"), [("app.js", "text/javascript"), ("app.css", "text/css")])
async def test_assets_ship_in_the_package(name: str, media: str) -> None:
    response = await _get(Settings(), f"/__mock/ui/assets/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert len(response.content) > 1000


async def test_with_a_token_the_shell_loads_without_it_but_the_feed_and_the_api_need_it() -> None:
    settings = Settings(admin_token="s3cret")
    remote = ("203.0.113.7", 1)
    assert (await _get(settings, "/__mock/ui", client=remote)).status_code == 200
    assert (await _get(settings, "/__mock/ui/assets/app.js", client=remote)).status_code == 200
    assert (await _get(settings, "/__mock/ui/events", client=remote)).status_code == 401
    assert (await _get(settings, "/__mock/health", client=remote)).status_code == 401
    # Host is still checked: a DNS-rebinding page gets nothing, not even the shell.
    assert (await _get(settings, "/__mock/ui", client=remote, host="evil.example")).status_code == 403


async def test_without_a_token_the_dashboard_is_loopback_only_like_the_admin_api() -> None:
    response = await _get(Settings(), "/__mock/ui", client=("203.0.113.7", 1))
    assert response.status_code == 403
    assert "--admin-token" in response.json()["message"]


def test_only_pages_and_assets_are_shell() -> None:
    assert is_shell("/ui")
    assert is_shell("/ui/jobs/abc")
    assert is_shell("/ui/assets/app.js")
    assert not is_shell("/ui/events")
    assert not is_shell("/uix")
    assert not is_shell("/health")


def test_serve_prints_the_dashboard_url() -> None:
    from mock_server.run.server import banner

    assert "dashboard (live jobs, requests, webhooks, controls): http://127.0.0.1:8080/__mock/ui" in banner(
        Settings(port=8080)
    )


async def _first_paint(settings: Settings, *paths: str, **body: Any) -> tuple[list[str], str]:
    """Create a job (with `body`), then read `paths` as HTML: nothing else runs, there is no event stream."""
    app = create_app(settings, clock=VirtualClock(start=1_750_000_000.0))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        auth = {"Authorization": "Bearer sk-test"}
        created = await http.post("/api/v1/flux/imagine", json={"prompt": "a red fox", **body}, headers=auth)
        message_id = created.json()["messageId"]
        journal = app.state.control.services.webhooks.journal
        for _ in range(200):  # a webhook is journalled by a task on this loop: let it run (bounded)
            if len(journal) or "webhookOverride" not in body:
                break
            await asyncio.sleep(0.005)
        pages = [(await http.get(p.format(id=message_id))).text for p in paths]
    return pages, message_id


async def test_the_first_answer_carries_the_current_rows_without_the_stream() -> None:
    (jobs, requests, health), message_id = await _first_paint(
        Settings(job_seconds=10), "/__mock/ui", "/__mock/ui/requests", "/__mock/ui/health"
    )
    assert f'<tr data-id="{message_id}" data-status="PROCESSING" data-progress="0">' in jobs
    assert "1 shown of 1 job(s)" in jobs
    assert "Waiting for data" not in jobs
    assert "POST /api/v1/flux/imagine" in requests
    assert "Waiting for data" not in requests
    assert "<dt>Seed</dt><dd>0</dd>" in health
    # The limiter is off: the documented windows are named as what --rate-limit documented would apply.
    assert "off: no limits applied (--rate-limit documented would apply general" in health
    assert 'id="clock-now" class="pill">2025-06-15T' in health


async def test_a_job_page_shows_a_queued_step_only_for_a_job_that_was_queued() -> None:
    settings = Settings(job_seconds=10, concurrency=1)
    app = create_app(settings, clock=VirtualClock(start=1_750_000_000.0))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        auth = {"Authorization": "Bearer sk-test"}
        first = (await http.post("/api/v1/flux/imagine", json={"prompt": "one"}, headers=auth)).json()["messageId"]
        second = (await http.post("/api/v1/flux/imagine", json={"prompt": "two"}, headers=auth)).json()["messageId"]
        at_once = (await http.get(f"/__mock/ui/jobs/{first}")).text
        waited = (await http.get(f"/__mock/ui/jobs/{second}")).text
        missing = (await http.get("/__mock/ui/jobs/nope")).text
    assert '<span id="job-status" data-status="PROCESSING"' in at_once
    assert "<strong>created</strong>" in at_once
    assert "QUEUED until" not in at_once
    assert "<strong>QUEUED until</strong>" in waited
    assert "No job has messageId nope (yet)" in missing


async def test_a_blocked_webhook_says_not_sent_and_names_the_allow_host_flag() -> None:
    (hooks, job), _ = await _first_paint(
        Settings(job_seconds=0),
        "/__mock/ui/webhooks",
        "/__mock/ui/jobs/{id}",
        webhookOverride="https://hooks.example.com/in",
    )
    for page in (hooks, job):
        assert 'data-outcome="blocked" data-attempt=""' in page
        assert "<td>not sent</td>" in page
        assert "--webhook-allow-host hooks.example.com" in page
        assert "Attempt 0" not in page


async def test_the_key_filter_placeholder_matches_how_keys_are_shown() -> None:
    page = (await _get(Settings(), "/__mock/ui")).text
    assert f'placeholder="sk-test or {mask_key("sk-test")}"' in page


async def test_with_a_token_a_page_without_it_is_a_shell_with_no_rows() -> None:
    settings = Settings(admin_token="s3cret")
    page = (await _get(settings, "/__mock/ui", client=("203.0.113.7", 1))).text
    assert "Waiting for data…" in page
    token = (
        await _get(settings, "/__mock/ui/health", client=("203.0.113.7", 1), **{"X-Mock-Admin-Token": "s3cret"})
    ).text
    assert "<dt>Seed</dt>" in token
