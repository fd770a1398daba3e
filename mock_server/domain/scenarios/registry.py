"""Named scenarios: what each one does, and how a scenario text such as ``fail:50`` is parsed.

A scenario is registered once with `@scenario`, which checks its name and records its
argument rule, its documented effect and what a client sees. Two kinds exist:

- ``job`` scenarios change a job's `Timing` (its whole future is decided at creation);
- ``wire`` scenarios change one HTTP exchange (`WireEffect`): a rejection, latency, a dropped
  connection, a garbled body, or an account balance. `faults.py` acts them out.

Every random choice (a failure's progress and wording, a garbage kind) comes from the one
seeded generator the caller passes in, so the same ``--seed`` replays the same run.

Example:
    >>> [s.text for s in parse_list("fail:40, latency:200")]
    ['fail:40', 'latency:200']
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from mock_server.contract.errors import ScenarioError, UnknownScenario, did_you_mean
from mock_server.domain.jobs import Timing

Kind = Literal["job", "wire"]
ArgValue = int | float | str | None
F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
REJECT_STATUSES = (400, 401, 429, 500, 502, 503)
# Jobs that act on an earlier result: a Flux upscale, a Midjourney button, a video extend. The follow-up-*
# scenarios touch only these, so a client's first job succeeds and its follow-up fails or is refused.
FOLLOW_UP_KINDS = frozenset({"upscale", "button", "video-extend"})
FOLLOW_UP_REJECT_STATUSES = (429, 503)
GARBAGE_KINDS = ("json", "html")
# The real API's FAIL wording is undocumented (only a placeholder exists); these read like real upstream errors.
FAIL_ERRORS = (
    "Generation failed, please try again",
    "Internal error, please retry later",
    "Your prompt was flagged by the content filter",
    "Upstream provider error: prediction failed",
)


@dataclass(frozen=True, slots=True)
class Arg:
    """The argument rule of a scenario (the part after the colon)."""

    metavar: str
    kind: Literal["int", "float", "choice"]
    required: bool = True
    low: float = 0
    high: float = 86_400
    choices: tuple[str | int, ...] = ()

    def parse(self, name: str, raw: str | None) -> ArgValue:
        """The argument as a value, or a ScenarioError saying what is allowed."""
        usage = f"{name}:<{self.metavar}>"
        if raw is None or raw == "":
            if self.required:
                raise ScenarioError(f"Scenario {name!r} needs an argument: {usage}{self._example(name)}.")
            return None
        if self.kind == "choice":
            allowed = [str(c) for c in self.choices]
            if raw not in allowed:
                raise ScenarioError(
                    f"Scenario {name!r} has argument {raw!r}; it must be one of {', '.join(allowed)}."
                    f"{did_you_mean(raw, allowed)}"
                )
            return int(raw) if all(isinstance(c, int) for c in self.choices) else raw
        try:
            value: float = int(raw) if self.kind == "int" else float(raw)
        except ValueError:
            noun = "an integer" if self.kind == "int" else "a number"
            raise ScenarioError(
                f"Scenario {name!r} has argument {raw!r}; it must be {noun} {self._range()}{self._example(name)}."
            ) from None
        if not self.low <= value <= self.high:
            raise ScenarioError(f"Scenario {name!r} has argument {raw!r}; it must be {self._range()}.")
        return value

    def _range(self) -> str:
        return f"from {self.low:g} to {self.high:g} ({self.metavar})"

    def _example(self, name: str) -> str:
        sample = self.choices[0] if self.choices else int(min(max(self.low, 5), self.high))
        return f", e.g. {name}:{sample}"


@dataclass(frozen=True, slots=True)
class ScenarioDef:
    """A registered scenario: its rule, its documentation, and its effect."""

    name: str
    kind: Kind
    arg: Arg | None
    effect: str  # what it does, one sentence
    client_sees: str  # what a client observes
    apply: Callable[..., Any]

    @property
    def usage(self) -> str:
        """E.g. ``fail[:<progress>]`` or ``slow:<seconds>``."""
        if self.arg is None:
            return self.name
        part = f":<{self.arg.metavar}>"
        return self.name + (part if self.arg.required else f"[{part}]")


@dataclass(frozen=True, slots=True)
class Scenario:
    """One parsed scenario, e.g. ``fail:50``."""

    definition: ScenarioDef
    value: ArgValue = None

    @property
    def name(self) -> str:
        """The registered name."""
        return self.definition.name

    @property
    def kind(self) -> Kind:
        """``job`` or ``wire``."""
        return self.definition.kind

    @property
    def text(self) -> str:
        """Canonical text, e.g. ``fail:50`` (the form journal tags use)."""
        if self.value is None:
            return self.name
        value = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.name}:{value}"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job scenario may read: the request's knobs and the seeded generator."""

    kind: str  # imagine or upscale
    timeout: float
    n: int
    rng: random.Random


