"""Named checks of a client's behaviour, judged from what the mock saw (pure: no I/O, no clock).

Input is a list of `Exchange`s: one per request the client sent, built from the mock's request
journal plus what the mock answered (job status, Retry-After). Each check returns
`ClientViolation`s whose message says what the client did, when, and what to do instead.

    run_checks(exchanges, ClientRules(min_poll_interval=0.5))  ->  [ClientViolation, ...]

Times in messages are relative to the first request (``t+1.20 s``).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contracts.core.schema import contract, is_poll_path
from contracts.verify.conduct import CREATE_OPERATIONS as CREATE_OPERATIONS
from contracts.verify.conduct import POLL_OPERATIONS as POLL_OPERATIONS
from contracts.verify.conduct import ClientRules as ClientRules
from contracts.verify.conduct import ClientViolation as ClientViolation
from contracts.verify.conduct import Exchange as Exchange
from contracts.verify.conduct import Route as Route
from contracts.verify.conduct import match_route as match_route

TERMINAL = frozenset({"DONE", "FAIL"})
# Status codes that mean "the request itself broke the contract" (404 is left out: not-yet-registered ids are normal).
_CLIENT_ERRORS = frozenset({400, 401, 405, 413, 415})
Check = Callable[[Sequence[Exchange], ClientRules], list[ClientViolation]]
CLIENT_CHECKS: dict[str, Check] = {}


def client_check(name: str) -> Callable[[Check], Check]:
    """Register a check under `name` (names are unique)."""

    def register(func: Check) -> Check:
        if name in CLIENT_CHECKS:
            raise ValueError(f"A client check named {name!r} is already registered.")
        CLIENT_CHECKS[name] = func
        return func

    return register


def run_checks(
    exchanges: Iterable[Exchange], rules: ClientRules | None = None, *, names: Iterable[str] | None = None
) -> list[ClientViolation]:
    """Run the named checks (default: all) over `exchanges`; violations in check order, then time order."""
    ordered = sorted(exchanges, key=lambda e: e.seq)
    rules = rules or ClientRules()
    selected = list(CLIENT_CHECKS) if names is None else list(names)
    unknown = [n for n in selected if n not in CLIENT_CHECKS]
    if unknown:
        raise ValueError(f"Unknown client check {unknown[0]!r}; known: {', '.join(CLIENT_CHECKS)}.")
    return [v for name in selected for v in CLIENT_CHECKS[name](ordered, rules)]


def _rel(at: float, exchanges: Sequence[Exchange]) -> str:
    start = exchanges[0].at if exchanges else at
    return f"t+{at - start:.2f} s"


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _by_job(exchanges: Iterable[Exchange]) -> dict[str, list[Exchange]]:
    jobs: dict[str, list[Exchange]] = {}
    for e in exchanges:
        if e.is_poll and e.message_id:
            jobs.setdefault(e.message_id, []).append(e)
    return jobs


def _next_same(exchanges: Sequence[Exchange], index: int) -> Exchange | None:
    """The next request with the same method and path: the client's retry of exchanges[index]."""
    first = exchanges[index]
    return next((e for e in exchanges[index + 1 :] if e.method == first.method and e.path == first.path), None)


# Refusals of a valid-looking request by what it points at: an unknown message (404), the message's state or
# buttons (409), the account's plan (403), anything else a 4xx says. 429 is pacing (retry-after, poll-rate).
_REFUSAL_FIXES = {
    403: (
        "the account's plan does not allow this endpoint",
        "call only the endpoints your plan includes (Midjourney commands need a DIY plan)",
    ),
    404: (
        "the message is unknown for this key (never returned by a create, or another key's)",
        "poll and press only messageIds a create answered with this key",
    ),
    409: (
        "the target message's state refused it (not DONE yet, a button it does not offer, Cancel Job on a job "
        "that has ended, an extend index it does not have)",
        "poll the message until it is DONE, then press only a button it lists in `buttons` (exactly), or extend "
        "an index from its `results`",
    ),
}


