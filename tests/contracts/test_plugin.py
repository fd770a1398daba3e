"""The pytest plugin, run the way a user runs it: inner pytest sessions with ``-p flux_mock`` (pytester).

Inner sessions that serve or call the mock run in a subprocess: an in-process run would drop the modules it
imported first (pytester restores ``sys.modules``), and later tests would then see two copies of httpcore's
exception classes. The inner tests are grouped into a few sessions to keep the cost of start-up low.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# The inner sessions need only this plugin (and anyio's); the others cost a second of start-up each.
INNER = ("-p", "flux_mock", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:pytest_cov", "-W", "error")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "client"
EXAMPLE_PAGES = (DOCS / "pytest-plugin.md", DOCS / "verify-receiver.md")


def run_inner(pytester: pytest.Pytester, *args: str, **files: str) -> pytest.RunResult:
    pytester.makepyfile(**files)
    return pytester.runpytest_subprocess(*INNER, "-v", *args, timeout=120)


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    heavy = ("mock_server", "uvicorn", "httpx", "schemathesis", "hypothesis")
    code = f"import sys, contracts.plugin; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_options_and_marker_are_registered(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest("-p", "flux_mock", "--help").stdout.str()
    assert "flux-mock:" in help_text
    for option in ("--flux-mock-job-seconds", "--flux-mock-seed", "--flux-mock-api-key"):
        assert option in help_text
    markers = pytester.runpytest("-p", "flux_mock", "--markers").stdout.str()
    assert "flux_mock(scenario=None, seed=None)" in markers


FIXTURE_TESTS = """
import httpx
import pytest

FIRST_ID = "ad7f9c42-4f4b-4490-b44b-37ec10605992"  # the first messageId of seed 0


def test_a_job_end_to_end(flux_mock):
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a red fox"}).json()
        first = api.get(f"/api/v1/message/fetch/{created['messageId']}").json()
        assert first["status"] in ("QUEUED", "PROCESSING")
        flux_mock.advance(3)
        done = api.get(f"/api/v1/message/fetch/{created['messageId']}").json()
    assert done["status"] == "DONE"
    assert httpx.get(done["uri"]).headers["content-type"] == "image/png"
    assert [r.status for r in flux_mock.requests] == [200, 200, 200, 200]
    assert flux_mock.client_violations() == []
    assert flux_mock.env["IMAGINEPRO_BASE_URL"] == flux_mock.base_url


def test_the_mock_is_reset_between_tests(flux_mock):
    assert flux_mock.requests == []
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "again"}).json()
    assert created["messageId"] == FIRST_ID  # same seed, fresh store: the id sequence starts over


def test_client_violations_show_what_a_sloppy_client_got_wrong(flux_mock):
    with flux_mock.client() as api:
        api.post("/api/v1/flux/imagine", json={"prompt": "a fox", "n": 5})
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        flux_mock.advance(5)
        for _ in range(3):
            api.get(f"/api/v1/message/fetch/{created['messageId']}")
    checks = [v.check for v in flux_mock.client_violations(checks=["request-schema", "poll-after-terminal"])]
    assert checks == ["request-schema", "poll-after-terminal"]
    assert "n must not be greater than 4" in flux_mock.violations[0]


def test_a_half_second_poller_is_flagged_as_verify_flags_it(flux_mock):
    # The plugin judges with `flux-mock verify`'s defaults (a 1 s courtesy gap between polls of one job).
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        for _ in range(3):
            api.get(f"/api/v1/message/fetch/{created['messageId']}")
            flux_mock.advance(0.5)
    assert "poll-interval" in [v.check for v in flux_mock.client_violations()]


@pytest.mark.flux_mock(seed=7)
def test_another_seed_gets_a_server_of_its_own(flux_mock):
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
    assert created["messageId"] != FIRST_ID
    assert flux_mock.settings.seed == 7


@pytest.mark.flux_mock(sede=7)
def test_a_marker_typo_is_an_error(flux_mock):
    pass


@pytest.mark.anyio
async def test_in_process_on_virtual_time(flux_mock_asgi):
    async with flux_mock_asgi.client() as api:
        created = (await api.post("/api/v1/flux/imagine", json={"prompt": "a fox"})).json()
        url = f"/api/v1/message/fetch/{created['messageId']}"
        assert (await api.get(url)).json()["progress"] == 0
        flux_mock_asgi.advance(1.5)
        assert (await api.get(url)).json()["progress"] == 50
        flux_mock_asgi.advance(1.5)
        done = (await api.get(url)).json()
        assert done["uri"].startswith("http://flux-mock.invalid/")
        assert (await api.get(done["uri"])).status_code == 200
    assert len(flux_mock_asgi.requests) == 5
    assert flux_mock_asgi.client_violations(checks=["poll-after-terminal", "undocumented-endpoint"]) == []
