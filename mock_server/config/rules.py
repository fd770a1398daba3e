"""The rules each setting obeys: `Settings` runs `check_settings` on creation.

Every refusal names the setting as a user gives it (the flag, the environment variable and the keyword), the value
given and the rule (``--port (env FLUX_MOCK_PORT, keyword port) has value 70000; it must be an integer from 0 to
65535.``). Scenario, fault, secret and allow-list values are checked with the domain's own
parsers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from mock_server.config.options import env_name, field_named, flag_name
from mock_server.contract.errors import MockServerError, SettingsError
from mock_server.domain.scenarios.registry import parse_list

if TYPE_CHECKING:
    from mock_server.config.settings import Settings

TimestampFormat = Literal["ms-z", "offset"]
RateLimit = Literal["off", "documented"]
WebhookEvents = Literal["final", "progress"]
WebhookTransport = Literal["http", "record"]
WebhookOffList = Literal["block", "refuse"]
KeyDisplay = Literal["masked", "full"]
ReplayMiss = Literal["404", "mock"]


ENV_PREFIX = "FLUX_MOCK_"  # the settings' environment variables (re-exported by `settings`)


class _Broken(Exception):
    """A rule broken by one setting: its field name, the value and the rest of the sentence."""

    def __init__(self, name: str, value: object, tail: str) -> None:
        super().__init__(name)
        self.name, self.value, self.tail = name, value, tail


def setting_label(cls: type, name: str) -> str:
    """A setting as a user types it: ``--port (env FLUX_MOCK_PORT, keyword port)``."""
    spec = field_named(cls, name)
    return f"{flag_name(spec)} (env {env_name(spec, ENV_PREFIX)}, keyword {name})"


def check_settings(s: Settings) -> None:
    """Raise SettingsError for the first setting of `s` that breaks its rule, naming its flag, variable and keyword."""
    try:
        _check_all(s)
    except _Broken as broken:
        raise SettingsError(f"{setting_label(type(s), broken.name)} has value {broken.value!r}{broken.tail}") from None


def _check_all(s: Settings) -> None:
    _check(0 <= s.port <= 65535, "port", s.port, "an integer from 0 to 65535")
    _check(s.concurrency >= 1, "concurrency", s.concurrency, "an integer >= 1")
    _check(0 <= s.job_seconds <= 86_400, "job_seconds", s.job_seconds, "0..86400 seconds or a preset")
    _check(s.max_body_bytes >= 1024, "max_body_bytes", s.max_body_bytes, "at least 1024")
    _check(2 <= s.max_json_depth <= 200, "max_json_depth", s.max_json_depth, "2..200")
    _check(bool(s.plan_type.strip()), "plan_type", s.plan_type, "a plan name such as STARTER or DIY")
    _check(s.credits_quota >= 0, "credits_quota", s.credits_quota, "an integer >= 0")
    _check(all(w.strip() for w in s.banned_words), "banned_words", s.banned_words, "non-empty words")
    _check(s.show_keys in get_args(KeyDisplay), "show_keys", s.show_keys, "masked or full")
    _check(s.journal_size >= 1, "journal_size", s.journal_size, "an integer >= 1")
    _check(bool(s.host), "host", s.host, "a non-empty host name or address")
    _check(0 < s.job_ttl <= 10 * 365 * 86_400, "job_ttl", s.job_ttl, "more than 0 s, at most ten years")
    _check(s.max_jobs >= 1, "max_jobs", s.max_jobs, "an integer >= 1")
    _check(1 <= s.workers <= 64, "workers", s.workers, "an integer from 1 to 64")
    _check(0.2 <= s.webhook_lease_s <= 600, "webhook_lease_s", s.webhook_lease_s, "0.2..600 s")
    _check_store(s)
    allowed = get_args(TimestampFormat)
    _check(s.timestamp_format in allowed, "timestamp_format", s.timestamp_format, f"one of {allowed}")
    _check(all(k.strip() for k in s.api_keys), "api_keys", s.api_keys, "non-empty keys")
    _check(s.rate_limit in get_args(RateLimit), "rate_limit", s.rate_limit, "off or documented")
    _check(s.credits is None or s.credits >= 0, "credits", s.credits, "an integer >= 0 (omit: unlimited)")
    _check(s.admin_token is None or bool(s.admin_token.strip()), "admin_token", s.admin_token, "non-empty")
    if s.scenario is not None:
        _check_scenario(s.scenario)
    if s.public_url is not None:
        ok = s.public_url.startswith(("http://", "https://"))
        _check(ok, "public_url", s.public_url, "an http:// or https:// URL")
    _check_webhooks(s)
    _check_connections(s)
    _check(s.replay_miss in get_args(ReplayMiss), "replay_miss", s.replay_miss, "404 or mock")


def _check_webhooks(s: Settings) -> None:
    # Imported here, not at the top: the webhooks package imports this module (a cycle at import time).
    from mock_server.domain.webhooks.faults import parse_faults
    from mock_server.domain.webhooks.signing import SECRET_HINT, secret_problem
    from mock_server.domain.webhooks.targets import check_pattern, refusal

    _check(s.webhook_events in get_args(WebhookEvents), "webhook_events", s.webhook_events, "final or progress")
    transport = s.webhook_transport
    _check(transport in get_args(WebhookTransport), "webhook_transport", transport, "http or record")
    _check(s.webhook_off_list in get_args(WebhookOffList), "webhook_off_list", s.webhook_off_list, "block or refuse")
    _check(1 <= s.webhook_retries <= 100, "webhook_retries", s.webhook_retries, "1..100 attempts")
    _check(0 < s.webhook_timeout_s <= 600, "webhook_timeout_s", s.webhook_timeout_s, "more than 0 and at most 600 s")
    _check(0 <= s.webhook_backoff_s <= 3600, "webhook_backoff_s", s.webhook_backoff_s, "0..3600 s")
    floor = f"at least webhook_backoff_s ({s.webhook_backoff_s:g})"
    _check(s.webhook_backoff_max_s >= s.webhook_backoff_s, "webhook_backoff_max_s", s.webhook_backoff_max_s, floor)
    _check(s.webhook_concurrency >= 1, "webhook_concurrency", s.webhook_concurrency, "an integer >= 1")
    _check(0 <= s.webhook_grace_s <= 600, "webhook_grace_s", s.webhook_grace_s, "0..600 s")
    bad = [p for p in s.webhook_allow_hosts if not check_pattern(p)]
    _check(not bad, "webhook_allow_hosts", s.webhook_allow_hosts, "host names, IP addresses, *.domain or *")
    if s.webhook_url is not None:
        reason = refusal(s.webhook_url, s.webhook_allow_hosts)
        _check(reason is None, "webhook_url", s.webhook_url, f"an allowed http(s) URL ({reason})")
    if s.webhook_secret is not None:
        problem = secret_problem(s.webhook_secret)
        _check(problem is None, "webhook_secret", "<hidden>", f"{SECRET_HINT} ({problem})")
    try:
        parse_faults(s.webhook_fault)
    except ValueError as exc:
        raise _Broken("webhook_fault", s.webhook_fault, f"; {exc}.") from None


def _check_store(s: Settings) -> None:
    from urllib.parse import urlsplit  # here, beside its one use

    if s.store != "memory":
        try:
            url = urlsplit(s.store)
            port, db = url.port, (url.path or "/0").lstrip("/") or "0"
        except ValueError as exc:
            raise _Broken("store", s.store, f"; {exc}.") from None
        ok = url.scheme in ("redis", "rediss", "unix") and (url.scheme == "unix" or bool(url.hostname)) and db.isdigit()
        _check(ok and (port is None or 1 <= port <= 65535), "store", s.store, "memory or redis://HOST:PORT/DB")
    if s.workers > 1 and s.store == "memory":
        raise _Broken(
            "workers",
            s.workers,
            ", but the memory store lives in one process: workers would not see each other's jobs. Give them a "
            "shared store: start Redis (apt-get install -y redis-server; redis-server --port 6379 --save '') "
            "and add --store redis://127.0.0.1:6379/0.",
        )


def _check_connections(s: Settings) -> None:
    _check(1024 <= s.max_header_bytes <= 16 * 1024 * 1024, "max_header_bytes", s.max_header_bytes, "1024..16777216")
    _check(1 <= s.max_headers <= 10_000, "max_headers", s.max_headers, "an integer from 1 to 10000")
    _check(0 < s.head_timeout_s <= 3600, "head_timeout_s", s.head_timeout_s, "more than 0 and at most 3600 s")
    _check(0 < s.body_timeout_s <= 3600, "body_timeout_s", s.body_timeout_s, "more than 0 and at most 3600 s")
    _check(0 < s.linger_s <= 3600, "linger_s", s.linger_s, "more than 0 and at most 3600 s")
    _check(0 <= s.linger_bytes <= 1 << 40, "linger_bytes", s.linger_bytes, "an integer from 0 to 1099511627776")
    _check(1 <= s.max_connections <= 1_000_000, "max_connections", s.max_connections, "an integer from 1 to 1000000")
    bad_proxies = [p for p in s.trust_proxy if p != "*" and not _is_network(p)]
    _check(not bad_proxies, "trust_proxy", s.trust_proxy, "IP addresses, CIDR networks (10.0.0.0/8) or *")
    bad = [h for h in s.admin_host if not h or any(c in h for c in "/ *@")]
    _check(not bad, "admin_host", s.admin_host, "host names or IP addresses, without scheme, path or wildcard")


def _is_network(text: str) -> bool:
    import ipaddress  # here, beside its one use, to keep this block self-contained

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _check(ok: bool, name: str, value: object, rule: str) -> None:
    if not ok:
        raise _Broken(name, value, f"; it must be {rule}.")


def _check_scenario(value: str) -> None:
    try:
        parse_list(value)
    except MockServerError as exc:
        raise _Broken("scenario", value, f"; {exc}") from None
