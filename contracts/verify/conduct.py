"""A client's conduct as the checks see it: each `Exchange` (a request and what the mock answered), the
`ClientRules` the checks hold it to, a `ClientViolation`, and which documented route a request line is."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.core.schema import operation_ids
from mock_server import option

# Read once from openapi.yaml's x-mock-kind, so a new job-creating or progress operation is judged like the others.
CREATE_OPERATIONS = operation_ids("create")
POLL_OPERATIONS = operation_ids("poll")
Route = tuple[str, str, str]  # (operationId, METHOD, OpenAPI path template)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the client sent and what the mock answered, as the checks see it.

    Attributes:
        seq: the journal's sequence number (order of arrival).
        at: arrival time on the mock's clock (epoch seconds).
        method, path: the request line (path without the query).
        status: the HTTP status answered; None when the connection dropped without an answer (the journal's 0).
        operation_id: the documented operation the mock matched, if any.
        message_id: the job the request was about (created or polled).
        violations: contract rules the request broke, as sentences (from the journal).
        tags: scenario and fault names the mock applied (from the journal).
        body: the request body as text (truncated), if any.
        job: for a job-creating request, the job fields the mock used after normalisation (``kind``,
            ``timeout``, ``n``, ``webhook_url``, ...; the journal's ``job``); read these, not the truncated `body`.
        retry_after: the Retry-After the answer carried, in seconds.
        job_status: the Message `status` in the answer (QUEUED, PROCESSING, DONE, FAIL).
        progress: the Message `progress` in the answer.
        image_urls: image URLs the answer handed out (`uri` and `images`).
        malformed: the answer was not the JSON the contract promises (a garbage fault).
    """

    seq: int
    at: float
    method: str
    path: str
    status: int | None
    operation_id: str | None = None
    message_id: str | None = None
    violations: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    body: str | None = None
    retry_after: float | None = None
    job_status: str | None = None
    progress: int | None = None
    image_urls: tuple[str, ...] = ()
    malformed: bool = False
    job: Mapping[str, Any] | None = None

    @property
    def is_poll(self) -> bool:
        """A request to the message (progress) endpoint."""
        return self.operation_id in POLL_OPERATIONS

    @property
    def is_create(self) -> bool:
        """A request that creates a job."""
        return self.operation_id in CREATE_OPERATIONS

    @property
    def injected(self) -> bool:
        """The answer was a fault a scenario injected on purpose (journal tags such as ``reject:401``)."""
        for tag in self.tags:
            name, _, arg = tag.partition(":")
            if (
                (name in ("reject", "follow-up-reject") and arg == str(self.status))
                or (name == "not-yet" and self.status == 404)
                or (name == "credits" and self.status in (401, 402, 403))
                or (name == "flaky" and self.status == 503)
                or name in ("disconnect", "garbage", "bad-scenario")
            ):
                return True
        return False

    @property
    def failed(self) -> bool:
        """A server-side failure the client should back off from: 5xx, dropped connection or garbage body."""
        dropped = any(t in ("dropped", "disconnect") for t in self.tags)
        return self.status is None or self.status >= 500 or self.malformed or dropped

    @property
    def throttled(self) -> bool:
        """An answer that asked the client to slow down (429, or 503 with Retry-After)."""
        return self.status == 429 or (self.status == 503 and self.retry_after is not None)

    @property
    def line(self) -> str:
        """``GET /api/v1/...``."""
        return f"{self.method} {self.path}"

    def request_json(self) -> Any:
        """The request body parsed as JSON, or None."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ClientViolation:
    """One way the client broke the contract.

    Attributes:
        check: the name of the check that found it, e.g. ``poll-rate``.
        message: what the client did, when, and how to fix it.
        seqs: journal sequence numbers of the requests involved (first few).
        message_id: the job concerned, if one.
    """

    check: str
    message: str
    seqs: tuple[int, ...] = ()
    message_id: str | None = None

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


@dataclass(frozen=True, slots=True)
class ClientRules:
    """The limits the checks hold a client to.

    Attributes:
        max_polls_per_second: documented limit of the message endpoint (10/s, ImaginePro "System Design").
        min_poll_interval: courtesy gap between two polls of one job, seconds (0 turns it off).
        min_backoff: smallest acceptable wait before retrying after a 5xx, a dropped connection or a garbage body.
        slack: measurement tolerance for every time comparison, seconds.
        max_unchanged_polls: polls of a job whose status and progress did not change before it counts as endless.
        job_timeout_grace: seconds past a job's own `timeout` a client may still poll it.
        documented: the contract's routes as (operationId, METHOD, path template); empty: only the operation ids
            the mock journaled decide what is documented.
    """

    max_polls_per_second: float = 10.0
    min_poll_interval: float = field(
        default=1.0,
        metadata=option(
            "Courtesy gap between two polls of one job (0: off). The documented 10/s limit always applies.",
            metavar="SECONDS",
            minimum=0,
        ),
    )
    min_backoff: float = field(
        default=0.2,
        metadata=option(
            "Smallest wait before retrying after a 5xx, a dropped connection or a garbled answer.",
            metavar="SECONDS",
            minimum=0,
        ),
    )
    slack: float = 0.05
    max_unchanged_polls: int = field(
        default=60,
        metadata=option(
            "Polls of a job that shows no progress before it counts as endless polling.", metavar="N", minimum=1
        ),
    )
    job_timeout_grace: float = 30.0
    documented: tuple[Route, ...] = ()


@functools.lru_cache(maxsize=64)
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


def match_route(routes: Iterable[Route], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The documented operation a request line belongs to, with its path parameters; None if undocumented."""
    for operation_id, route_method, template in routes:
        found = _template_regex(template).match(path) if route_method == method else None
        if found is not None:
            return operation_id, found.groupdict()
    return None
