"""The engine behind ``flux-mock check``: is this server faithful to the contract?

A run has three parts, in this order (the order matters for the job budget, see below):

1. **lifecycle jobs**: real jobs created and polled to DONE/FAIL on both progress paths, every
   check of `contracts.checks` applied, images downloaded, the webhook compared with the final GET;
2. **probes**: one body per request rule that must be refused (400 naming the field), plus 404,
   400 and 401 (no key, wrong key) answers in the NestJS shape;

Before them, ``GET /__mock/health`` is asked whether the server is a flux-mock that accepts any key
(`contracts.check.auth_mode`); if so, the checks that need a wrong key refused (the wrong-key probe,
schemathesis' ``ignored_auth`` with invalid credentials) are reported as skipped with the setting
that enables them. Requests without credentials are still checked.
3. **schemathesis**: its examples, coverage, fuzzing and stateful (via the spec's links) phases,
   all its built-in checks, plus the kit's Message and error checks on every answer.

Cost of each part (measured against flux-mock; the summary prints the real counts of every run):

==============  ===========================================  ===========================================
part            requests                                     jobs created by a correct server
==============  ===========================================  ===========================================
lifecycle jobs  2 + about 2-3 x (job time / poll interval)    one per job kind (15 today: Flux imagine
                per job (pressed actions: half as often),    n=2 and defaults, upscale, then each other
                + 1 per result file, + 2 account-info        kind; DIY-only commands skip on a 403), + one
                reads, button presses and Cancel Jobs, + 1   per button a grid and an upscale offer (20),
                history read                                 + 3 extends, + 1 job to cancel
probes          1 per rule of every body-taking operation    0 (each accepted body is a bug, and a job)
                (about 470 today) + 7
examples        one per documented example and operation     3 (the spec's request examples)
coverage        ~250 (one per boundary/keyword violation)    ~60 (its valid boundary bodies)
fuzzing         <= 2 x --max-examples per operation          up to --max-examples per creating operation
stateful        ~6 calls per scenario, dozens of scenarios   one per scenario that starts with a creation
==============  ===========================================  ===========================================

Safety against a real, paid API: every request to imagine/upscale, valid or not, is sent only while
the ``--max-jobs`` budget has room, and each 2xx answer counts as one job, so a server that wrongly
accepts invalid bodies cannot run up a bill either. When the URL is not loopback the default budget
is 5: the lifecycle jobs run first and the three Flux jobs take 3 (the other kinds run only while 2 stay
spare, so they are held back), the other 2 are spare for invalid bodies a server
accepts by mistake (each is also a reported failure; once they are spent, the remaining invalid
bodies are held back and reported as skipped). Schemathesis then gives the creating operations
only invalid bodies and skips its stateful phase (which needs new jobs). A ``--max-jobs`` of 1000
or more lifts both limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import difflib
import random
import re
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from contracts.check.auth_mode import AnyKeyMode, detect
from contracts.check.fuzzing import PHASES as SCHEMATHESIS_PHASES
from contracts.check.fuzzing import FuzzSettings, run_schemathesis
from contracts.check.lifecycle import LifecycleSettings, WebhookInbox, run_jobs
from contracts.check.probes import error_probes, rejection_probes
from contracts.core.budget import JobBudget
from contracts.core.calls import Caller, RealTimer, Timer
from contracts.core.reporting import CheckReport
from contracts.core.schema import contract, is_loopback
from mock_server import option

if TYPE_CHECKING:
    from mock_server import WebhookReceiver

KIT_PHASES = ("lifecycle", "probes")
ALL_PHASES = (*KIT_PHASES, *SCHEMATHESIS_PHASES)
# 3 for the lifecycle jobs, 2 spare: a server that wrongly accepts invalid bodies (the x-inferred rules
# are the likeliest) spends the spare ones, and then invalid bodies to imagine/upscale are held back.
REMOTE_MAX_JOBS = 5
# Below this budget, schemathesis sends job-creating operations invalid bodies only (a full run
# against flux-mock creates about 150-250 jobs at the default --max-examples).
FULL_FUZZING_MIN_JOBS = 1000
LOOPBACK_TOKEN = "sk-flux-mock-check"
API_PREFIX = "/api/v1"
PROBE_PATH = API_PREFIX + "/message/fetch/00000000-0000-4000-8000-000000000000"  # an unknown job: creates nothing
# Where schemathesis' valid webhookOverride values point instead of random hosts: the discard port on the
# server's own loopback (flux-mock allows loopback hosts), or a reserved domain (RFC 2606) for a remote server.
LOOPBACK_SINK = "http://127.0.0.1:9/flux-mock-check"
REMOTE_SINK = "https://example.com/flux-mock-check"


_RATE_LIMIT = re.compile(r"^[1-9][0-9]*/[0-9]*[smhd]$")


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Everything ``flux-mock check`` accepts.

    Attributes:
        base_url: the server to check, e.g. ``http://127.0.0.1:8080``.
        token: the Bearer API key (required unless the URL is loopback).
        max_jobs: most jobs the run may create; None: 5 for a non-loopback URL, no cap on loopback.
        seed: seed of every generated case; None picks one (printed, so a run can be replayed).
        phases: which parts run (`ALL_PHASES`).
        max_examples: Hypothesis examples per schemathesis operation and phase.
        job_timeout: the ``timeout`` of lifecycle jobs (within openapi.yaml's Timeout range).
        poll_interval: seconds between polls of a lifecycle job.
        request_timeout: seconds per request.
        rate_limit: schemathesis rate limit such as ``"1/3s"``.
        webhooks: exercise webhooks through a local receiver when the server can reach it.
        webhook_receiver_host: the host the server must use to reach this machine (default: only
            when the server is loopback, at 127.0.0.1).
        webhook_wait: seconds to wait for the webhook once a job has ended.
    """

    base_url: str = field(
        metadata=option(
            "The server to check, e.g. http://127.0.0.1:8080 (without /api/v1).",
            metavar="URL",
            env="IMAGINEPRO_BASE_URL",
            required=True,
        )
    )
    token: str | None = field(
        default=None,
        metadata=option(
            "Bearer API key; required unless the URL is loopback.", metavar="KEY", env="IMAGINEPRO_API_KEY"
        ),
    )
    max_jobs: int | None = field(
        default=None,
        metadata=option(
            "Most jobs the run may create (default: 5 unless the URL is loopback, then no cap).", metavar="N", minimum=0
        ),
    )
    seed: int | None = field(
        default=None, metadata=option("Seed of every generated case (default: random, printed).", metavar="N")
    )
    phases: frozenset[str] = field(
        default_factory=lambda: frozenset(ALL_PHASES),
        metadata=option(
            f"Comma-separated parts to run: {', '.join(ALL_PHASES)}.", metavar="LIST", separator=",", choices=ALL_PHASES
        ),
    )
    operations: frozenset[str] = field(
        default=frozenset(),
        metadata=option(
            "Comma-separated operationIds schemathesis' phases cover (default: every operation of openapi.yaml); "
            "the lifecycle jobs and probes still cover the whole contract.",
            metavar="IDS",
            separator=",",
        ),
    )
    max_examples: int = field(
        default=25, metadata=option("Hypothesis examples per schemathesis operation and phase.", metavar="N", minimum=1)
    )
    job_timeout: int = field(
        default=120,
        metadata=option(
            "The timeout sent with lifecycle jobs (in openapi.yaml's Timeout range); polling stops 15 s after it.",
            metavar="SECONDS",
        ),
    )
    poll_interval: float = field(
        default=1.0,
        metadata=option("Seconds between polls of a lifecycle job.", metavar="SECONDS", minimum=0, above=True),
    )
    request_timeout: float = field(
        default=30.0, metadata=option("Seconds per request.", metavar="SECONDS", minimum=0, above=True)
    )
    rate_limit: str | None = field(default=None, metadata=option("schemathesis rate limit, e.g. 1/3s.", metavar="RATE"))
    webhooks: bool = field(
        default=True,
        metadata=option("Exercise webhooks through a local receiver when the server can reach it."),
    )
    webhook_receiver_host: str | None = field(
        default=None,
        metadata=option(
            "Host the server uses to reach this machine's receiver (default: only for a loopback server).",
            metavar="HOST",
        ),
    )
    webhook_wait: float = field(
        default=10.0,
        metadata=option("How long to wait for the webhook once a job has ended.", metavar="SECONDS", minimum=0),
    )

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"--base-url {self.base_url!r} must start with http:// or https://")
        path = urlsplit(self.base_url).path.rstrip("/")
        if path.endswith(API_PREFIX):
            root = self.base_url.rstrip("/").removesuffix(API_PREFIX)
            raise ValueError(
                f"--base-url {self.base_url!r} ends in {API_PREFIX}, but the contract's paths already start with it "
                f"(requests would go to {API_PREFIX}{API_PREFIX}/...): drop it, --base-url {root}"
            )
        unknown = sorted(self.phases - set(ALL_PHASES))
        if unknown:
            raise ValueError(f"--phases: unknown phase(s) {', '.join(unknown)}; choose from {', '.join(ALL_PHASES)}")
        known = set(contract().operations)
        for name in sorted(self.operations - known):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"--operations: unknown operation {name!r}{hint}; use operationIds of openapi.yaml")
        bounds = contract().timeout
        if not bounds.minimum <= self.job_timeout <= bounds.maximum:
            raise ValueError(
                f"--job-timeout {self.job_timeout} must be from {bounds.minimum} to {bounds.maximum} seconds "
                "(the contract's range)"
            )
        if self.max_examples < 1 or self.poll_interval <= 0 or self.request_timeout <= 0:
            raise ValueError("--max-examples must be >= 1, --poll-interval and --request-timeout > 0")
        if self.token is None and not self.loopback:
            raise ValueError(f"{self.base_url} is not loopback: pass the API key with --token (or IMAGINEPRO_API_KEY)")
        if self.max_jobs is not None and self.max_jobs < 0:
            raise ValueError(f"--max-jobs must be 0 or more, got {self.max_jobs}")
        if self.rate_limit is not None and not _RATE_LIMIT.match(self.rate_limit):
            # Checked here, before any request: schemathesis would only refuse it after jobs were spent.
            raise ValueError(f"--rate-limit {self.rate_limit!r} must look like 10/s, 1/3s or 100/m")

    @property
    def loopback(self) -> bool:
        """True when the server runs on this machine."""
        return is_loopback(self.base_url)

    @property
    def job_limit(self) -> int | None:
        """The effective job budget."""
        if self.max_jobs is not None:
            return self.max_jobs
        return None if self.loopback else REMOTE_MAX_JOBS


