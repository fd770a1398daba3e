"""verify-receiver's engine: the issue's proof on mutants, the checks before anything is sent, and the API.

Every mutant in tests/support/mutant_receivers.py breaks one rule; run against every scenario (``all``), each fails
exactly the scenarios that rule belongs to, signed and unsigned, and the good receivers (Starlette and WSGI, both
built on `standardwebhooks`) fail none. Everything runs in process (httpx's ASGI/WSGI transports), with a short
ack timeout so the hanging and slow mutants cost half a second each.
"""

from __future__ import annotations

import dataclasses

import pytest
from mutant_receivers import MUTANTS, SECRET, SIGNATURE, GoodReceiver, good_wsgi

from contracts.receiver.run import (
    ReceiverError,
    ReceiverOptions,
    ReceiverReport,
    check_target,
    prepare,
    verify_receiver,
    verify_receiver_async,
)
from contracts.receiver.scenarios import SCENARIOS

ACK = 0.5
ALL = ReceiverOptions(scenarios=("all",), ack_timeout_s=ACK)


def _failed(report: ReceiverReport) -> set[str]:
    return {r.scenario.partition(":")[0] for r in report.results if not r.passed}


# --- the proof on mutants ---------------------------------------------------------------------------------------


def test_every_scenario_catches_a_mutant() -> None:
    caught = {name for _, fails, _ in MUTANTS.values() for name in fails}
    assert caught == set(SCENARIOS)


@pytest.mark.parametrize("secret", [None, SECRET], ids=["unsigned", "signed"])
def test_the_good_receivers_pass_every_scenario(secret: str | None) -> None:
    options = dataclasses.replace(ALL, secret=secret)
    for target in (GoodReceiver(secret).app, good_wsgi(secret)):
        report = verify_receiver(target, options, path="/hook")
        assert report.passed, report.violations
        assert len(report.results) == len(SCENARIOS) - (0 if secret else len(SIGNATURE))


MATRIX = [
    pytest.param(name, secret, id=f"{name}-{'signed' if secret else 'unsigned'}")
    for name, (_, _, needs_secret) in MUTANTS.items()
    for secret in ([SECRET] if needs_secret else [None, SECRET])
]


@pytest.mark.parametrize(("name", "secret"), MATRIX)
def test_each_mutant_fails_exactly_its_scenarios(name: str, secret: str | None) -> None:
    cls, fails, _ = MUTANTS[name]
    report = verify_receiver(cls(secret).app, dataclasses.replace(ALL, secret=secret), path="/hook")
    assert _failed(report) == fails, [str(v) for v in report.violations]


# --- running ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "hosts", "message"),
    [
        ("http://hooks.example.org/in", (), "names host 'hooks.example.org', which is not on the allow-list "),
        ("http://hooks.example.org/in", (), "To send there, pass --allow-host hooks.example.org."),
        ("ftp://127.0.0.1/in", (), "is not an http:// or https:// URL with a host; give it as http://HOST:PORT/PATH"),
        ("http://127.0.0.1:99999/in", (), "has port 99999"),
        ("http://hooks.example.org/in", ("a b",), "--allow-host has value 'a b'; use a host name"),
    ],
)
def test_targets_off_the_allow_list_are_refused_with_the_fix(url: str, hosts: tuple[str, ...], message: str) -> None:
    with pytest.raises(ReceiverError, match=message.replace("?", r"\?").replace("(", r"\(")):
        check_target(url, hosts)


def test_allow_listed_and_loopback_targets_pass() -> None:
    check_target("http://[::1]:8000/hook", ())
    check_target("https://a.hooks.test/hook", ("*.hooks.test",))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ReceiverOptions(secret="whsec_abc"), "--secret: webhook secret is unusable: it is not base64"),
        (ReceiverOptions(scenarios=("dupliate",)), "--scenarios: 'dupliate' is not a receiver scenario"),
        (ReceiverOptions(scenarios=("signature",)), "--scenarios: signature needs a secret"),
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(options: ReceiverOptions, message: str) -> None:
    with pytest.raises(ReceiverError, match=message):
        prepare("http://127.0.0.1:9/hook", options)


def test_a_receiver_that_is_not_running_is_an_error_not_a_verdict() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    with pytest.raises(ReceiverError, match=r"nothing answers at .*start the receiver first.*Nothing was judged"):
        verify_receiver(url, ReceiverOptions(scenarios=("done",)))


@pytest.mark.anyio
async def test_from_a_coroutine_sync_and_async_both_work() -> None:
    options = ReceiverOptions(scenarios=("done", "duplicate"), ack_timeout_s=ACK)
    seen: list[str] = []
    report = await verify_receiver_async(
        GoodReceiver().app, options, path="/hook", on_result=lambda r: seen.append(r.scenario)
    )
    assert report.passed
    assert seen == ["done", "duplicate"]
    assert verify_receiver(GoodReceiver().app, options, path="/hook").passed  # in a thread of its own
    assert report.url == "http://receiver.invalid/hook"
