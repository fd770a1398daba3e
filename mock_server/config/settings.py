"""One frozen Settings object: every knob of the mock, once.

Each field is reachable three ways that mirror each other:
- keyword: ``Settings(job_seconds=0)`` or ``create_app(Settings(...))``;
- environment: ``FLUX_MOCK_JOB_SECONDS=0``;
- CLI flag: ``flux-mock serve --job-seconds 0`` (generated from the field metadata below).

Precedence, lowest first: defaults, environment, keywords/flags.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.config.options import Option, env_name, field_named, flag_name, option, option_of, parse_text
from mock_server.config.rules import ENV_PREFIX as ENV_PREFIX  # where the settings' users look for it
from mock_server.config.rules import (
    KeyDisplay,
    RateLimit,
    ReplayMiss,
    TimestampFormat,
    WebhookEvents,
    WebhookOffList,
    WebhookTransport,
    check_settings,
)
from mock_server.contract.errors import SettingsError, did_you_mean

# Named pacings for --job-seconds, so "realistic" needs no magic number (the same words on every command).
JOB_SECONDS_PRESETS: dict[str, float] = {"instant": 0.0, "demo": 3.0, "realistic": 12.0}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that configures a flux-mock server. Immutable; validated on creation.

    Example:
        settings = Settings(seed=7, job_seconds=0, api_keys=("sk-test",))
        app = create_app(settings)
    """

    host: str = field(default="127.0.0.1", metadata=option("Interface to bind. Keep loopback unless you mean it."))
    port: int = field(default=8080, metadata=option("TCP port to bind; 0 picks a free one.", metavar="PORT"))
    public_url: str | None = field(
        default=None,
        metadata=option("Base URL put into image URLs (default: http://HOST:PORT).", metavar="URL"),
    )
    api_keys: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "Accepted Bearer key (repeatable; env: comma-separated). Default: any non-empty key.",
            metavar="KEY",
            flag="--api-key",
        ),
    )
    seed: int = field(
        default=0, metadata=option("Seed for messageIds and images: the same seed replays the same run.", metavar="N")
    )
    job_seconds: float = field(
        default=3.0,
        metadata=option(
            "Seconds one job takes to process, or a preset: instant (0), demo (3), realistic (12, like real Flux).",
            metavar="SECONDS|PRESET",
            presets=tuple(JOB_SECONDS_PRESETS.items()),
        ),
    )
    concurrency: int = field(
        default=4,
        metadata=option("Jobs processed at once per API key; later jobs wait in QUEUED (FIFO).", metavar="N"),
    )
    timestamp_format: TimestampFormat = field(
        default="ms-z",
        metadata=option(
            "ms-z: 2023-08-01T14:03:01.817Z (docs); offset: 2026-02-22T07:43:37+00:00 (real capture).",
            choices=("ms-z", "offset"),
        ),
    )
    max_body_bytes: int = field(
        default=1024 * 1024, metadata=option("Largest accepted request body (413 above).", metavar="BYTES")
    )
    max_json_depth: int = field(
        default=32,
        metadata=option("Deepest nesting accepted in a request body (400 above, before validation).", metavar="LEVELS"),
    )
    show_keys: KeyDisplay = field(
        default="masked",
        metadata=option(
            "How API keys appear in the journal, /__mock/jobs and /__mock/credits: masked (sk-te…st) or full.",
            choices=("masked", "full"),
        ),
    )
    journal_size: int = field(
        default=10_000, metadata=option("Request journal entries kept (oldest dropped first).", metavar="N")
    )
    job_ttl: float = field(
        default=86_400.0,
        metadata=option(
            "A job is forgotten this many seconds (mock time) after its creation, then answers 404 like an unknown "
            "one (default a day: the history endpoint's window). Bounds memory in both stores.",
            metavar="SECONDS",
        ),
    )
    max_jobs: int = field(
        default=100_000,
        metadata=option(
            "Jobs kept at most (a hard cap beside --job-ttl); past it the oldest are forgotten, 1% of the cap at once "
            "in memory, so a full store does not pay on every create.",
            metavar="N",
        ),
    )

    # --- shared state (README "Many workers and replicas") ---
    store: str = field(
        default="memory",
        metadata=option(
            "Where server state lives: memory (this process) or redis://HOST:PORT/DB (shared by every worker and "
            "replica that names the same database).",
            metavar="memory|redis://HOST:PORT/DB",
        ),
    )
    workers: int = field(
        default=1,
        metadata=option("Worker processes serving one port; more than 1 needs --store redis://...", metavar="N"),
    )
    webhook_lease_s: float = field(
        default=10.0,
        metadata=option(
            "With a Redis store: how long a worker holds a webhook delivery without renewing it; a worker that "
            "dies (even SIGKILL) loses it after this, and another worker takes the delivery over.",
            metavar="SECONDS",
        ),
    )
    scenario: str | None = field(
        default=None,
        metadata=option(
            "Server-wide default scenario(s) when a request chooses none, e.g. 'fail' or 'latency:200,flaky:3'.",
            metavar="NAME[:ARG],...",
        ),
    )
    scenarios_file: str | None = field(
        default=None,
        metadata=option(
            "YAML file of standing scenario rules, validated at start.", metavar="FILE", flag="--scenarios"
        ),
    )
    rate_limit: RateLimit = field(
        default="off",
        metadata=option(
            "documented: 1 request per 3 s (general) and 10/s (message endpoint) per API key, 429 + Retry-After.",
            choices=("off", "documented"),
        ),
    )
    admin_token: str | None = field(
        default=None,
        metadata=option(
            "Require this token on /__mock (Bearer or X-Mock-Admin-Token); without it: loopback only.", metavar="TOKEN"
        ),
    )
    credits: int | None = field(
        default=None,
        metadata=option(
            "Starting credit balance of every API key (6 per Flux image, 2 per upscale, 10 per Midjourney grid, "
            "...; the README's table). Default: unlimited.",
            metavar="N",
        ),
    )
    plan_type: str = field(
        default="STARTER",
        metadata=option(
            "Plan shown by account-info; DIY (or DEDICATED) enables the DIY-plan endpoints (Discord tokens, commands).",
            metavar="PLAN",
        ),
    )
    account_email: str = field(
        default="qa@flux-mock.test", metadata=option("E-mail shown by account-info.", metavar="EMAIL")
    )
    credits_quota: int = field(
        default=1600, metadata=option("Plan allowance shown by account-info as creditsQuota.", metavar="N")
    )
    banned_words: tuple[str, ...] = field(
        default=("gore", "nsfw", "naked", "corpse", "blood"),
        metadata=option(
            "Word the prompt check flags (repeatable; env: comma-separated).", metavar="WORD", flag="--banned-word"
        ),
    )
    log_level: str = field(
        default="info",
        metadata=option("uvicorn log level.", choices=("critical", "error", "warning", "info", "debug", "trace")),
    )

    # --- webhooks (README "Webhooks"; the contract's docs are silent on all of this, so each choice is a setting) ---
    webhook_url: str | None = field(
        default=None,
        metadata=option(
            "Default webhook URL for jobs without webhookOverride (stands for the one configured in your account).",
            metavar="URL",
        ),
    )
    webhook_events: WebhookEvents = field(
        default="final",
        metadata=option(
            "final: one webhook at DONE/FAIL; progress: also one on every status/progress change.",
            choices=("final", "progress"),
        ),
    )
    webhook_retries: int = field(
        default=5,
        metadata=option("Maximum attempts per webhook delivery, the first included (1 = never retry).", metavar="N"),
    )
    webhook_timeout_s: float = field(
        default=5.0, metadata=option("Time limit of one delivery attempt, connect to last byte.", metavar="SECONDS")
    )
    webhook_backoff_s: float = field(
        default=1.0,
        metadata=option(
            "Base of the exponential retry backoff: base * 2^(n-1), jittered to 50-100%.", metavar="SECONDS"
        ),
    )
    webhook_backoff_max_s: float = field(
        default=60.0, metadata=option("Longest backoff between two attempts (before jitter).", metavar="SECONDS")
    )
    webhook_concurrency: int = field(
        default=8,
        metadata=option("Delivery attempts in flight at once per receiver (scheme, host, port).", metavar="N"),
    )
    webhook_secret: str | None = field(
        default=None,
        metadata=option(
            "Sign webhooks per Standard Webhooks with this whsec_<base64> secret (mock extension; off by default).",
            metavar="SECRET",
        ),
    )
    webhook_allow_hosts: tuple[str, ...] = field(
        default=("127.0.0.1", "localhost", "::1"),
        metadata=option(
            "Host webhooks may be sent to (repeatable; env: comma-separated; *.domain for subdomains, * for any).",
            metavar="HOST",
            flag="--webhook-allow-host",
        ),
    )
    webhook_off_list: WebhookOffList = field(
        default="block",
        metadata=option(
            "A webhookOverride whose host is off the allow-list: block (accepted like the real API, never "
            "contacted, journalled as blocked) or refuse (400 at create time, to catch a typo early).",
            choices=("block", "refuse"),
        ),
    )
    webhook_fault: str | None = field(
        default=None,
        metadata=option(
            "Webhook fault for every job without an X-Mock-Webhook header: "
            "drop, delay=N, duplicate, out-of-order, early, corrupt (comma-separated).",
            metavar="FAULTS",
        ),
    )
    webhook_grace_s: float = field(
        default=5.0,
        metadata=option(
            "On shutdown, time to finish pending webhooks; the rest are journalled abandoned.", metavar="SECONDS"
        ),
    )
    webhook_spool: str | None = field(
        default=None,
        metadata=option(
            "At shutdown, write every webhook not delivered (abandoned deliveries, unfinished jobs' webhooks) to "
            "this file as JSON lines (appended), so none is lost across a restart.",
            metavar="FILE",
        ),
    )
    webhook_transport: WebhookTransport = field(
        default="http",
        metadata=option(
            "http: send webhooks; record: journal them without sending (dry run, e.g. for fuzzing).",
            choices=("http", "record"),
        ),
    )

    # --- connections and the admin guard (README "Limits and the admin guard"; mock_server/connections.py) ---
    max_header_bytes: int = field(
        default=64 * 1024,
        metadata=option(
            "Largest request head, request line and headers together (431 and closed above).", metavar="BYTES"
        ),
    )
    max_headers: int = field(
        default=100, metadata=option("Most headers in one request (431 and closed above).", metavar="N")
    )
    head_timeout_s: float = field(
        default=10.0,
        metadata=option(
            "Time to send a whole request head, from connect (or its first byte on a kept-alive connection); "
            "then 408 and closed.",
            metavar="SECONDS",
        ),
    )
    body_timeout_s: float = field(
        default=30.0,
        metadata=option("Time to send a request body once its head is in; then 408 and closed.", metavar="SECONDS"),
    )
    linger_s: float = field(
        default=10.0,
        metadata=option(
            "After an early refusal (401, 413) with the body still coming, time to go on reading and discarding it "
            "so the client can read the answer (nginx's lingering close); then closed.",
            metavar="SECONDS",
        ),
    )
    linger_bytes: int = field(
        default=64 * 1024 * 1024,
        metadata=option(
            "Most bytes read and discarded after an early refusal (see --linger-s); then closed.", metavar="BYTES"
        ),
    )
    max_connections: int = field(
        default=1000,
        metadata=option("Open connections at most; one more is answered 503 and closed.", metavar="N"),
    )
    trust_proxy: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "Proxy (IP, CIDR or *; repeatable) whose X-Forwarded-For/-Proto is believed. "
            "Default: none, the client is the socket's peer (FORWARDED_ALLOW_IPS is ignored).",
            metavar="ADDRESS",
        ),
    )
    admin_host: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "Host name the admin API also answers and whose Origin it accepts (repeatable; "
            "localhost, 127.0.0.1 and [::1] always).",
            metavar="HOST",
        ),
    )

    # --- replay (README "Recording and replaying traffic") ---
    replay: str | None = field(
        default=None,
        metadata=option(
            "Answer requests recorded in this HAR file with their recorded answers, in order.", metavar="FILE"
        ),
    )
    replay_miss: ReplayMiss = field(
        default="404",
        metadata=option(
            "What an unrecorded request gets with --replay: 404 (naming the file) or mock (the normal mock).",
            choices=("404", "mock"),
            needs="replay",
        ),
    )
    pace_from: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "Pace new jobs of each kind this HAR recording holds (flux-mock proxy --record) like its jobs: queue and "
            "run time of one recorded job, drawn under --seed; other kinds keep --job-seconds (repeatable; env: "
            "comma-separated).",
            metavar="FILE.har",
            flag="--pace-from",
        ),
    )

    def __post_init__(self) -> None:
        check_settings(self)

    @property
    def base_url(self) -> str:
        """The URL clients should use, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``FLUX_MOCK_*`` variables, then apply keyword overrides.

        Raises SettingsError naming the variable for a value that does not parse,
        and for an unknown ``FLUX_MOCK_*`` variable (a typo would otherwise be ignored).
        """
        env = os.environ if environ is None else environ
        by_env = {str(env_name(f, ENV_PREFIX)): f for f in dataclasses.fields(cls)}
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in env.items():
            if not key.startswith(ENV_PREFIX):
                continue
            found = by_env.get(key)
            if found is None:
                # Named after the flag, e.g. FLUX_MOCK_SCENARIOS for --scenarios: say which variable it is.
                flag_style = {ENV_PREFIX + flag_name(f)[2:].replace("-", "_").upper(): f for f in by_env.values()}
                if key in flag_style:
                    real = env_name(flag_style[key], ENV_PREFIX)
                    raise SettingsError(f"Unknown environment variable {key}. Did you mean {real!r}?")
                raise SettingsError(f"Unknown environment variable {key}.{did_you_mean(key, by_env)}")
            values[found.name] = parse_text(found, raw, source=key)
        unknown = set(overrides) - names
        if unknown:
            bad = sorted(unknown)[0]
            raise SettingsError(f"Unknown setting {bad!r}.{did_you_mean(bad, names)}")
        values.update(overrides)
        return cls(**values)

    @classmethod
    def parse_option(cls, name: str, text: str, *, source: str) -> Any:
        """One setting's value from text, as its flag and variable take it (presets, lists, ranges, choices)."""
        return parse_text(field_named(cls, name), text, source=source)

    @classmethod
    def from_cli(cls, values: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None) -> Settings:
        """Settings from a command line: a command's own `defaults`, then ``FLUX_MOCK_*``, then the flags given.

        `values` maps field names to what the command line gave (text, parsed values, a tuple for a repeatable flag,
        or None when not given).
        """
        overrides: dict[str, Any] = {}
        for name, value in (defaults or {}).items():
            if env_name(field_named(cls, name), ENV_PREFIX) not in os.environ:
                overrides[name] = value
        for name, value in values.items():
            if value is None or value == ():
                continue
            spec = field_named(cls, name)
            overrides[name] = parse_text(spec, value, source=flag_name(spec)) if isinstance(value, str) else value
        return cls.from_env(**overrides)


def setting_option(name: str, help: str | None = None) -> Mapping[str, Option]:
    """A `Settings` field's option declaration, for another command's option of the same meaning.

    The kit's ``verify`` takes ``--job-seconds`` this way, so it accepts the same words (``instant``, ``realistic``)
    and the same checks as ``serve``; `help` replaces the help text only.
    """
    declared_option = option_of(field_named(Settings, name))
    assert declared_option is not None, name
    return {"option": dataclasses.replace(declared_option, help=help or declared_option.help)}
