"""The schemathesis half of ``flux-mock check``: its engine (examples, coverage, fuzzing and
stateful phases, all built-in checks) run through the Python API, within the job budget.

Two hooks tie the engine to the kit:

- a global ``before_call`` hook (schemathesis offers ``before_call`` only globally) holds back any
  job-creating request once the budget is spent; it acts only on schemas registered by
  `run_schemathesis`, so other schemathesis users in the same process are unaffected;
- a schema-level ``after_call`` hook counts requests and created jobs per phase, and applies the
  kit's own checks (`contracts.checks`) to every answer: Message rules on fetch answers and the
  NestJS shape on error answers. Stateful runs poll real jobs, so this reaches DONE bodies too.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts import checks
from contracts.check.auth_mode import AnyKeyMode
from contracts.core.budget import JobBudget, job_creating_operations
from contracts.core.failures import ContractFailure
from contracts.core.reporting import CheckReport, Outcome
from contracts.core.schema import contract, load_schema

PHASES = ("examples", "coverage", "fuzzing", "stateful")
SUITE = "schemathesis"
AUTH_PLACEHOLDER = '"Authorization: Bearer $IMAGINEPRO_API_KEY"'
AUTH_CHECKS = frozenset({"ignored_auth", "missing_required_header"})


class JobBudgetSpent(Exception):
    """Raised inside schemathesis to hold back a job-creating request once the budget is spent."""


@dataclass(frozen=True, slots=True)
class FuzzSettings:
    """How the schemathesis part runs.

    Attributes:
        phases: the schemathesis phases to run (a subset of `PHASES`).
        max_examples: Hypothesis examples per operation and phase.
        seed: the run's seed (same seed, same cases).
        token: the Bearer API key.
        negative_only: give job-creating operations only invalid bodies (a budgeted run).
        request_timeout: seconds per request.
        rate_limit: schemathesis rate limit such as ``"1/3s"`` (None: unlimited).
        webhook_sink: where valid generated ``webhookOverride`` values are pointed instead.
        any_key: the server is a flux-mock that accepts any key: ``ignored_auth`` findings about invalid
            credentials are waived and reported as one skipped check (findings without credentials stay).
        operations: only these operationIds (empty: every operation of the contract).
    """

    phases: frozenset[str]
    max_examples: int
    seed: int
    token: str
    negative_only: bool = False
    request_timeout: float = 30.0
    rate_limit: str | None = None
    webhook_sink: str = "http://127.0.0.1:9/flux-mock-check"
    any_key: AnyKeyMode | None = None
    operations: frozenset[str] = frozenset()


# schemathesis' ignored_auth scenarios (`AuthScenario`) that send credentials which are wrong on purpose.
WRONG_KEY_SCENARIOS = frozenset({"invalid_auth", "generated_auth"})


@dataclass
class _Run:
    budget: JobBudget
    report: CheckReport
    seed: int
    creating: dict[str, str]
    fetching: set[str]
    webhook_sink: str
    findings: dict[tuple[str, str], list[ContractFailure]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_RUNS: dict[int, _Run] = {}
_REGISTERED = threading.Event()


def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Global schemathesis hook for runs of `run_schemathesis` (other schemas pass through untouched).

    - Holds back a job-creating request when the run's budget is spent.
    - Points a valid generated ``webhookOverride`` at the run's sink, so a fuzzed server never posts webhooks
      to random internet hosts (``https://0.com``); invalid values are left alone, they are the test.
    """
    run = _RUNS.get(id(case.operation.schema))
    if run is None or case.operation.label not in run.creating:
        return
    if not run.budget.has_room():
        raise JobBudgetSpent(f"{case.operation.label} held back: the --max-jobs budget is spent")
    body = case.body
    if isinstance(body, dict) and _valid_webhook_url(body.get("webhookOverride")):
        body["webhookOverride"] = run.webhook_sink


def _valid_webhook_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_webhook_url_validator().is_valid(value))


