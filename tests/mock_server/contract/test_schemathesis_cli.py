"""Plain schemathesis, as a new user runs it, against `flux-mock serve --api-key sk-test`: 0 failures.

`st run openapi.yaml --checks all` over the socket with a fixed seed (the in-process fuzzing of the contract kit
does not see what uvicorn, the socket and the error handler do to hostile values: a 64-bit overflow once
answered 500 only here). About a minute, most of it schemathesis' coverage phase: the slow tier.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_harness import API_KEY, Replica, clean_env

from mock_server.contract.spec import spec_path

SEED = 11
MAX_EXAMPLES = 5


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    replica = Replica(["--api-key", API_KEY], log_dir=tmp_path_factory.mktemp("st"), name="st")
    replica.start().wait_ready()
    yield replica
    replica.stop()


@pytest.mark.slow
def test_plain_st_run_with_every_check_finds_nothing(mock: Replica) -> None:
    st = Path(sys.executable).parent / "st"
    assert st.is_file(), f"schemathesis' `st` is not next to {sys.executable}: pip install -e '.[test]'"
    command = [
        str(st), "run", str(spec_path()), "--url", mock.url, "--checks", "all", "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES), "-H", f"Authorization: Bearer {API_KEY}", "--no-color",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=400, env=clean_env(), check=False)
    summary = done.stdout[-3000:]
    assert done.returncode == 0, f"st run failed ({done.returncode}):\n{summary}\n{done.stderr[-2000:]}"
    assert re.search(r"(\d+) generated, \1 passed", summary), summary  # every generated case passed
