"""The follow-up-* scenarios over a real socket, with curl: the first job is served and ends DONE, the follow-up made
from it is refused (429 + Retry-After, 503) or FAILs."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from mock_server import LiveServer, Settings

KEY = "sk-follow-up"


def curl(url: str, body: dict[str, object] | None = None) -> tuple[int, dict[str, str], object]:
    command = ["curl", "-sS", "-D", "/dev/stderr", "-H", f"Authorization: Bearer {KEY}", url]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=True)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(done.stdout)


def done(base: str, message_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, _, body = curl(f"{base}/api/v1/message/fetch/{message_id}")
        assert isinstance(body, dict)
        if body["status"] in ("DONE", "FAIL"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {message_id} did not end")


@pytest.mark.parametrize("scenario", ["follow-up-reject:429", "follow-up-reject:503", "follow-up-fail"])
def test_the_first_job_is_served_and_its_follow_up_is_not(scenario: str) -> None:
    settings = Settings(job_seconds=0.2, api_keys=(KEY,), scenario=scenario)
    with LiveServer(settings=settings) as server:
        status, _, created = curl(f"{server.url}/api/v1/flux/imagine", {"prompt": "a red fox"})
        assert status == 200
        assert isinstance(created, dict)
        first = done(server.url, str(created["messageId"]))
        assert first["status"] == "DONE"
        status, headers, answer = curl(f"{server.url}/api/v1/flux/upscale", {"image": first["uri"], "scale": 2})
        if scenario == "follow-up-fail":
            assert status == 200
            assert isinstance(answer, dict)
            upscaled = done(server.url, str(answer["messageId"]))
            assert upscaled["status"] == "FAIL"
            assert upscaled["error"]
        else:
            code = int(scenario.rpartition(":")[2])
            assert status == code
            assert isinstance(answer, dict)
            assert answer["statusCode"] == code
            assert headers.get("retry-after") == ("3" if code == 429 else None)
