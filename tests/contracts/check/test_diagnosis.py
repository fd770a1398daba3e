"""The summary's first-line diagnosis: a refused key, the wrong base URL, no server."""

from __future__ import annotations

from typing import Any

import pytest
from check_runs import check
from click.testing import CliRunner
from mutants import API_KEY

from contracts import CheckOptions, run_check
from contracts.core.reporting import render_summary
from mock_server import Settings, VirtualClock, create_app
from mock_server.run.cli import main
from mock_server.run.server import LiveServer


def _quick(app: Any, clock: VirtualClock, **options: Any) -> str:
    # One schemathesis phase on one operation: enough answers to see, seconds to run.
    phases = {"phases": frozenset({"examples"}), "operations": frozenset({"fluxImagine"})}
    return render_summary(check(app, clock, **{**phases, **options}))


def test_a_refused_key_opens_the_summary_with_one_line_naming_the_token() -> None:
    clock = VirtualClock()
    keyed = create_app(Settings(api_keys=(API_KEY,)), clock=clock)
    without = _quick(keyed, clock, token=None).splitlines()
    assert without[1].startswith(
        "diagnosis: the server answered 401 to GET http://127.0.0.1:8080/api/v1/message/fetch/"
    )
    assert "pass --token KEY (env IMAGINEPRO_API_KEY)" in without[1]
    wrong = _quick(keyed, clock, token="sk-wrong").splitlines()
    assert "with the --token given" in wrong[1]
    assert "diagnosis:" not in _quick(keyed, clock)  # the right key: nothing to diagnose


def test_a_server_that_answers_404_on_the_contract_paths_gets_a_diagnosis() -> None:
    from starlette.applications import Starlette

    summary = _quick(Starlette(), VirtualClock()).splitlines()  # serves nothing: every path is a 404
    assert summary[1].startswith("diagnosis: the server answered 404 to GET")
    assert "--base-url must be the API's root" in summary[1]


def test_a_base_url_ending_in_the_api_prefix_is_refused_before_running() -> None:
    with pytest.raises(ValueError, match=r"ends in /api/v1.*drop it, --base-url http://127.0.0.1:8080$"):
        CheckOptions("http://127.0.0.1:8080/api/v1/")
    result = CliRunner().invoke(main, ["check", "--base-url", "http://127.0.0.1:8080/api/v1"])
    assert result.exit_code == 2
    assert "/api/v1/api/v1/" in result.output


def test_no_server_is_one_diagnosis_line() -> None:
    with LiveServer() as server:
        url = server.url
    report = run_check(CheckOptions(url, seed=1))  # the server is gone: nothing listens on its port
    summary = render_summary(report).splitlines()
    assert summary[1].startswith(f"diagnosis: cannot connect to {url}")
    assert "is the server running" in summary[1]
    assert report.exit_code == 1
