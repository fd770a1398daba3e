"""Any-key mode: against a flux-mock that accepts any key, the wrong-key checks are skipped with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from check_runs import KILL_PHASES, check
from mutants import Call, Rewrite, faithful

from contracts.core.reporting import render_summary
from mock_server import Settings, VirtualClock, create_app


def any_key_app(clock: VirtualClock) -> Any:
    """flux-mock as `flux-mock serve` starts it without --api-key: any non-empty key is accepted."""
    from mutants import dry_webhooks

    return create_app(Settings(job_seconds=3, seed=7, **dry_webhooks()), clock=clock)


@pytest.mark.parametrize(
    ("health", "any_key"),
    [
        ({"status": "ok", "auth": {"anyKey": True, "keys": 0, "setting": "--api-key KEY"}}, True),
        ({"status": "ok", "auth": {"anyKey": False, "keys": 1}}, False),
        ({"status": "ok"}, False),  # an older mock, or another server
        ({"auth": {"anyKey": "true"}}, False),  # not that shape: behave as for any server
        ([], False),
        (None, False),
    ],
)
def test_any_key_mode_is_read_from_the_health_answer_only_in_its_exact_shape(health: Any, any_key: bool) -> None:
    from contracts.check.auth_mode import any_key_mode

    assert (any_key_mode(health) is not None) is any_key


def _unrelated_skip(detail: str) -> bool:
    """The skips every run against a default mock has, whatever its keys: none is about credentials."""
    return any(
        reason in detail
        for reason in (
            "needs another plan: the server answered 403",  # the DIY endpoints on a STARTER plan
            "the balance is unlimited",  # credits match charges
            "No examples in schema",  # schemathesis' examples phase, for operations without examples
        )
    )


def test_any_key_mock_passes_with_wrong_key_checks_skipped() -> None:
    from contracts.core.reporting import junit_xml

    clock = VirtualClock(start=1_750_000_000.0)
    report = check(any_key_app(clock), clock, phases=KILL_PHASES, token="sk-test")
    assert report.ok, render_summary(report)
    skipped = {o.name: o.detail for o in report.outcomes if o.status == "skipped" and "wrong key" in o.name}
    assert set(skipped) == {"fluxImagine with a wrong key -> 401", "auth: ignored_auth with a wrong key"}
    assert all(_unrelated_skip(o.detail) for o in report.outcomes if o.status == "skipped" and o.name not in skipped)
    for reason in skipped.values():
        assert "auth.anyKey is true" in reason
        assert "flux-mock serve --api-key sk-test" in reason
    # schemathesis did send wrong keys and the mock accepted them: those findings were waived, not missed
    assert "wrong-key answer(s) not judged" in skipped["auth: ignored_auth with a wrong key"]
    # a request without credentials is still checked, and passes
    passed = {o.name for o in report.outcomes if o.status == "passed"}
    assert "fluxImagine without credentials -> 401" in passed
    summary = render_summary(report)
    assert "skip fluxImagine with a wrong key -> 401" in summary
    assert "PASSED:" in summary
    cases = {c.get("name"): c for c in junit_xml(report).iter("testcase")}
    node = cases["fluxImagine with a wrong key -> 401"].find("skipped")
    assert node is not None
    assert "flux-mock serve --api-key sk-test" in node.get("message", "")


def test_with_real_keys_the_wrong_key_probe_runs() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(faithful(clock), clock, phases=frozenset({"probes"}))
    [probe] = [o for o in report.outcomes if o.name == "fluxImagine with a wrong key -> 401"]
    assert probe.status == "passed"
    assert all(_unrelated_skip(o.detail) for o in report.outcomes if o.status == "skipped")


def test_any_key_mode_still_fails_a_server_that_serves_requests_without_credentials() -> None:
    def add_a_key(call: Call, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        if any(k == b"authorization" for k, _ in headers):
            return headers
        return [*headers, (b"authorization", b"Bearer sk-anything")]

    clock = VirtualClock(start=1_750_000_000.0)
    report = check(Rewrite(any_key_app(clock), headers=add_a_key), clock, phases=KILL_PHASES, token="sk-test")
    assert not report.ok
    [probe] = [o for o in report.outcomes if o.name == "fluxImagine without credentials -> 401"]
    assert probe.status == "failed"
    assert "sent no Authorization header" in probe.failures[0].message
    assert "ignored_auth" in {f.check for f in report.failures}  # schemathesis' no-credentials finding is kept
