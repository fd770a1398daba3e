"""End to end through a real socket: uvicorn on an ephemeral loopback port, a plain HTTP client."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

from PIL import Image

from mock_server import Settings
from mock_server.server import LiveServer


def call(method: str, url: str, body: dict[str, object] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer sk-e2e")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_create_poll_download_over_a_socket() -> None:
    with LiveServer(settings=Settings(job_seconds=0, api_keys=("sk-e2e",))) as server:
        status, _, raw = call(
            "POST",
            server.url + "/api/v1/flux/imagine",
            {"prompt": "a red fox", "width": 512, "height": 384, "output_format": "webp"},
        )
        assert status == 200
        mid = json.loads(raw)["messageId"]
        status, _, raw = call("GET", f"{server.url}/api/v1/midjourney/message/{mid}")
        message = json.loads(raw)
        assert status == 200
        assert message["status"] == "DONE"
        assert message["uri"].startswith(server.url)  # image URLs point at the mock itself
        status, headers, blob = call("GET", message["uri"])
        assert status == 200
        assert headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(blob)).size == (512, 384)
        status, _, raw = call("POST", server.url + "/api/v1/flux/imagine", {"prompt": "x", "n": 5})
        assert status == 400
        assert json.loads(raw)["message"] == ["n must not be greater than 4"]