@dataclass(frozen=True, slots=True)
class WireEffect:
    """What wire scenarios ask of one HTTP exchange (acted out by faults.py and credits.py)."""

    reject: int | None = None
    latency_ms: int = 0
    disconnect: bool = False
    garbage: str | None = None  # json (truncated) or html (proxy error page)
    credits: int | None = None
    follow_ups_only: bool = False  # `reject` applies only to creates of a FOLLOW_UP_KINDS job


REGISTRY: dict[str, ScenarioDef] = {}


def scenario(name: str, *, kind: Kind, effect: str, client_sees: str, arg: Arg | None = None) -> Callable[[F], F]:
    """Register a scenario under `name` (lower-case words joined by hyphens, unique).

    A ``job`` scenario is ``(timing, value, ctx: JobContext) -> Timing``; a ``wire`` scenario is
    ``(effect, value, rng) -> WireEffect``.

    Example:
        @scenario("slow", kind="job", arg=Arg("seconds", "float"), effect="...", client_sees="...")
        def _slow(timing: Timing, value: float, ctx: JobContext) -> Timing:
            return dataclasses.replace(timing, duration=value)
    """
    if not _NAME.match(name):
        raise ValueError(f"Scenario name {name!r} must be lower-case words joined by hyphens, e.g. 'not-yet'.")
    if name in REGISTRY:
        raise ValueError(f"Scenario {name!r} is already registered.")

    def register(func: F) -> F:
        REGISTRY[name] = ScenarioDef(name, kind, arg, effect, client_sees, func)
        return func

    return register


def parse(text: str) -> Scenario:
    """Parse one scenario, e.g. ``fail``, ``fail:50``, ``reject:429``.

    Raises:
        UnknownScenario: the name is not registered (the message lists the registered names).
        ScenarioError: the argument is missing, malformed or out of range.
    """
    name, sep, raw = text.strip().partition(":")
    name = name.strip().lower()
    definition = REGISTRY.get(name)
    if definition is None:
        known = ", ".join(sorted(REGISTRY))
        shown = name or text.strip()
        raise UnknownScenario(
            f"Unknown scenario {shown!r}.{did_you_mean(name, REGISTRY)} Registered scenarios: {known}.",
            shown,
            tuple(sorted(REGISTRY)),
        )
    if definition.arg is None:
        if sep:
            raise ScenarioError(f"Scenario {name!r} takes no argument (got {text.strip()!r}); write just {name!r}.")
        return Scenario(definition)
    return Scenario(definition, definition.arg.parse(name, raw.strip() if sep else None))


def parse_list(text: str | Iterable[str]) -> tuple[Scenario, ...]:
    """Parse comma-separated scenarios (or an iterable of such texts); blanks are skipped."""
    parts = [text] if isinstance(text, str) else list(text)
    return tuple(parse(item) for part in parts for item in part.split(",") if item.strip())


def job_timing(scenarios: Iterable[Scenario], timing: Timing, ctx: JobContext) -> Timing:
    """Fold the job scenarios over `timing`, in order (wire scenarios are skipped)."""
    for s in scenarios:
        if s.kind == "job":
            timing = cast(Timing, s.definition.apply(timing, s.value, ctx))
    return timing


def wire_effect(scenarios: Iterable[Scenario], rng: random.Random) -> WireEffect:
    """Fold the wire scenarios into one `WireEffect`, in order (job scenarios are skipped)."""
    effect = WireEffect()
    for s in scenarios:
        if s.kind == "wire":
            effect = cast(WireEffect, s.definition.apply(effect, s.value, rng))
    return effect