def run_check(
    options: CheckOptions, *, app: Any = None, timer: Timer | None = None, inbox: WebhookInbox | None = None
) -> CheckReport:
    """Run every selected part against the server and return the report (nothing is printed).

    Args:
        options: what to check and how.
        app: an ASGI app to check in-process instead of over the network (``options.base_url``
            is then only used for display and image URLs).
        timer: how lifecycle polling waits (`RealTimer` by default; `VirtualTimer(clock)` for an
            in-process mock on a `VirtualClock`).
        inbox: a webhook receiver to use; by default one is started when the server can reach it (not for
            an in-process `app`, whose webhooks go wherever its settings send them).

    Example:
        report = run_check(CheckOptions("http://127.0.0.1:8080", seed=1))
        print(render_summary(report)); raise SystemExit(report.exit_code)
    """
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    base = options.base_url.rstrip("/")
    report = CheckReport(base_url=base, seed=seed)
    budget = JobBudget(options.job_limit)
    token = options.token or LOOPBACK_TOKEN
    started = time.perf_counter()
    if app is None and not _reachable(options, report):
        report.seconds = time.perf_counter() - started
        return report
    report.diagnosis = asyncio.run(_diagnose(options, app, token, report))
    any_key = asyncio.run(_auth_mode(options, app))
    if any_key is not None:
        report.notes.append(
            "the server accepts any key (flux-mock without --api-key): checks that need a wrong key refused are "
            "skipped; a request without credentials must still get 401"
        )
    chosen = options.phases & set(SCHEMATHESIS_PHASES)
    fuzz: FuzzSettings | None = None
    if chosen:
        negative_only = budget.limit is not None and budget.limit < FULL_FUZZING_MIN_JOBS
        if negative_only:
            report.notes.append(
                f"--max-jobs {budget.limit} < {FULL_FUZZING_MIN_JOBS}: schemathesis sends imagine/"
                "upscale invalid bodies only and skips its stateful phase"
            )
            chosen = chosen - {"stateful"}
        fuzz = FuzzSettings(
            frozenset(chosen),
            options.max_examples,
            seed,
            token,
            negative_only,
            options.request_timeout,
            options.rate_limit,
            LOOPBACK_SINK if options.loopback else REMOTE_SINK,
            any_key,
            options.operations,
        )
    alongside = fuzz is not None and _alongside(options, app, any_key, budget)
    with _receiver(options, inbox, report, in_process=app is not None) as receiver, ThreadPoolExecutor(1) as pool:
        side: Future[CheckReport] | None = None
        if fuzz is not None and alongside:
            # Its own key, so its jobs queue apart from the lifecycle's (whose queue, order and history it checks).
            own = dataclasses.replace(fuzz, token=f"{token}{ALONGSIDE_KEY_SUFFIX}")
            side = pool.submit(_schemathesis_apart, own, budget, base, seed)
        if options.phases & set(KIT_PHASES):
            asyncio.run(_kit_parts(options, report, budget, token, seed, app, timer or RealTimer(), receiver, any_key))
        if side is not None:
            apart = side.result()
            report.outcomes += apart.outcomes
            report.notes += [*apart.notes, ALONGSIDE_NOTE]
            for name, cost in apart.costs.items():
                report.cost(name).add(requests=cost.requests, jobs=cost.jobs)
    if fuzz is not None and not alongside:
        run_schemathesis(report, budget, fuzz, base_url=base if app is None else None, app=app)
    report.budget = budget.describe()
    report.seconds = time.perf_counter() - started
    return report