"""


def test_the_fixtures_as_a_user_sees_them(pytester: pytest.Pytester) -> None:
    result = run_inner(
        pytester, "--flux-mock-seed", "0", "--flux-mock-job-seconds", "demo", test_fixtures=FIXTURE_TESTS
    )
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(["*test_a_marker_typo_is_an_error*ERROR*", "*takes only scenario= and seed=*"])


SCENARIO_TESTS = """
import pytest


@pytest.mark.flux_mock(scenario="fail:50")
def test_failing_job(flux_mock):
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        flux_mock.advance(10)
        message = api.get(f"/api/v1/message/fetch/{created['messageId']}").json()
    assert message["status"] == "FAIL"


def test_the_next_test_is_clean(flux_mock):
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        flux_mock.advance(10)
        assert api.get(f"/api/v1/message/fetch/{created['messageId']}").json()["status"] == "DONE"


@pytest.mark.anyio
@pytest.mark.flux_mock(scenario="reject:429")
async def test_in_process_too(flux_mock_asgi):
    async with flux_mock_asgi.client() as api:
        answer = await api.post("/api/v1/flux/imagine", json={"prompt": "a fox"})
    assert answer.status_code == 429
"""
MY_CLIENT = """
import time

import httpx


class GenerationFailed(Exception):
    pass


def generate(prompt, *, base_url, api_key):
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}) as http:
        job = http.post("/api/v1/flux/imagine", json={"prompt": prompt}).json()
        while True:
            message = http.get(f"/api/v1/message/fetch/{job['messageId']}").json()
            if message["status"] == "DONE":
                return httpx.get(message["uri"]).content
            if message["status"] == "FAIL":
                raise GenerationFailed(message["error"])
            time.sleep(0.2)
"""


MY_RECEIVER = """
import json

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
seen, finished = set(), set()


async def hook(request):
    body = await request.body()
    try:
        message = Webhook(SECRET).verify(body, dict(request.headers))
    except (WebhookVerificationError, ValueError):
        return JSONResponse({"error": "not signed by our sender"}, 401)
    if not isinstance(message, dict) or not isinstance(message.get("progress"), int) or "updatedAt" not in message:
        return JSONResponse({"error": "not a Message"}, 400)
    if request.headers["webhook-id"] in seen or message["messageId"] in finished:
        return JSONResponse({"ok": True})
    seen.add(request.headers["webhook-id"])
    if message["status"] in ("DONE", "FAIL"):
        finished.add(message["messageId"])
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/hooks/imaginepro", hook, methods=["POST"])])
"""
RECEIVER_FAILURES = """
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def crashes_on_progress(request):
    message = await request.json()
    return JSONResponse({"ok": True}, 200 if message["status"] in ("DONE", "FAIL") else 500)


def test_a_broken_receiver_fails_with_what_was_sent(flux_mock_receiver_check):
    app = Starlette(routes=[Route("/", crashes_on_progress, methods=["POST"])])
    with pytest.raises(AssertionError) as failed:
        flux_mock_receiver_check(app, scenarios=["progress"])
    text = str(failed.value)
    assert text.startswith("4 contract failures:")
    assert "[progress] POST http://receiver.invalid/: progress events of one job" in text
    assert "curl -sS -i -X POST http://receiver.invalid/ -H 'Content-Type: application/json'" in text
"""


def test_the_scenario_marker_and_the_documented_examples(pytester: pytest.Pytester) -> None:
    # One inner session for the docs' client and receiver examples (each session costs an interpreter start).
    readme = "".join(page.read_text(encoding="utf-8") for page in EXAMPLE_PAGES)
    [client_test] = re.findall(r"```python\n(# test_my_client\.py.*?)```", readme, re.S)
    [receiver_test] = re.findall(r"```python\n(# test_my_receiver\.py.*?)```", readme, re.S)
    files = {
        "test_scenarios": SCENARIO_TESTS,
        "my_client": MY_CLIENT,
        "test_my_client": client_test,
        "my_receiver": MY_RECEIVER,
        "test_my_receiver": receiver_test,
        "test_receiver_failures": RECEIVER_FAILURES,
    }
    result = run_inner(pytester, "--flux-mock-job-seconds", "0", **files)
    result.assert_outcomes(passed=7)


WEBHOOK_TEST = """
def test_webhook(flux_mock, webhook_receiver):
    with flux_mock.client() as api:
        body = {"prompt": "a fox", "webhookOverride": webhook_receiver.url}
        created = api.post("/api/v1/flux/imagine", json=body).json()
    flux_mock.advance(5)
    [hook] = webhook_receiver.wait_for(1, timeout=10)
    assert hook.json["messageId"] == created["messageId"]
    assert hook.json["status"] == "DONE"
    [attempt] = flux_mock.wait_for_webhooks(1, message_id=created["messageId"])
    assert attempt.outcome == "delivered"
    assert flux_mock.webhooks == [attempt]
"""


def test_webhook_receiver_gets_the_final_webhook(pytester: pytest.Pytester) -> None:
    run_inner(pytester, test_webhook=WEBHOOK_TEST).assert_outcomes(passed=1)