@client_check("request-schema")
def request_schema(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Requests the contract rejects: schema violations, missing auth, wrong Content-Type, oversize bodies."""
    out = []
    for e in exchanges:
        if e.injected or not (e.violations or e.status in _CLIENT_ERRORS) or e.status in _REFUSAL_FIXES:
            continue  # what a request pointed at refused (404, 409, 403) is the refused-request check's
        if e.operation_id is None and not e.violations and e.status != 401:
            continue  # unknown paths and methods are the undocumented-endpoint check's business
        if e.violations:
            what = "; ".join(e.violations)
        elif e.status == 401:
            what = "no valid `Authorization: Bearer <key>` header (401); send the key from IMAGINEPRO_API_KEY"
        elif e.status == 415:
            what = "the body was not sent as application/json (415)"
        elif e.status == 413:
            what = "the body was over the size limit (413)"
        else:
            what = f"the mock answered {e.status}"
        sent = f"; sent {e.body[:200]}" if e.body else ""
        out.append(
            ClientViolation(
                "request-schema",
                f"{e.line} at {_rel(e.at, exchanges)} broke the contract: {what}{sent}.",
                (e.seq,),
                e.message_id,
            )
        )
    return out


@client_check("refused-request")
def refused_request(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Every request the mock refused (a 4xx other than 429) that no scenario provoked, with its reason and fix.

    `request-schema` already reports bodies, keys and media types the contract rejects (400, 401, 413, 415);
    this reports the rest: what a request pointed at refused it (404, 409, 403, 422...).
    """
    out = []
    for e in exchanges:
        status = e.status
        if status is None or not 400 <= status < 500 or status == 429 or status in _CLIENT_ERRORS or e.injected:
            continue
        if e.operation_id is None:
            continue  # unknown paths and methods are the undocumented-endpoint check's business
        reason, fix = _REFUSAL_FIXES.get(
            status, (f"the mock refused it with {status}", "send what the contract documents for this operation")
        )
        if e.violations:
            reason = "; ".join(e.violations)
        sent = f"; sent {e.body[:200]}" if e.body else ""
        out.append(
            ClientViolation(
                "refused-request",
                f"{e.line} at {_rel(e.at, exchanges)} was refused with {status}: {reason}{sent}. Fix: {fix}.",
                (e.seq,),
                e.message_id,
            )
        )
    return out


@client_check("poll-rate")
def poll_rate(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """More polls of the message endpoint in any one-second window than the documented 10/s."""
    polls = [e for e in exchanges if e.is_poll or _is_poll_path(e)]
    limit = rules.max_polls_per_second
    worst, worst_at = 0, 0.0
    worst_seqs: tuple[int, ...] = ()
    j = 0
    for i, e in enumerate(polls):
        # Window [e.at, e.at + 1 s): j is the first poll outside it.
        j = max(j, i)
        while j < len(polls) and polls[j].at < e.at + 1.0:
            j += 1
        if j - i > worst:
            worst, worst_at, worst_seqs = j - i, e.at, tuple(p.seq for p in polls[i:j][:5])
    if worst <= limit:
        return []
    message = (
        f"sent {worst} polls to the message endpoint within 1 s from {_rel(worst_at, exchanges)}; the documented "
        f"limit is {limit:g}/s. Sleep between polls (the official SDKs wait 2 s)."
    )
    return [ClientViolation("poll-rate", message, worst_seqs)]


def _is_poll_path(e: Exchange) -> bool:
    # A poll the router refused before the endpoint named it (e.g. a 401) still counts towards the rate.
    return e.operation_id is None and e.method == "GET" and is_poll_path(e.path)


@client_check("poll-interval")
def poll_interval(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Polls of one job closer together than the courtesy interval (retries after errors are judged elsewhere)."""
    if rules.min_poll_interval <= 0:
        return []
    out = []
    for message_id, polls in _by_job(exchanges).items():
        gaps = [
            (later.at - earlier.at, later)
            for earlier, later in itertools.pairwise(polls)
            if not (earlier.failed or earlier.throttled or earlier.status == 404)
        ]
        short = [(gap, e) for gap, e in gaps if gap < rules.min_poll_interval - rules.slack]
        if not short:
            continue
        message = (
            f"polled job {message_id} {len(short)} time(s) less than {rules.min_poll_interval:g} s after the previous "
            f"poll (shortest gap {min(g for g, _ in short):.3f} s, "
            f"median {statistics.median(g for g, _ in gaps):.3f} s); "
            f"wait at least {rules.min_poll_interval:g} s between polls."
        )
        out.append(ClientViolation("poll-interval", message, tuple(e.seq for _, e in short[:5]), message_id))
    return out


@client_check("poll-after-terminal")
def poll_after_terminal(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Polls of a job after an answer already showed it DONE or FAIL."""
    out = []
    for message_id, polls in _by_job(exchanges).items():
        final = next((e for e in polls if e.job_status in TERMINAL), None)
        if final is None:
            continue
        extra = [e for e in polls if e.seq > final.seq]
        if extra:
            message = (
                f"kept polling job {message_id} {len(extra)} more time(s) after it was {final.job_status} at "
                f"{_rel(final.at, exchanges)}; DONE and FAIL are final, stop polling when you see either."
            )
            out.append(ClientViolation("poll-after-terminal", message, tuple(e.seq for e in extra[:5]), message_id))
    return out


@client_check("job-never-polled")
def job_never_polled(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Jobs the client created but never asked about (unless it asked for a webhook instead)."""
    polled = {e.message_id for e in exchanges if e.is_poll}
    out = []
    for e in exchanges:
        if not (e.is_create and e.status == 200 and e.message_id) or e.message_id in polled or e.malformed:
            continue  # (a garbled answer never told the client the id)
        if e.job is not None and e.job.get("webhook_url"):
            continue
        message = (
            f"created job {e.message_id} ({e.line} at {_rel(e.at, exchanges)}) but never fetched its progress; "
            f"poll GET /api/v1/message/fetch/{e.message_id} (the `messageId` of the answer) until DONE or FAIL, "
            "or pass webhookOverride."
        )
        out.append(ClientViolation("job-never-polled", message, (e.seq,), e.message_id))
    return out


@client_check("retry-after")
def retry_after(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Retries sooner than the Retry-After a 429/503 answer asked for."""
    out = []
    for i, e in enumerate(exchanges):
        if not e.throttled or e.retry_after is None:
            continue
        retry = _next_same(exchanges, i)
        if retry is None:
            continue
        gap = retry.at - e.at
        if gap < e.retry_after - rules.slack:
            message = (
                f"retried {e.line} {gap:.3f} s after a {e.status} at {_rel(e.at, exchanges)} that said "
                f"Retry-After: {e.retry_after:g}; wait the Retry-After seconds before sending it again."
            )
            out.append(ClientViolation("retry-after", message, (e.seq, retry.seq), e.message_id))
    return out


@client_check("backoff")
def backoff(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Immediate retries after a 5xx, a dropped connection, a garbage body, or a 429 without Retry-After."""
    out = []
    for i, e in enumerate(exchanges):
        # An answer with Retry-After is the retry-after check's; without one, the client must still wait.
        if not (e.failed or e.status == 429) or e.retry_after is not None:
            continue
        retry = _next_same(exchanges, i)
        if retry is None:
            continue
        gap = retry.at - e.at
        if gap < rules.min_backoff - rules.slack:
            what = (
                "a dropped connection" if e.status is None else ("a garbage answer" if e.malformed else f"a {e.status}")
            )
            message = (
                f"retried {e.line} {gap:.3f} s after {what} at {_rel(e.at, exchanges)}; back off (wait at least "
                f"{rules.min_backoff:g} s, growing with each failure) before retrying."
            )
            out.append(ClientViolation("backoff", message, (e.seq, retry.seq), e.message_id))
    return out


@client_check("endless-polling")
def endless_polling(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Polling a job that makes no progress far too often, or past the job's own timeout."""
    timeouts = _job_timeouts(exchanges)
    out = []
    for message_id, polls in _by_job(exchanges).items():
        answered = [e for e in polls if e.status == 200 and e.job_status is not None]
        run, longest, longest_end = 1, 1, None
        for prev, cur in itertools.pairwise(answered):
            same = (cur.job_status, cur.progress) == (prev.job_status, prev.progress) and cur.job_status not in TERMINAL
            run = run + 1 if same else 1
            if run > longest:
                longest, longest_end = run, cur
        if longest > rules.max_unchanged_polls and longest_end is not None:
            message = (
                f"polled job {message_id} {longest} times while it stayed {longest_end.job_status} at "
                f"{longest_end.progress}% (until {_rel(longest_end.at, exchanges)}); give up after a deadline of your "
                "own (the job's `timeout`) instead of polling a stalled job forever."
            )
            out.append(ClientViolation("endless-polling", message, (longest_end.seq,), message_id))
            continue
        created, timeout = timeouts.get(message_id, (None, float(contract().timeout.default)))
        if created is None:
            continue
        deadline = created + timeout + rules.job_timeout_grace
        late = [e for e in answered if e.at > deadline and e.job_status not in TERMINAL]
        if late:
            message = (
                f"still polled job {message_id} {len(late)} time(s) more than {rules.job_timeout_grace:g} s past its "
                f"{timeout:g} s timeout; stop polling when the job's timeout has passed."
            )
            out.append(ClientViolation("endless-polling", message, tuple(e.seq for e in late[:5]), message_id))
    return out


def _job_timeouts(exchanges: Sequence[Exchange]) -> dict[str, tuple[float, float]]:
    return {
        e.message_id: (e.at, job_timeout(e.job)) for e in exchanges if e.is_create and e.status == 200 and e.message_id
    }


def job_timeout(job: Mapping[str, Any] | None) -> float:
    """The `timeout` the mock gave a job (the journal's ``job`` fields), or the contract's default.

    Never read from the request body: the journal keeps only its first 4,096 bytes, so a long prompt hides it.
    """
    value = job.get("timeout") if job is not None else None
    return (
        float(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else float(contract().timeout.default)
    )


@client_check("undocumented-endpoint")
def undocumented_endpoint(exchanges: Sequence[Exchange], rules: ClientRules) -> list[ClientViolation]:
    """Requests to paths or methods the contract does not document (image URLs the API handed out are fine)."""
    handed_out = {urlsplit(url).path for e in exchanges for url in e.image_urls}
    out = []
    for e in exchanges:
        if e.operation_id is not None or e.injected:
            continue
        if e.method in ("GET", "HEAD") and e.path in handed_out:
            continue
        if match_route(rules.documented, e.method, e.path) is not None:
            continue  # documented, but refused before an endpoint named it (e.g. 401): not this check's business
        known = ", ".join(f"{m} {p}" for _, m, p in rules.documented) or "see openapi.yaml"
        message = (
            f"called {e.line} at {_rel(e.at, exchanges)} (answered {e.status}), which the contract does not "
            f"document; documented: {known}."
        )
        out.append(ClientViolation("undocumented-endpoint", message, (e.seq,), e.message_id))
    return out


def summarise(violations: Iterable[ClientViolation]) -> dict[str, int]:
    """Violation counts per check name."""
    counts: dict[str, int] = {}
    for v in violations:
        counts[v.check] = counts.get(v.check, 0) + 1
    return counts


@dataclass(frozen=True, slots=True)
class PollStats:
    """Poll figures of one run, for the report table."""

    polls: int = 0
    jobs: int = 0
    min_gap: float | None = None


def poll_stats(exchanges: Sequence[Exchange]) -> PollStats:
    """How many polls, of how many jobs, and the shortest gap between two polls of one job."""
    jobs = _by_job(exchanges)
    gaps = tuple(b.at - a.at for polls in jobs.values() for a, b in itertools.pairwise(polls))
    return PollStats(sum(len(p) for p in jobs.values()), len(jobs), min(gaps) if gaps else None)