ALONGSIDE_KEY_SUFFIX = "-schemathesis"
ALONGSIDE_NOTE = (
    "schemathesis ran alongside the lifecycle jobs and probes, with its own key (the server accepts any key and "
    "queues each key apart), so the lifecycle's queue, order, credits and history saw only its own jobs"
)


def _alongside(options: CheckOptions, app: Any, any_key: AnyKeyMode | None, budget: JobBudget) -> bool:
    """Whether schemathesis may run while the lifecycle jobs do, instead of after them.

    Only against a flux-mock over the network that accepts any key (`flux-mock serve`): a second key then has its
    own queue, so schemathesis' jobs cannot hold the lifecycle's slots, and with no job cap there is no budget
    order to keep. The run is shorter by about the lifecycle's waiting. In-process runs stay one after the other
    (their virtual clock is moved by the lifecycle's polling).
    """
    kit = bool(options.phases & set(KIT_PHASES))
    return kit and app is None and any_key is not None and budget.limit is None


def _schemathesis_apart(fuzz: FuzzSettings, budget: JobBudget, base: str, seed: int) -> CheckReport:
    apart = CheckReport(base_url=base, seed=seed)
    run_schemathesis(apart, budget, fuzz, base_url=base, app=None)
    return apart


def _reachable(options: CheckOptions, report: CheckReport) -> bool:
    """One request before anything else, so an unreachable server gives one clear error, not one per check."""
    from contracts.core.reporting import Outcome

    try:
        httpx.get(options.base_url, timeout=options.request_timeout)
    except httpx.TransportError as exc:
        outcome = Outcome("connection", options.base_url)
        outcome.escalate("error", f"cannot reach the server: {type(exc).__name__}: {exc}")
        report.outcomes.append(outcome)
        port = urlsplit(options.base_url).port
        report.diagnosis = (
            f"cannot connect to {options.base_url} ({type(exc).__name__}): is the server running, on port {port}? "
            "(flux-mock serve listens on http://127.0.0.1:8080; --base-url is its root, without /api/v1)"
        )
        return False
    return True