@functools.cache
def _webhook_url_validator() -> Any:
    from jsonschema import Draft202012Validator

    prop = contract().schema("ImagineRequest")["properties"]["webhookOverride"]
    return Draft202012Validator(prop, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _ensure_hook() -> None:
    import schemathesis

    if not _REGISTERED.is_set():
        schemathesis.hook(before_call)
        _REGISTERED.set()


def reproduction(case: Any, response: Any = None) -> str:
    """The curl line of a case as sent, with the API key shown as an environment variable, not the secret."""
    sent = dict(response.request.headers) if response is not None else None
    curl: str = case.as_curl_command(headers=sent)
    return curl.replace("'Authorization: [Filtered]'", AUTH_PLACEHOLDER)


def _phase_of(case: Any) -> str:
    meta = getattr(case, "meta", None)
    try:
        return str(meta.phase.name.value) if meta is not None else "checks"
    except AttributeError:
        return "checks"


def _make_after_call(run: _Run) -> Any:
    def after_call(context: Any, case: Any, response: Any) -> None:
        label, status = case.operation.label, response.status_code
        phase = _phase_of(case)
        created = label in run.creating and 200 <= status < 300
        if label in run.creating:
            run.budget.record(created)
        with run.lock:
            run.report.cost(f"{SUITE}/{phase}").add(requests=1, jobs=int(created))
        found = _contract_findings(run, label, status, response)
        if found:
            curl = reproduction(case, response)
            with run.lock:
                bucket = run.findings.setdefault((phase, label), [])
                bucket.extend(f.with_context(curl=curl, seed=run.seed, source=phase) for f in found)

    return after_call


def _contract_findings(run: _Run, label: str, status: int, response: Any) -> list[ContractFailure]:
    try:
        body = response.json()
    except Exception:  # a non-JSON body is schemathesis' finding (content type / schema); nothing to add here
        return []
    if status >= 400:
        return checks.error_has_nestjs_shape(status, body, operation=label)
    if label in run.fetching and status == 200 and isinstance(body, dict):
        found = []
        found += checks.done_progress_is_100(body)
        found += checks.any_kind(body)  # the kind of a fuzzed job is not known: the shape its keys claim
        found += checks.fail_has_error(body)
        found += checks.timestamps_are_ordered(body)
        return [f.with_context(operation=label) for f in found]
    return []


def _config(settings: FuzzSettings, creating: Iterable[str]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "seed": settings.seed,
        "workers": 1,  # the budget guard counts sequentially: one job-creating request at a time
        "generation": {"max-examples": settings.max_examples, "database": "none"},
        "auth": {"openapi": {"bearerAuth": {"bearer": settings.token}}},
        "request-timeout": settings.request_timeout,
        "phases": {name: {"enabled": name in settings.phases} for name in PHASES},
    }
    if settings.rate_limit:
        config["rate-limit"] = settings.rate_limit
    if settings.negative_only:
        # Invalid bodies only: negative generation, and no examples phase (the spec's examples are valid bodies).
        config["operations"] = [
            {
                "include-operation-id": sorted(creating),
                "generation": {"mode": "negative"},
                "phases": {"examples": {"enabled": False}},
            }
        ]
    return config


def run_schemathesis(
    report: CheckReport, budget: JobBudget, settings: FuzzSettings, *, base_url: str | None = None, app: Any = None
) -> None:
    """Run the schemathesis engine against `base_url` (or an in-process ASGI `app`); outcomes go into `report`."""
    from schemathesis.engine import events, from_schema

    creating = job_creating_operations()
    fetching = {f"{op.method} {op.path}" for op in contract().by_role("poll")}
    schema = load_schema(base_url=base_url, app=app, config=_config(settings, creating.values()), reachable_only=True)
    if settings.operations:
        schema = schema.include(operation_id=sorted(settings.operations))
    run = _Run(budget, report, settings.seed, creating, fetching, settings.webhook_sink)
    schema.hook(_make_after_call(run))
    _ensure_hook()
    _RUNS[id(schema)] = run
    outcomes: dict[tuple[str, str], Outcome] = {}
    waived: list[str] = []
    started = time.perf_counter()
    try:
        for event in from_schema(schema).execute():
            _translate(event, events, outcomes, settings, waived)
    finally:
        _RUNS.pop(id(schema), None)
    for (phase, label), found in run.findings.items():
        _outcome(outcomes, phase, label).fail(found)
    if settings.any_key is not None:
        waived_text = f"; {len(waived)} wrong-key answer(s) not judged ({', '.join(sorted(set(waived)))})"
        _outcome(outcomes, "auth", "ignored_auth with a wrong key").escalate(
            "skipped", settings.any_key.reason + (waived_text if waived else "")
        )
    ordered = sorted(
        outcomes.values(),
        key=lambda o: (PHASES.index(o.name.split(":")[0]) if o.name.split(":")[0] in PHASES else 9, o.name),
    )
    report.outcomes.extend(ordered)
    for name in sorted(set(PHASES) - settings.phases):
        report.notes.append(f"schemathesis phase {name} not run (not in --phases)")
    report.notes.append(f"schemathesis ran in {time.perf_counter() - started:.1f} s")


def _outcome(outcomes: dict[tuple[str, str], Outcome], phase: str, label: str) -> Outcome:
    key = (phase, label)
    if key not in outcomes:
        outcomes[key] = Outcome(SUITE, f"{phase}: {label}")
    return outcomes[key]


def _translate(
    event: Any, events: Any, outcomes: dict[tuple[str, str], Outcome], settings: FuzzSettings, waived: list[str]
) -> None:
    if isinstance(event, events.ScenarioFinished):
        phase = str(event.phase.value)
        outcome = _outcome(outcomes, phase, event.recorder.label)
        outcome.seconds += event.elapsed_time
        if event.status.value == "skip":
            outcome.escalate("skipped", event.skip_reason or "skipped by schemathesis")
        outcome.fail(
            _failures(event.recorder, settings.seed, phase, waive_wrong_key=settings.any_key is not None, waived=waived)
        )
    elif isinstance(event, events.NonFatalError):
        phase = str(event.phase.value) if event.phase is not None else "run"
        outcome = _outcome(outcomes, phase, event.label)
        if _is_budget_error(event.value):
            outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
        else:
            outcome.escalate("error", f"{type(event.value).__name__}: {event.value}".strip())
    elif isinstance(event, events.FatalError):
        _outcome(outcomes, "run", "schemathesis engine").escalate("error", f"{event.exception!r}")
    elif isinstance(event, events.PhaseFinished) and event.phase.skip_reason is not None:
        name = str(event.phase.name.value)
        reason = str(event.phase.skip_reason.value)
        if name in settings.phases and reason != "disabled":
            _outcome(outcomes, name, "(phase)").escalate("skipped", f"phase skipped: {reason}")


def _scenario(failure: Any) -> str:
    scenario = getattr(failure, "scenario", None)
    return str(getattr(scenario, "value", scenario))


def _is_budget_error(error: BaseException) -> bool:
    while error is not None:
        if isinstance(error, JobBudgetSpent):
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


def _failures(
    recorder: Any, seed: int, phase: str, *, waive_wrong_key: bool = False, waived: list[str] | None = None
) -> list[ContractFailure]:
    found = []
    for nodes in recorder.checks.values():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            failure = info.failure
            if waive_wrong_key and node.name == "ignored_auth" and _scenario(failure) in WRONG_KEY_SCENARIOS:
                # Any-key mode accepts a wrong key on purpose; a request without credentials (no_auth) still counts.
                if waived is not None:
                    waived.append(str(failure.operation))
                continue
            steps = [step.curl for step in info.steps] or [info.code_sample]
            notes = [f"schemathesis {failure.code}"]
            last = steps[-1]
            if node.name in AUTH_CHECKS:  # the failing request carried bad credentials on purpose: keep them bad
                last = last.replace("'Authorization: [Filtered]'", "'Authorization: Bearer not-a-valid-key'")
                notes.append("the last request was sent with deliberately invalid or missing credentials")
            curl = "\n".join([*steps[:-1], last]).replace("'Authorization: [Filtered]'", AUTH_PLACEHOLDER)
            message = f"{failure.title}: {failure.message}".replace("\n", " ").strip()
            found.append(
                ContractFailure(
                    node.name,
                    message,
                    operation=failure.operation,
                    curl=curl,
                    seed=seed,
                    source=phase,
                    notes=tuple(notes),
                )
            )
    return found
