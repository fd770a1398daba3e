"""Webhooks in `check`: generated URLs, the payload equal to the final GET, faults of a real receiver."""

from __future__ import annotations

from typing import Any

import pytest
from check_runs import LOCAL, check
from mutants import API_KEY, Call, Rewrite, faithful

from contracts import CheckOptions, CheckReport, VirtualTimer, run_check
from contracts.core.reporting import render_summary
from mock_server import Settings, VirtualClock
from mock_server.run.server import LiveServer


def test_generated_webhook_urls_point_at_the_sink_and_invalid_ones_stay() -> None:
    sent: list[Any] = []

    def spy(call: Call, body: Any) -> Any:
        if call.is_create and isinstance(body, dict) and "webhookOverride" in body:
            sent.append(body["webhookOverride"])
        return body

    clock = VirtualClock(start=1_750_000_000.0)
    report = check(
        Rewrite(faithful(clock), request=spy),
        clock,
        phases=frozenset({"examples", "coverage"}),
        operations=frozenset({"fluxImagine", "mjImagine"}),  # two of the creates that take a webhookOverride
    )
    assert report.ok, render_summary(report)
    urls = [u for u in sent if isinstance(u, str) and u.startswith(("http://", "https://"))]
    assert "http://127.0.0.1:9/flux-mock-check" in urls
    assert not any("0.com" in u for u in urls)  # the spec's example host never goes out
    assert any(u is not None and not str(u).startswith("http") for u in sent)  # invalid values are still sent


class EchoInbox:
    """A stand-in receiver: the server 'delivers' the final GET body it serves (optionally altered)."""

    url = "http://127.0.0.1:9/hook"

    def __init__(self) -> None:
        self.sent: dict[str, list[Any]] = {}

    def payloads_for(self, message_id: str) -> list[Any]:
        return self.sent.get(message_id, [])


def _delivering(inbox: EchoInbox, change: dict[str, Any]) -> Any:
    def record(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.is_fetch and status == 200 and body.get("status") in ("DONE", "FAIL") and "ref" in body:
            inbox.sent.setdefault(body["messageId"], []).append({**body, **change})
        return status, body

    return record


@pytest.mark.parametrize(("change", "failing"), [({}, set()), ({"progress": 99}, {"webhook_matches_final"})])
def test_webhook_payload_must_equal_the_final_get(change: dict[str, Any], failing: set[str]) -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    inbox = EchoInbox()
    app = Rewrite(faithful(clock), response=_delivering(inbox, change))
    report = run_check(
        CheckOptions(LOCAL, token=API_KEY, seed=3, poll_interval=0.5, phases=frozenset({"lifecycle"})),
        app=app,
        timer=VirtualTimer(clock),
        inbox=inbox,
    )
    assert {f.check for f in report.failures} == failing
    assert inbox.sent, "job 1 carries the ref and the webhookOverride"


def test_a_webhook_that_never_arrives_is_a_failure() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = run_check(
        CheckOptions(LOCAL, token=API_KEY, seed=3, poll_interval=0.5, phases=frozenset({"lifecycle"})),
        app=faithful(clock),
        timer=VirtualTimer(clock),
        inbox=EchoInbox(),
    )
    assert {f.check for f in report.failures} == {"webhook_delivered"}


def live_lifecycle(**settings: Any) -> CheckReport:
    with LiveServer(settings=Settings(job_seconds=0.5, api_keys=(API_KEY,), **settings)) as server:
        options = CheckOptions(
            server.url, token=API_KEY, seed=4, poll_interval=0.2, webhook_wait=2.0, phases=frozenset({"lifecycle"})
        )
        return run_check(options)


def test_webhooks_through_the_real_receiver_match_the_final_get() -> None:
    report = live_lifecycle()
    assert report.ok, render_summary(report)
    [job] = [o for o in report.outcomes if o.name == "job imagine n=2"]
    assert job.detail.endswith("webhook == final GET")
    assert not any("webhooks not exercised" in note for note in report.notes)


@pytest.mark.parametrize(
    ("fault", "caught_by"),
    [("drop", "webhook_delivered"), ("corrupt", "webhook_matches_final"), ("out-of-order", "webhook_matches_final")],
)
def test_webhook_faults_are_caught(fault: str, caught_by: str) -> None:
    report = live_lifecycle(webhook_fault=fault)
    assert caught_by in {f.check for f in report.failures}, render_summary(report)