async def _diagnose(options: CheckOptions, app: Any, token: str, report: CheckReport) -> str:
    """One poll of an unknown job before the run (it can create nothing), so a wrong key or URL is named once.

    Every later answer would otherwise fail the same way (hundreds of 401s, or 404s on every path) with nothing
    saying why. A faithful server answers the contract's 404 (a JSON error body); a refusal of the key, or a 404
    that is not the API's (no JSON error, or NestJS' ``Cannot GET`` for a route it does not have), is diagnosed.
    """
    transport = httpx.ASGITransport(app=app) if app is not None else None
    url = options.base_url.rstrip("/") + PROBE_PATH
    async with httpx.AsyncClient(transport=transport, timeout=options.request_timeout) as client:
        try:
            answer = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError:
            return ""  # reachable a moment ago: the run itself reports what happens
    report.cost("preflight").add(requests=1)
    if answer.status_code in (401, 403):
        if options.token is None:
            return (
                f"the server answered {answer.status_code} to GET {url} without --token (a placeholder key was "
                "sent), so most answers below are that refusal: pass --token KEY (env IMAGINEPRO_API_KEY) with a "
                "key the server accepts (flux-mock serve --api-key KEY)"
            )
        return (
            f"the server answered {answer.status_code} to GET {url} with the --token given, so most answers below "
            "are that refusal: check the key (--token, env IMAGINEPRO_API_KEY)"
        )
    if answer.status_code == 405 or (answer.status_code == 404 and not _api_not_found(answer)):
        return (
            f"the server answered {answer.status_code} to GET {url} without the API's error body (no such route), "
            "so most answers below will be that too: --base-url must be the API's root (e.g. "
            f"http://127.0.0.1:8080), without {API_PREFIX} or another path, on a server that serves the ImaginePro API"
        )
    return ""


