"""The pytest plugin, run the way a user runs it: inner pytest sessions with ``-p flux_mock`` (pytester)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import mock_server

pytest_plugins = ["pytester"]

needs_scenarios = pytest.mark.skipif(
    "scenario" not in mock_server.Settings.__dataclass_fields__, reason="needs flux-mock scenarios (issue 5)"
)
needs_webhooks = pytest.mark.skipif(
    not hasattr(mock_server, "WebhookReceiver"), reason="needs flux-mock webhooks (issue 4)"
)


README = Path(__file__).resolve().parents[2] / "README.md"
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


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(source)
    return pytester.runpytest("-p", "flux_mock", "-W", "error", *args)


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


USER_TEST = """
import httpx

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
    # Same seed, fresh store: the id sequence starts over.
    assert created["messageId"] == "e3e70682-c209-4cac-a29f-6fbed82c07cd"
"""


def test_flux_mock_serves_a_whole_job_and_resets_between_tests(pytester: pytest.Pytester) -> None:
    result = run(pytester, USER_TEST, "--flux-mock-seed", "0")
    result.assert_outcomes(passed=2)


def test_client_violations_show_what_a_user_client_got_wrong(pytester: pytest.Pytester) -> None:
    source = """
def test_sloppy_client(flux_mock):
    with flux_mock.client() as api:
        api.post("/api/v1/flux/imagine", json={"prompt": "a fox", "n": 5})
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        flux_mock.advance(5)
        for _ in range(3):
            api.get(f"/api/v1/message/fetch/{created['messageId']}")
    checks = [v.check for v in flux_mock.client_violations(checks=["request-schema", "poll-after-terminal"])]
    assert checks == ["request-schema", "poll-after-terminal"]
    assert "n must not be greater than 4" in flux_mock.violations[0]
"""
    run(pytester, source).assert_outcomes(passed=1)


def test_the_seed_marker_gives_the_test_a_server_of_its_own(pytester: pytest.Pytester) -> None:
    source = """
import pytest

def ids(flux_mock):
    with flux_mock.client() as api:
        return api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()["messageId"]

def test_default_seed(flux_mock):
    assert ids(flux_mock) == "e3e70682-c209-4cac-a29f-6fbed82c07cd"

@pytest.mark.flux_mock(seed=7)
def test_seed_7(flux_mock):
    assert ids(flux_mock) != "e3e70682-c209-4cac-a29f-6fbed82c07cd"
    assert flux_mock.settings.seed == 7

@pytest.mark.flux_mock(sede=7)
def test_typo(flux_mock):
    pass
"""
    result = run(pytester, source)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*takes only scenario= and seed=*"])


def test_flux_mock_asgi_runs_in_process_on_virtual_time(pytester: pytest.Pytester) -> None:
    source = """
import pytest

@pytest.mark.anyio
async def test_in_process(flux_mock_asgi):
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
    run(pytester, source).assert_outcomes(passed=1)


@needs_scenarios
def test_the_scenario_marker_arms_a_scenario(pytester: pytest.Pytester) -> None:
    source = """
import pytest

@pytest.mark.flux_mock(scenario="fail:50")
def test_failing_job(flux_mock):
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        flux_mock.advance(10)
        message = api.get(f"/api/v1/message/fetch/{created['messageId']}").json()
    assert message["status"] == "FAIL"

def test_next_test_is_clean(flux_mock):
    with flux_mock.client() as api:
        created = api.post("/api/v1/flux/imagine", json={"prompt": "a fox"}).json()
        flux_mock.advance(10)
        assert api.get(f"/api/v1/message/fetch/{created['messageId']}").json()["status"] == "DONE"

@pytest.mark.anyio
@pytest.mark.flux_mock(scenario="reject:429")
async def test_asgi_too(flux_mock_asgi):
    async with flux_mock_asgi.client() as api:
        answer = await api.post("/api/v1/flux/imagine", json={"prompt": "a fox"})
    assert answer.status_code == 429
"""
    run(pytester, source).assert_outcomes(passed=3)


@needs_webhooks
def test_webhook_receiver_gets_the_final_webhook(pytester: pytest.Pytester) -> None:
    source = """
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
    run(pytester, source).assert_outcomes(passed=1)


@needs_scenarios
def test_the_readme_example_runs(pytester: pytest.Pytester) -> None:
    [snippet] = re.findall(r"```python\n(# test_my_client\.py.*?)```", README.read_text(encoding="utf-8"), re.S)
    pytester.makepyfile(my_client=MY_CLIENT, test_my_client=snippet)
    result = pytester.runpytest("-p", "flux_mock", "-W", "error", "--flux-mock-job-seconds", "0")
    result.assert_outcomes(passed=2)
