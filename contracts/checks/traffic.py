"""`Traffic`: the contract kit's checks applied to a sequence of exchanges, live or recorded.

``flux-mock proxy`` applies it to live traffic (`contracts.proxy.watch.LifecycleWatch`) and ``flux-mock drift`` to
a recording's exchanges, so a recording is judged by the same rules the proxy applies. Beyond each answer's schema
(the proxy's validators, drift's schema findings, so a broken field is reported once) it checks each job's polls
on both paths (status only forward, progress never decreasing, timestamps, DONE has n images and
``uri == images[0]``, both paths agree once final, the job ends within its timeout), and what an answer means
for the request that caused it (an invalid body or a missing key accepted, a 5xx to a valid request, a 404 for a
job the upstream just created, an error body that is not NestJS-shaped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import checks
from contracts.checks.refusals import UNLIMITED
from contracts.core.failures import ContractFailure
from mock_server import ProxiedExchange, load_spec

FINAL = ("DONE", "FAIL")
GRACE_S = 15.0  # as flux-mock check: a job may end this long after its timeout before it counts as never finishing


@dataclass
class _Job:
    created_at: float
    n: int | None
    ref: str | None
    timeout: float | None
    history: list[dict[str, Any]] = field(default_factory=list)
    final_by_path: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)  # once-per-job checks already reported
    kind: str | None = None  # x-mock-kind create:<kind> of the operation that made it (None: Flux imagine)
    origin: str | None = None  # a follow-up's target messageId (buttons, video extend)


def _kind_of(operation_id: str | None) -> str | None:
    """The job kind an operation creates, from the spec's x-mock-kind (None: not a create, or unknown)."""
    if operation_id is None:
        return None
    op = load_spec().operations.get(operation_id)
    return op.job_kind if op is not None else None