def _api_not_found(answer: httpx.Response) -> bool:
    # The contract's 404 for an unknown job is a JSON error; a missing route is not, or is NestJS' "Cannot GET".
    try:
        body = answer.json()
    except ValueError:
        return False
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    return bool(message) and not message.startswith("Cannot ")


async def _auth_mode(options: CheckOptions, app: Any) -> AnyKeyMode | None:
    transport = httpx.ASGITransport(app=app) if app is not None else None
    async with httpx.AsyncClient(transport=transport, timeout=options.request_timeout) as client:
        return await detect(client, options.base_url)


# Connections idle for 2 s are not reused. httpx keeps them 5 s, as long as uvicorn's keep-alive timeout, so a
# request could leave on a connection the server was closing that instant: a ReadError that no server caused
# (met once in .ci/run, a lifecycle poll against the served mock).
_LIMITS = httpx.Limits(keepalive_expiry=2.0)


async def _kit_parts(
    options: CheckOptions,
    report: CheckReport,
    budget: JobBudget,
    token: str,
    seed: int,
    app: Any,
    timer: Timer,
    inbox: WebhookInbox | None,
    any_key: AnyKeyMode | None = None,
) -> None:
    transport = httpx.ASGITransport(app=app) if app is not None else None
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(transport=transport, headers=auth, timeout=options.request_timeout, limits=_LIMITS) as api,
        httpx.AsyncClient(transport=transport, timeout=options.request_timeout, limits=_LIMITS) as anonymous,
    ):
        base = options.base_url.rstrip("/")
        if "lifecycle" in options.phases:
            caller = Caller(api, anonymous, base, timer, report.cost("lifecycle"))
            settings = LifecycleSettings(
                seed, options.job_timeout, options.poll_interval, webhook_wait=options.webhook_wait
            )
            report.outcomes += await run_jobs(caller, budget, settings, inbox=inbox, notes=report.notes)
        if "probes" in options.phases:
            caller = Caller(api, anonymous, base, timer, report.cost("probes"))
            report.outcomes += await error_probes(caller, budget, seed, any_key=any_key)
            report.outcomes += await rejection_probes(caller, budget)
    for outcome in report.outcomes:
        outcome.failures = [f if f.seed is not None else f.with_context(seed=seed) for f in outcome.failures]


class _ReceiverInbox:
    """Adapts `mock_server.WebhookReceiver` (whose arrivals carry raw bodies) to `WebhookInbox`."""

    def __init__(self, receiver: WebhookReceiver, url: str) -> None:
        self.receiver = receiver
        self._url = url

    @property
    def url(self) -> str:
        return self._url

    def payloads_for(self, message_id: str) -> list[Any]:
        payloads = [arrival.json for arrival in self.receiver.arrivals]
        return [p for p in payloads if isinstance(p, dict) and p.get("messageId") == message_id]


@contextlib.contextmanager
def _receiver(
    options: CheckOptions, given: WebhookInbox | None, report: CheckReport, *, in_process: bool
) -> Iterator[WebhookInbox | None]:
    if given is not None or not options.webhooks or "lifecycle" not in options.phases:
        yield given
        return
    if in_process:
        report.notes.append("webhooks not exercised: an in-process app gets a receiver only through inbox=")
        yield None
        return
    if not options.loopback and options.webhook_receiver_host is None:
        report.notes.append(
            "webhooks not exercised: the server is not loopback; pass --webhook-receiver-host "
            "with an address of this machine the server can reach"
        )
        yield None
        return
    from mock_server import WebhookReceiver

    receiver = WebhookReceiver()
    receiver.start()
    try:
        url = receiver.url
        if options.webhook_receiver_host is not None:
            url = url.replace("127.0.0.1", options.webhook_receiver_host, 1)
        yield _ReceiverInbox(receiver, url)
    finally:
        receiver.stop()