def catalogue() -> list[dict[str, Any]]:
    """Every registered scenario as JSON-ready documentation."""
    return [
        {"name": d.name, "usage": d.usage, "kind": d.kind, "effect": d.effect, "clientSees": d.client_sees}
        for d in REGISTRY.values()
    ]


_replace = dataclasses.replace

# --- job scenarios -------------------------------------------------------------------------------------------


@scenario(
    "success",
    kind="job",
    effect="A plain job: QUEUED while the key's slots are busy, PROCESSING for --job-seconds, then DONE.",
    client_sees="200 on create; polls end in DONE with images.",
)
def _success(timing: Timing, value: None, ctx: JobContext) -> Timing:
    return timing


@scenario(
    "fail",
    kind="job",
    arg=Arg("progress", "int", required=False, high=99),
    effect="The job FAILs with a realistic error once progress reaches <progress>% (default: a seeded value).",
    client_sees="Polls show PROCESSING, then status FAIL with an error text.",
)
def _fail(timing: Timing, value: int | None, ctx: JobContext) -> Timing:
    at = value if value is not None else ctx.rng.randint(0, 90)
    return _replace(timing, fail_at=at, error=ctx.rng.choice(FAIL_ERRORS))


@scenario(
    "follow-up-fail",
    kind="job",
    arg=Arg("progress", "int", required=False, high=99),
    effect="Jobs made by a follow-up action (a Flux upscale, a Midjourney button, a video extend) FAIL with a "
    "realistic error once progress reaches <progress>% (default: a seeded value); every other job succeeds.",
    client_sees="The first job ends DONE; the upscale (or button, or extend) made from it ends FAIL with an error.",
)
def _follow_up_fail(timing: Timing, value: int | None, ctx: JobContext) -> Timing:
    return _fail(timing, value, ctx) if ctx.kind in FOLLOW_UP_KINDS else timing


@scenario(
    "timeout",
    kind="job",
    effect="The job runs past its request's `timeout` (openapi.yaml's Timeout) and FAILs when it expires.",
    client_sees='PROCESSING until `timeout` seconds after create, then FAIL, "Job timed out after N seconds".',
)
def _timeout(timing: Timing, value: None, ctx: JobContext) -> Timing:
    return _replace(timing, duration=2 * max(timing.duration, ctx.timeout), honour_timeout=True)


@scenario(
    "stall",
    kind="job",
    arg=Arg("progress", "int", required=False, high=99),
    effect="Progress freezes at <progress>% (default: seeded) and the job never finishes, even past its timeout.",
    client_sees="PROCESSING forever with the same progress; only the client's own timeout ends the wait.",
)
def _stall(timing: Timing, value: int | None, ctx: JobContext) -> Timing:
    at = value if value is not None else ctx.rng.randint(1, 90)
    return _replace(timing, stall_at=at, honour_timeout=False)


@scenario(
    "slow",
    kind="job",
    arg=Arg("seconds", "float"),
    effect="The job takes <seconds> of PROCESSING instead of --job-seconds (still bounded by its timeout).",
    client_sees="Progress climbs slowly; DONE after <seconds>.",
)
def _slow(timing: Timing, value: float, ctx: JobContext) -> Timing:
    return _replace(timing, duration=float(value))


@scenario(
    "queued",
    kind="job",
    arg=Arg("seconds", "float"),
    effect="The job is held in QUEUED for <seconds> more before it starts.",
    client_sees="status QUEUED, progress 0 for <seconds>; then the normal run.",
)
def _queued(timing: Timing, value: float, ctx: JobContext) -> Timing:
    return _replace(timing, queued_extra=timing.queued_extra + float(value))


@scenario(
    "not-yet",
    kind="job",
    arg=Arg("seconds", "float"),
    effect="The progress endpoint answers 404 for <seconds> after create, as if the job were not registered yet.",
    client_sees='404 {"message": "Message not found"} on early polls, then normal answers.',
)
def _not_yet(timing: Timing, value: float, ctx: JobContext) -> Timing:
    return _replace(timing, not_found_for=float(value))