class Traffic:
    """The contract's rules over a sequence of exchanges: give it each exchange, in order, to `failures`.

    Example:
        traffic = Traffic()
        found = [f for exchange in exchanges for f in traffic.failures(exchange)]
    """

    def __init__(self, *, grace_s: float = GRACE_S, max_jobs: int = 10_000) -> None:
        self.grace_s = grace_s
        self.max_jobs = max_jobs  # bounded memory on a long session: the oldest jobs are forgotten first
        self.jobs: dict[str, _Job] = {}
        # account-info's last balance, and the documented cost of the jobs created since (None: unknown cost).
        self._balance: int | None = None
        self._cost_since: int | None = 0

    def failures(self, ex: ProxiedExchange) -> list[ContractFailure]:
        """The rules the upstream broke in this exchange, given the ones before it (empty when it kept them)."""
        operation = f"{ex.method} {ex.path}"
        found: list[ContractFailure] = []
        body = ex.response_body
        if ex.status >= 400 and ex.role != "download" and ex.content_type.startswith("application/json"):
            found += checks.error_has_nestjs_shape(ex.status, body, operation=operation)
        found += self._against_request(ex, operation)
        found += self._button_turn(ex, operation)
        found += self._credits(ex, operation)
        if ex.role == "create" and ex.status == 200 and isinstance(body, dict):
            found += self._created(ex, body, operation)
        elif ex.role == "poll" and ex.message_id is not None:
            found += self._polled(ex, ex.message_id)
        elif ex.role == "download":
            found += self._downloaded(ex)
        return found

    def _button_turn(self, ex: ProxiedExchange, operation: str) -> list[ContractFailure]:
        """A button pressed on a job last seen not DONE must be refused (409), as the contract says."""
        sent = ex.request_body if isinstance(ex.request_body, dict) else {}
        if _kind_of(ex.operation_id) != "button" or sent.get("button") == "Cancel Job" or ex.status >= 500:
            return []
        target = self.jobs.get(str(sent.get("messageId")))
        last = target.history[-1].get("status") if target is not None and target.history else None
        if not isinstance(last, str) or last == "DONE" or ex.status in (400, 401, 404, 429):
            return []
        return checks.button_refused(ex.status, ex.response_body, status=last, operation=operation)

    def _credits(self, ex: ProxiedExchange, operation: str) -> list[ContractFailure]:
        """Across jobs with a documented price (openapi.yaml's x-credits, not x-inferred), account-info's balance
        falls by their cost; a job priced only by the mock's choice makes the next difference unknown."""
        if ex.role == "create" and ex.status == 200:
            sent = ex.request_body if isinstance(ex.request_body, dict) else {}
            price = load_spec().price(ex.operation_id) if ex.operation_id in load_spec().operations else None
            documented = price is not None and price.inferred is None
            cost = price.of(sent) if price is not None and documented else None
            self._cost_since = None if self._cost_since is None or cost is None else self._cost_since + cost
            return []
        body = ex.response_body
        if ex.operation_id != "accountInfo" or ex.status != 200 or not isinstance(body, dict):
            return []
        after = body.get("credits")
        before, cost = self._balance, self._cost_since
        self._balance, self._cost_since = (after if isinstance(after, int) else None), 0
        if before is None or cost is None or cost == 0 or before >= UNLIMITED:
            return []
        return checks.credits_match_charges(
            before, after if isinstance(after, int) else None, cost, operation=operation
        )

    def _against_request(self, ex: ProxiedExchange, operation: str) -> list[ContractFailure]:
        if ex.role not in ("create", "poll", "read"):
            return []
        if not ex.had_credentials and ex.status != 401:
            return [
                ContractFailure(
                    "error_status",
                    f"a request without credentials got {ex.status}; it must answer 401",
                    operation,
                    "/Authorization",
                    401,
                    ex.status,
                )
            ]
        if ex.request_violations and ex.status < 300:
            v = ex.request_violations[0]
            field_name = v.pointer.rsplit("/", 1)[-1] or v.location
            return checks.rejection_names_field(
                ex.status, ex.response_body, rule=v.rule, field=field_name, operation=operation
            )
        if not ex.request_violations and ex.status >= 500:
            return [
                ContractFailure(
                    "not_a_server_error",
                    f"a valid request got {ex.status}; a server error is never the answer to a valid request",
                    operation,
                    "",
                    "a 2xx or a documented 4xx",
                    ex.status,
                )
            ]
        return []

    def _created(self, ex: ProxiedExchange, body: dict[str, Any], operation: str) -> list[ContractFailure]:
        found = checks.create_succeeded(body, operation=operation)
        message_id = body.get("messageId")
        sent = ex.request_body if isinstance(ex.request_body, dict) else {}
        if isinstance(message_id, str):
            if len(self.jobs) >= self.max_jobs:
                self.jobs.pop(next(iter(self.jobs)))
            n, ref, timeout = sent.get("n"), sent.get("ref"), sent.get("timeout")
            kind = _kind_of(ex.operation_id)
            target = sent.get("messageId") if kind in ("button", "video-extend") else None
            if kind == "button" and sent.get("button") == "Cancel Job":
                return found  # no new job: the answer names the cancelled one
            self.jobs[message_id] = _Job(
                ex.at,
                n if isinstance(n, int) else None,
                ref if isinstance(ref, str) else None,
                float(timeout) if isinstance(timeout, int | float) else None,
                kind=kind,
                origin=target if isinstance(target, str) else None,
            )
        return found

    def _polled(self, ex: ProxiedExchange, message_id: str) -> list[ContractFailure]:
        job = self.jobs.get(message_id)
        body = ex.response_body
        if ex.status == 404 and job is not None:
            return [
                ContractFailure(
                    "fetch_finds_job",
                    "the job the upstream created is not found; fetch must find every messageId it returned",
                    f"{ex.method} {ex.path}",
                    "",
                    200,
                    404,
                    message_id=message_id,
                )
            ]
        if ex.status != 200 or not isinstance(body, dict):
            return []
        if job is None:  # created before the proxy started: judged alone, with what is known
            job = self.jobs[message_id] = _Job(ex.at, None, None, None)
        found = [
            f
            for f in checks.check_message(
                body, n=job.n, message_id=message_id, ref=job.ref, kind=job.kind, origin=job.origin
            )
            if f.check != "matches_schema"
        ]
        if job.history:
            pair = [job.history[-1], body]
            ordered = [
                *checks.status_moves_forward(pair),
                *checks.progress_never_decreases(pair),
                *checks.timestamps_never_go_back(pair),
            ]
            # The checks count polls within the pair they were given; here that is the job's last two polls.
            n = len(job.history)
            where = f"poll {n} and {n + 1}"
            found += [f.with_context(message=f.message.replace("poll 1 and 2", where)) for f in ordered]
        job.history.append(body)
        status = body.get("status")
        if status in FINAL:
            job.final_by_path[ex.operation_id or ex.path] = body
            images = body.get("images")
            if isinstance(images, list):
                job.images.update(u for u in images if isinstance(u, str))
            if len(job.final_by_path) >= 2 and "paths" not in job.reported:
                job.reported.add("paths")
                first, *others = job.final_by_path.values()
                for other in others:
                    found += checks.progress_paths_agree(first, other)
        elif self._overdue(job, ex.at):
            found.append(
                ContractFailure(
                    "finishes_within_timeout",
                    f"the job is still {status} {ex.at - job.created_at:.0f} s after creation; it must end in "
                    f"DONE or FAIL within its timeout ({job.timeout:g} s)",
                    checks.FETCH,
                    "/status",
                    "DONE or FAIL",
                    status,
                    message_id=message_id,
                )
            )
        return [f.with_context(message_id=f.message_id or message_id) for f in found]

    def _overdue(self, job: _Job, at: float) -> bool:
        if job.timeout is None or at <= job.created_at + job.timeout + self.grace_s or "timeout" in job.reported:
            return False
        job.reported.add("timeout")
        return True

    def _downloaded(self, ex: ProxiedExchange) -> list[ContractFailure]:
        listed = any(url.endswith(ex.path) for job in self.jobs.values() for url in job.images)
        if not listed or (ex.status == 200 and ex.content_type.startswith("image/")):
            return []
        return [
            ContractFailure(
                "images_are_fetchable",
                f"image {ex.path} of a DONE job cannot be downloaded (status {ex.status}, "
                f"Content-Type {ex.content_type!r})",
                "GET <image URL>",
                "/images",
                "200 with an image/* Content-Type",
                f"{ex.status} {ex.content_type}",
            )
        ]
