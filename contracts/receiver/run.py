"""`flux-mock verify-receiver`: send a webhook receiver real deliveries, scenario by scenario, and judge each answer.

1. plan: the scenario texts become scenarios (`scenarios.plan`); the target is checked against the allow-list;
2. harvest: an in-process mock makes the deliveries (`deliveries.harvest`, cached per seed);
3. send: each scenario's deliveries go to the receiver, signed per attempt when there is a secret
   (`exchanges`), each answer awaited at most the ack timeout;
4. judge: each answer against the scenario's expectation (`verdicts`, pure).

Example:
    report = verify_receiver("http://127.0.0.1:8000/hooks/imaginepro", ReceiverOptions(secret="whsec_..."))
    print(format_report(report))
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.receiver.deliveries import harvest
from contracts.receiver.exchanges import Answer, Exchange, Poster, Signing, Unreachable, poster
from contracts.receiver.scenarios import BURST_DEFAULT, DEFAULT_SCENARIOS, Planned, ScenarioError, plan
from contracts.receiver.verdicts import ReceiverViolation, judge
from contracts.receiver.waves import requests_for
from mock_server import option

if TYPE_CHECKING:
    from contracts.core.failures import ContractFailure
    from contracts.receiver.deliveries import Harvest


class ReceiverError(Exception):
    """Raised when verify-receiver cannot run at all (bad option, target off the allow-list, nobody listening)."""


@dataclass(frozen=True, slots=True)
class ReceiverOptions:
    """How `verify_receiver` sends deliveries and judges the answers.

    Attributes:
        secret: sign every delivery with this Standard Webhooks secret (``whsec_...``), as ``flux-mock serve
            --webhook-secret`` does, and run the signature scenarios. None: unsigned, like ImaginePro's.
        scenarios: scenario texts or presets (``default``, ``signature``, ``all``; see `scenarios.PRESETS`).
        ack_timeout_s: how long one answer may take.
        seed: the seed of the mock that makes the deliveries (the same seed sends the same ids).
        allow_hosts: hosts besides loopback a URL target may name (``*.domain`` and ``*`` as for the mock).
    """

    secret: str | None = field(
        default=None,
        metadata=option(
            "Sign every delivery with this Standard Webhooks secret, exactly as `flux-mock serve --webhook-secret` "
            "does, and add the signature scenarios (bad, missing, tampered, stale, future). Without it deliveries "
            "are unsigned, like ImaginePro's.",
            metavar="whsec_...",
            env="FLUX_MOCK_WEBHOOK_SECRET",
        ),
    )
    scenarios: tuple[str, ...] = field(
        default=("default",),
        metadata=option(
            "Comma-separated scenarios, or a preset: default (done, fail, mj-grid, video, progress, duplicate, "
            "corrupt, and with a secret the signature ones), signature, or all (adds progress-after-final, "
            "early-final and burst; recommended for CI). burst:N sets the burst's size (default 16).",
            metavar="LIST",
            separator=",",
        ),
    )
    ack_timeout_s: float = field(
        default=10.0,
        metadata=option(
            "Seconds the receiver has to answer each delivery (the mock's sender waits 5 s by default).",
            metavar="SECONDS",
            minimum=0,
            above=True,
            maximum=600,
        ),
    )
    seed: int = field(
        default=0, metadata=option("The seed of the deliveries (same seed, same messageIds and ids).", metavar="N")
    )
    allow_hosts: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "Also send to this host (repeatable; loopback always may; *.domain for subdomains, * for any).",
            metavar="HOST",
            flag="--allow-host",
        ),
    )


@dataclass(frozen=True, slots=True)
class ReceiverResult:
    """The verdict on one scenario."""

    scenario: str
    sends: str
    exchanges: tuple[Exchange, ...]
    violations: tuple[ReceiverViolation, ...]
    duration: float

    @property
    def passed(self) -> bool:
        """No violations."""
        return not self.violations

    @property
    def slowest_ms(self) -> float:
        """The slowest answer's time."""
        return max((e.answer.latency_ms for e in self.exchanges), default=0.0)


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """Every scenario's verdict for one receiver."""

    url: str
    options: ReceiverOptions
    results: tuple[ReceiverResult, ...]
    skipped: tuple[str, ...] = ()  # signature scenarios a preset named, left out for want of a secret

    @property
    def violations(self) -> list[ReceiverViolation]:
        """All violations, scenario by scenario."""
        return [v for r in self.results for v in r.violations]

    @property
    def passed(self) -> bool:
        """True when every scenario passed."""
        return all(r.passed for r in self.results)

    def failures(self) -> list[ContractFailure]:
        """The violations as the kit's `ContractFailure` records."""
        return [v.as_failure(self.options.seed) for v in self.violations]


# --- running ----------------------------------------------------------------------------------------------------