@scenario(
    "status-variant",
    kind="job",
    arg=Arg("seconds", "float", required=False),
    effect="The waiting status is SUBMITTED (the official skill's word) instead of QUEUED, for <seconds> "
    "(default 3) more; SUBMITTED is outside the contract's enum on purpose.",
    client_sees="status SUBMITTED, then PROCESSING, then DONE.",
)
def _status_variant(timing: Timing, value: float | None, ctx: JobContext) -> Timing:
    extra = 3.0 if value is None else float(value)
    return _replace(timing, queued_status="SUBMITTED", queued_extra=timing.queued_extra + extra)


@scenario(
    "flaky",
    kind="job",
    arg=Arg("k", "int", low=1, high=1000),
    effect="Every <k>-th progress poll of the job answers 503 (polls are counted per job).",
    client_sees='503 {"message": "Service Unavailable"} on poll k, 2k, ...; the other polls are normal.',
)
def _flaky(timing: Timing, value: int, ctx: JobContext) -> Timing:
    return _replace(timing, flaky_every=int(value))


# --- wire scenarios ------------------------------------------------------------------------------------------


@scenario(
    "reject",
    kind="wire",
    arg=Arg("status", "choice", choices=REJECT_STATUSES),
    effect="The request is refused with <status> and the NestJS error body; no job is created. "
    "429 carries Retry-After.",
    client_sees="The status with a body such as "
    '{"message": "ThrottlerException: Too Many Requests", "statusCode": 429} (+ Retry-After: 3).',
)
def _reject(effect: WireEffect, value: int, rng: random.Random) -> WireEffect:
    return _replace(effect, reject=int(value))


@scenario(
    "follow-up-reject",
    kind="wire",
    arg=Arg("status", "choice", choices=FOLLOW_UP_REJECT_STATUSES),
    effect="Requests that create a follow-up job (a Flux upscale, a Midjourney button press, a video extend) are "
    "refused with <status> and the NestJS error body (429 with Retry-After); every other request is served.",
    client_sees="The first job is created and ends DONE; pressing a button on it (or upscaling, extending) gets "
    "the status every time.",
)
def _follow_up_reject(effect: WireEffect, value: int, rng: random.Random) -> WireEffect:
    return _replace(effect, reject=int(value), follow_ups_only=True)


@scenario(
    "latency",
    kind="wire",
    arg=Arg("ms", "int", high=120_000),
    effect="The answer is held back <ms> milliseconds (real time, not the mock clock).",
    client_sees="A normal answer, <ms> later.",
)
def _latency(effect: WireEffect, value: int, rng: random.Random) -> WireEffect:
    return _replace(effect, latency_ms=effect.latency_ms + int(value))


@scenario(
    "disconnect",
    kind="wire",
    effect="The server closes the connection without sending any response (no job is created).",
    client_sees='A transport error such as httpx "Server disconnected without sending a response".',
)
def _disconnect(effect: WireEffect, value: None, rng: random.Random) -> WireEffect:
    return _replace(effect, disconnect=True)


@scenario(
    "garbage",
    kind="wire",
    arg=Arg("kind", "choice", required=False, choices=GARBAGE_KINDS),
    effect="json: the real answer cut short mid-JSON (status 200, the job exists); html: a proxy's 502 HTML page. "
    "Without a kind the seed picks one.",
    client_sees="A body that JSON parsing rejects.",
)
def _garbage(effect: WireEffect, value: str | None, rng: random.Random) -> WireEffect:
    return _replace(effect, garbage=value if value is not None else rng.choice(GARBAGE_KINDS))


@scenario(
    "credits",
    kind="wire",
    arg=Arg("n", "int", high=10**9),
    effect="Sets the API key's balance to <n> credits (again only when <n> changes). "
    "A Flux image costs 6 (x n), an upscale 2; polls are free.",
    client_sees='Creates succeed while the balance lasts, then 401 {"message": "Insufficient credits"}.',
)
def _credits(effect: WireEffect, value: int, rng: random.Random) -> WireEffect:
    return _replace(effect, credits=int(value))
