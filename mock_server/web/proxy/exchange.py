"""What the proxy is told (`ProxyOptions`) and what it shows an observer (`ProxiedExchange`).

The observer hook is how judgments that live above `mock_server` (the contract kit's lifecycle checks) see
proxied traffic without `mock_server` importing them: ``flux-mock proxy`` passes `contracts.checks` in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from mock_server.config.options import option
from mock_server.contract.problems import Violation

# Most bytes the optional violations header may carry (Prism's unbounded one overflows proxies: prism#2315).
HEADER_LIMIT = 8192
HEADER_NAME = "X-Flux-Mock-Violations"


@dataclass(frozen=True, slots=True)
class ProxiedExchange:
    """One request the proxy forwarded and the upstream's answer to it.

    Attributes:
        at: arrival time on the proxy's clock (epoch seconds; a `VirtualClock` in tests).
        role: create, poll, read, download or other (from the spec's ``x-mock-kind``).
        request_body: the parsed JSON body, with the spec's defaults applied when it was valid; None without one.
        request_violations: what was wrong with the request (the mock's own validators).
        had_credentials: whether ``Authorization: Bearer <key>`` was sent (the key itself is never kept).
        response_body: the answer parsed as JSON, or None (an image, HTML, garbage).
    """

    at: float
    method: str
    path: str
    query: str
    operation_id: str | None
    role: str
    message_id: str | None
    request_body: Any
    request_violations: tuple[Violation, ...]
    had_credentials: bool
    status: int
    content_type: str
    response_body: Any


# An observer judges one exchange and returns the violations it found in the upstream's answer.
Observer = Callable[[ProxiedExchange], Sequence[Violation]]


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """How the proxy forwards.

    Attributes:
        upstream: base URL of the real API, e.g. ``https://api.imaginepro.ai``.
        strict: refuse invalid requests (never forwarded) and turn invalid answers into 502s.
        violations_header: most bytes of the ``X-Flux-Mock-Violations`` answer header; 0 leaves it off.
        record: write every exchange to this HAR file.
        redact: JSON pointers replaced by ``[REDACTED]`` in recorded bodies (Authorization always is).
        timeout_s: seconds to wait for the upstream.
        transport: an httpx transport, e.g. ``httpx.ASGITransport(upstream_app)`` in tests.
    """

    upstream: str = field(
        metadata=option(
            "The real API to forward to, e.g. https://api.imaginepro.ai.",
            metavar="URL",
            env="FLUX_MOCK_UPSTREAM",
            required=True,
        )
    )
    strict: bool = field(
        default=False,
        metadata=option(
            "Answer an invalid request with the mock's 400/401 (never forwarded, no credits spent) and an invalid "
            "upstream answer with a 502 that lists its violations."
        ),
    )
    violations_header: int = field(
        default=0,
        metadata=option(
            "Add X-Flux-Mock-Violations (pointer and rule of each violation) to answers, cut to BYTES; 0: off.",
            metavar="BYTES",
            minimum=0,
            maximum=HEADER_LIMIT,
        ),
    )
    record: str | None = field(
        default=None,
        metadata=option(
            "Write every exchange to this HAR 1.2 file as it completes (Authorization redacted); a clean stop finishes "
            "the file, and one cut short by a crash is still read by drift, serve --replay and --pace-from.",
            metavar="FILE.har",
        ),
    )
    redact: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "JSON pointer replaced by [REDACTED] in recorded request and response bodies, e.g. /prompt (repeatable; "
            "with --record).",
            metavar="POINTER",
            needs="record",
        ),
    )
    timeout_s: float = field(
        default=60.0,
        metadata=option(
            "Seconds to wait for the upstream's answer before answering 502.",
            metavar="SECONDS",
            flag="--upstream-timeout",
            minimum=0,
            above=True,
        ),
    )
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        from mock_server.contract.errors import SettingsError

        if not self.upstream.startswith(("http://", "https://")):
            raise SettingsError(f"--upstream {self.upstream!r} must be an http:// or https:// URL.")
        if not 0 <= self.violations_header <= HEADER_LIMIT:
            raise SettingsError(
                f"--violations-header {self.violations_header} must be 0 (off) to {HEADER_LIMIT} bytes."
            )
        if self.timeout_s <= 0:
            raise SettingsError(f"--upstream-timeout {self.timeout_s} must be more than 0 seconds.")

    @property
    def base(self) -> str:
        """The upstream URL without a trailing slash."""
        return self.upstream.rstrip("/")
