"""``flux-mock verify-receiver``, the real command over a real socket: exit 0, 1 and 2.

One uvicorn server (`LiveServer`, a free loopback port) serves the good receiver at /good/hook and a mutant that
never checks signatures at /bad/hook; the three command runs go concurrently, each a `python -m mock_server`
subprocess, so the test costs about one interpreter start-up.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutant_receivers import SECRET, GoodReceiver, NeverChecksSignatures
from starlette.applications import Starlette
from starlette.routing import Mount

from contracts.commands.receiver import verify_receiver
from mock_server import LiveServer


@pytest.fixture(scope="module")
def receivers() -> Iterator[str]:
    app = Starlette(routes=[Mount("/good", GoodReceiver(SECRET).app), Mount("/bad", NeverChecksSignatures(SECRET).app)])
    with LiveServer(app) as server:
        yield server.url


def test_the_command_exits_0_1_and_2(receivers: str, tmp_path: Path) -> None:
    junit = tmp_path / "reports" / "receiver.xml"
    runs = {
        "good": [f"{receivers}/good/hook", "--secret", SECRET, "--scenarios", "all", "--ack-timeout-s", "5"],
        "bad": [f"{receivers}/bad/hook", "--secret", SECRET, "--ack-timeout-s", "5", "--junit", str(junit)],
        "off-list": ["http://hooks.example.org/in", "--secret", SECRET],
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "mock_server", "verify-receiver", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in runs.items()
    }
    out = {name: proc.communicate(timeout=90) for name, proc in procs.items()}
    codes = {name: proc.returncode for name, proc in procs.items()}
    assert codes == {"good": 0, "bad": 1, "off-list": 2}, out

    good = out["good"][0]
    assert f"flux-mock verify-receiver: {receivers}/good/hook" in good
    assert "deliveries: signed with Standard Webhooks (whsec_Mf...," in good
    assert "burst                 pass    16    200 x16" in good
    assert "15 of 15 scenario(s) passed; 0 violation(s)." in good
    assert "done: pass, 1 sent, answers 200" in out["good"][1]  # progress on stderr

    bad = out["bad"][0]
    assert "bad-signature      FAIL    1     200" in bad
    assert "[tampered-body] a final delivery whose body was changed after signing" in bad
    assert "the receiver accepted it with 200. Fix: verify every delivery with standardwebhooks'" in bad
    assert f"curl -sS -i -X POST {receivers}/bad/hook -H 'Content-Type: application/json'" in bad
    assert "7 of 12 scenario(s) passed; 5 violation(s)." in bad
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert len(cases) == 12
    assert len([c for c in cases if c.find("failure") is not None]) == 5

    refused = out["off-list"][1]
    assert "names host 'hooks.example.org', which is not on the allow-list" in refused
    assert "pass --allow-host hooks.example.org" in refused


def test_the_secret_can_come_from_the_environment(receivers: str) -> None:
    # The same variable `flux-mock serve` reads for --webhook-secret; keeps the secret off the command line.
    env = {"FLUX_MOCK_WEBHOOK_SECRET": SECRET}
    result = CliRunner().invoke(verify_receiver, [f"{receivers}/good/hook", "--scenarios", "signature"], env=env)
    assert result.exit_code == 0, result.output
    assert "5 of 5 scenario(s) passed" in result.output


def test_a_failing_receiver_in_process_exits_1_with_the_report(receivers: str, tmp_path: Path) -> None:
    junit = tmp_path / "receiver.xml"
    args = [f"{receivers}/bad/hook", "--secret", SECRET, "--scenarios", "done,tampered-body", "--junit", str(junit)]
    result = CliRunner().invoke(verify_receiver, args)
    assert result.exit_code == 1, result.output
    assert "tampered-body  FAIL    1     200" in result.output
    assert f"JUnit report written to {junit}" in result.output
    assert ET.parse(junit).getroot().find("./testsuite").get("failures") == "1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenarios", "stale"], "'stale' is not a receiver scenario. Did you mean 'stale-timestamp'?"),
        (["--scenarios", "bad-signature"], "bad-signature needs a secret"),
        (["--secret", "whsec_abc"], "--secret: webhook secret is unusable"),
        (["--ack-timeout-s", "0"], "--ack-timeout-s has value 0.0; it must be greater than 0 and at most 600"),
    ],
)
def test_usage_errors_exit_2_naming_the_fix(args: list[str], message: str) -> None:
    result = CliRunner().invoke(verify_receiver, ["http://127.0.0.1:9/hook", *args])
    assert result.exit_code == 2
    assert message in result.output
