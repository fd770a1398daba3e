"""The container image, black-box: built from the Containerfile, run by its own entrypoint and command.

Only the command's --host and --port are changed (to 127.0.0.1 and a free port: `buildah run --isolation chroot`
shares the host's network, and tests stay on loopback); every other setting goes in as a documented FLUX_MOCK_*
variable. A request "from elsewhere" is simulated the way a proxy would present it: the mock trusts 127.0.0.1 as
a proxy (FLUX_MOCK_TRUST_PROXY) and the request carries X-Forwarded-For with a remote address.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from buildah_support import Running, free_port, image_config, with_flag

pytestmark = pytest.mark.container

KEY = "sk-container"
AUTH = {"Authorization": f"Bearer {KEY}"}
REMOTE = {"X-Forwarded-For": "203.0.113.7"}  # a client beyond the proxy, not on loopback
TOKEN = "container-s3cret"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POLL_DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def config(image: str) -> dict[str, Any]:
    return image_config(image)


def _start(
    image: str, config: dict[str, Any], log: Path, timings: dict[str, float | str], name: str, **env: str
) -> Running:
    port = free_port()
    command = with_flag(with_flag(config["Cmd"], "--host", "127.0.0.1"), "--port", str(port))
    env = {
        "FLUX_MOCK_JOB_SECONDS": "instant",
        "FLUX_MOCK_TRUST_PROXY": "127.0.0.1",
        "FLUX_MOCK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    running = Running(image, [*config["Entrypoint"], *command], port, env, log)
    try:
        running.start()
    except BaseException:
        running.stop()
        raise
    timings[f"{name}_start_s"] = round(running.started_s, 1)
    return running


@pytest.fixture(scope="module")
def mock(
    image: str, config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, timings: dict[str, float | str]
) -> Iterator[Running]:
    """The image as shipped: no admin token."""
    running = _start(image, config, tmp_path_factory.mktemp("mock") / "mock.log", timings, "mock")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def guarded(
    image: str, config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, timings: dict[str, float | str]
) -> Iterator[Running]:
    """The image with FLUX_MOCK_ADMIN_TOKEN set."""
    log = tmp_path_factory.mktemp("guarded") / "guarded.log"
    running = _start(image, config, log, timings, "guarded", FLUX_MOCK_ADMIN_TOKEN=TOKEN)
    try:
        yield running
    finally:
        running.stop()


def test_the_image_is_what_the_containerfile_promises(config: dict[str, Any]) -> None:
    assert config["Entrypoint"] == ["flux-mock"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    user = config["User"].partition(":")[0]
    assert user.isdigit(), config["User"]  # numeric, so Kubernetes' runAsNonRoot can verify it
    assert int(user) != 0
    assert "FLUX_MOCK_PUBLIC_URL=http://127.0.0.1:8080" in config["Env"]
    assert config["Healthcheck"]["Test"][0] == "CMD"


def test_it_runs_as_its_non_root_user(mock: Running, config: dict[str, Any]) -> None:
    found = mock.exec(["id", "-u"])
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == config["User"].partition(":")[0]


def test_health_answers(mock: Running) -> None:
    health = httpx.get(mock.url + "/__mock/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


def test_the_healthcheck_passes_and_can_fail(mock: Running, config: dict[str, Any]) -> None:
    check = config["Healthcheck"]["Test"][1:]
    passed = mock.exec(check, env={"FLUX_MOCK_PORT": str(mock.port)})
    assert passed.returncode == 0, passed.stderr
    failed = mock.exec(check, env={"FLUX_MOCK_PORT": str(free_port())})  # nothing listens there
    assert failed.returncode != 0


def test_a_flux_job_is_created_polled_to_done_and_its_image_downloaded(mock: Running) -> None:
    with httpx.Client(base_url=mock.url, headers=AUTH, timeout=10) as client:
        created = client.post("/api/v1/flux/imagine", json={"prompt": "a red fox in the snow"})
        assert created.status_code == 200, created.text
        message_id = created.json()["messageId"]
        deadline = time.monotonic() + POLL_DEADLINE_S
        while True:
            message = client.get(f"/api/v1/message/fetch/{message_id}")
            assert message.status_code == 200, message.text
            if message.json()["status"] in ("DONE", "FAIL") or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # instant jobs are DONE at once; the loop only bounds a slow start
        body = message.json()
        assert body["status"] == "DONE", body
        assert body["uri"].startswith(mock.url + "/"), body["uri"]  # FLUX_MOCK_PUBLIC_URL reached the mock
        image = client.get(body["uri"])
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(PNG_MAGIC)


def test_without_a_token_the_admin_api_refuses_a_request_from_elsewhere(mock: Running) -> None:
    refused = httpx.get(mock.url + "/__mock/jobs", headers=REMOTE, timeout=10)
    assert refused.status_code == 403
    assert "this one is 203.0.113.7" in refused.json()["message"]
    assert "--admin-token" in refused.json()["message"]
    assert httpx.get(mock.url + "/__mock/jobs", timeout=10).status_code == 200  # loopback itself still gets in


def test_the_token_and_only_the_token_opens_the_admin_api_to_a_request_from_elsewhere(
    guarded: Running, config: dict[str, Any]
) -> None:
    url = guarded.url + "/__mock/jobs"
    refused = httpx.get(url, headers=REMOTE, timeout=10)
    assert refused.status_code == 401
    assert "--admin-token" in refused.json()["message"]
    assert httpx.get(url, headers=REMOTE | {"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    accepted = httpx.get(url, headers=REMOTE | {"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert httpx.get(url, headers=REMOTE | {"X-Mock-Admin-Token": TOKEN}, timeout=10).status_code == 200
    # the healthcheck sends FLUX_MOCK_ADMIN_TOKEN, so a guarded container is still healthy
    check = guarded.exec(config["Healthcheck"]["Test"][1:], env={"FLUX_MOCK_PORT": str(guarded.port)})
    assert check.returncode == 0, check.stderr
