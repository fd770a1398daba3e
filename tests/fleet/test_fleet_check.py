"""`flux-mock check` (the contract kit's black-box server check) passes against two workers sharing Redis."""

from __future__ import annotations

import subprocess
import sys

from fleet_harness import API_KEY, Fleet, clean_env


def test_the_contract_check_passes_against_two_workers_on_redis(fleet: Fleet) -> None:
    # The same check an in-memory mock passes (lifecycle jobs of every kind on both poll paths, webhooks through a
    # local receiver, the error probes, schemathesis' examples and stateful links), across workers.
    (server,) = fleet.start(1, "--job-seconds", "0.5", "--api-key", API_KEY, workers=2)
    command = [sys.executable, "-m", "mock_server", "check", "--base-url", server.url, "--token", API_KEY]
    command += ["--seed", "1", "--phases", "lifecycle,probes,examples,stateful", "--max-examples", "5"]
    command += [
        "--poll-interval",
        "0.2",
        "--operations",
        "fluxImagine,fetchMessage,fetchMessageLegacy,mjImagine,mjButton",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=clean_env(), timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "PASSED" in done.stdout
    assert " 0 failed, 0 errors" in done.stdout