def check_target(url: str, allow_hosts: Sequence[str]) -> None:
    """ReceiverError unless `url` is an http(s) URL on loopback or an allowed host (the mock's own allow-list)."""
    from mock_server import MockServerError, Settings, webhook_refusal

    for pattern in allow_hosts:
        try:
            Settings(webhook_allow_hosts=(pattern,))
        except MockServerError:
            raise ReceiverError(
                f"--allow-host has value {pattern!r}; use a host name, an IP address, *.domain or *."
            ) from None
    allowed = (*Settings().webhook_allow_hosts, *allow_hosts)
    reason = webhook_refusal(url, allowed)
    if reason is None:
        return
    if "allow-list" not in reason:
        raise ReceiverError(f"the receiver URL: {reason}; give it as http://HOST:PORT/PATH.")
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or url
    raise ReceiverError(
        f"the receiver URL {url!r} names host {host!r}, which is not on the allow-list ({', '.join(allowed)}): "
        f"verify-receiver, like the mock's own webhooks, sends only to loopback and allow-listed hosts. To send "
        f"there, pass --allow-host {host}."
    )


def _signing(secret: str | None) -> Signing:
    if secret is not None:
        from mock_server import WebhookSigner

        try:
            WebhookSigner(secret)
        except ValueError as exc:
            raise ReceiverError(f"--secret: {exc}.") from None
    return Signing(secret)


def prepare(target: str | Any, options: ReceiverOptions) -> tuple[tuple[Planned, ...], tuple[str, ...], Signing]:
    """Check everything before anything is sent; ReceiverError (a usage error) naming the fix otherwise."""
    signing = _signing(options.secret)
    try:
        planned, skipped = plan(options.scenarios or DEFAULT_SCENARIOS, signed=options.secret is not None)
    except ScenarioError as exc:
        raise ReceiverError(f"--scenarios: {exc}") from None
    if isinstance(target, str):
        check_target(target, options.allow_hosts)
    return planned, skipped, signing


async def verify_receiver_async(
    target: str | Any,
    options: ReceiverOptions | None = None,
    *,
    path: str = "/",
    on_result: Callable[[ReceiverResult], None] | None = None,
) -> ReceiverReport:
    """`verify_receiver` from a coroutine (the app, if one is given, runs on this event loop)."""
    options = options or ReceiverOptions()
    planned, skipped, signing = prepare(target, options)
    burst = max((p.count for p in planned if p.scenario.name == "burst"), default=BURST_DEFAULT)
    found = await asyncio.to_thread(harvest, options.seed, max(burst, BURST_DEFAULT))  # one cache entry for most runs
    sender = poster(target, path=path, concurrency=burst)
    results: list[ReceiverResult] = []
    try:
        for item in planned:
            result = await _run_scenario(item, found, sender, signing, options.ack_timeout_s, first=not results)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        await sender.aclose()
    return ReceiverReport(sender.url, options, tuple(results), skipped)


async def _run_scenario(
    planned: Planned, found: Harvest, sender: Poster, signing: Signing, ack_timeout_s: float, *, first: bool
) -> ReceiverResult:
    started = time.perf_counter()
    exchanges: list[Exchange] = []
    for wave in requests_for(planned, found, sender.url, signing):
        try:
            answers = await asyncio.gather(*(sender.post(sent, ack_timeout_s) for _, sent in wave))
        except Unreachable as exc:
            if first and not exchanges:
                raise ReceiverError(
                    f"nothing answers at {sender.url} ({exc}); start the receiver first, or check the URL and port. "
                    "Nothing was judged."
                ) from None
            answers = [Answer(None, 0.0, error=f"no answer: {exc}") for _ in wave]
        exchanges.extend(Exchange(what, sent, answer) for (what, sent), answer in zip(wave, answers, strict=True))
    violations = judge(planned.scenario, planned.text, exchanges, ack_timeout_s)
    return ReceiverResult(
        planned.text, planned.scenario.sends, tuple(exchanges), violations, time.perf_counter() - started
    )


def verify_receiver(
    target: str | Any,
    options: ReceiverOptions | None = None,
    *,
    path: str = "/",
    on_result: Callable[[ReceiverResult], None] | None = None,
) -> ReceiverReport:
    """Send a webhook receiver real deliveries, scenario by scenario, and judge every answer.

    Args:
        target: the receiver's URL (loopback, or a host in ``options.allow_hosts``), or an ASGI or WSGI app,
            called in this process.
        options: secret, scenarios, ack timeout, seed (default: unsigned, the default scenarios, 10 s).
        path: where deliveries are posted in an app given as `target`.
        on_result: called after each scenario, e.g. to print progress.

    Raises:
        ReceiverError: nothing could be judged (a bad option, a target off the allow-list, nothing listening).

    Example:
        report = verify_receiver(my_asgi_app, ReceiverOptions(secret="whsec_..."), path="/hooks/imaginepro")
        assert report.passed, format_report(report)
    """
    coroutine = verify_receiver_async(target, options, path=path, on_result=on_result)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from a coroutine (an async test): run on a loop of our own in a thread, and wait for it there.
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["report"] = asyncio.run(coroutine)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="verify-receiver")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    report: ReceiverReport = box["report"]
    return report
