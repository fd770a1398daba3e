"""The ``flux-mock drift`` command: exit codes a CI can rely on, two recordings, and a proxy killed mid-session."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from recordings import Recordings
from redis_support import free_port

from contracts.commands.drift import drift as command
from mock_server import LiveServer, Settings, VirtualClock, read_recording

START_TIMEOUT_S = 30.0  # the proxy is a fresh Python process: imports, then uvicorn


def test_defaults_fail_on_errors_only(recordings: Recordings, tmp_path: Path) -> None:
    runner = CliRunner()
    faithful, broken = recordings.get(), recordings.get("done-without-images")
    clean = runner.invoke(command, [str(faithful), "--seed", "7"])
    assert clean.exit_code == 0, clean.output
    assert "3 info finding(s)" in clean.output  # pacing: recorded 6 s, the mock 3 s
    assert "kind imagine" in clean.output
    failed = runner.invoke(command, [str(broken), "--junit", str(tmp_path / "r.xml")])
    assert failed.exit_code == 1
    assert "done_has_images" in failed.output
    assert (tmp_path / "r.xml").read_text().count("<failure") == 6  # the errors; warnings and infos pass
    assert runner.invoke(command, [str(faithful), "--fail-on", "error,warning,info"]).exit_code == 1
    assert runner.invoke(command, [str(broken), "--fail-on", "info"]).exit_code == 1  # pacing infos
    assert runner.invoke(command, [str(broken), "--fail-on", "fatal"]).exit_code == 2
    assert runner.invoke(command, ["--help"]).exit_code == 0


def test_two_recordings_are_compared_and_json_carries_pacing(recordings: Recordings) -> None:
    runner = CliRunner()
    old, new = recordings.get(), recordings.get(job_seconds=3.0)
    result = runner.invoke(command, [str(old), str(new), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["source"], document["against"]) == (str(new), str(old))
    assert {f["kind"] for f in document["findings"]} == {"pacing"}
    assert next(p for p in document["pacing"] if p["kind"] == "imagine")["done_s"]["median"] == 3.0
    three = runner.invoke(command, [str(old), str(new), str(old)])
    assert three.exit_code == 2
    assert "one recording" in three.output


def test_a_proxy_killed_mid_session_leaves_a_recording_drift_reads(tmp_path: Path) -> None:
    recording = tmp_path / "rec.har"
    clock = VirtualClock(start=1_750_000_000.0)
    upstream = LiveServer(settings=Settings(job_seconds=2.0, seed=7, webhook_transport="record"), clock=clock)
    port = free_port()
    args = ["proxy", "--upstream", "", "--port", str(port), "--record", str(recording), "--quiet"]
    with upstream:
        args[2] = upstream.url
        log = (tmp_path / "proxy.log").open("wb")
        proxy = subprocess.Popen([sys.executable, "-m", "mock_server", *args], stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers={"Authorization": "Bearer sk-kill"}, timeout=10) as client:
                _wait_until_listening(client, proxy, tmp_path / "proxy.log")
                sent = _session(client, clock)
            proxy.send_signal(signal.SIGKILL)
            proxy.wait(timeout=10)
        finally:
            if proxy.poll() is None:
                proxy.kill()
                proxy.wait(timeout=10)
            log.close()
    read = read_recording(recording)
    assert not read.complete
    assert len(read.entries) == sent  # every exchange answered before the kill is on disk
    result = CliRunner().invoke(command, [str(recording)])
    assert result.exit_code == 0, result.output
    assert "was cut short" in result.output
    assert "kind imagine" in result.output


def _wait_until_listening(client: httpx.Client, proxy: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert proxy.poll() is None, f"the proxy exited with {proxy.returncode}:\n{log.read_text()}"
        try:
            if client.get("/__mock/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the proxy did not listen within {START_TIMEOUT_S} s:\n{log.read_text()}"
        time.sleep(0.05)  # a process starting, not a job: the upstream's jobs run on the virtual clock


def _session(client: httpx.Client, clock: VirtualClock) -> int:
    """A Flux job followed to DONE, then a second one left running (the kill comes mid-session); exchanges sent."""
    first = client.post("/api/v1/flux/imagine", json={"prompt": "a red fox", "n": 2}).json()["messageId"]
    sent, status = 1, ""
    while status != "DONE" and sent < 10:
        clock.advance(0.5)
        status = client.get(f"/api/v1/message/fetch/{first}").json()["status"]
        sent += 1
    assert status == "DONE"
    second = client.post("/api/v1/flux/imagine", json={"prompt": "a lighthouse"}).json()["messageId"]
    clock.advance(0.5)
    assert client.get(f"/api/v1/message/fetch/{second}").json()["status"] == "PROCESSING"
    return sent + 2
