"""Jobs and the in-memory store: seeded ids and a per-account FIFO queue.

The store decides each job's `Plan` at submission (see lifecycle.py). QUEUED is real:
every account (API key) has `concurrency` slots, and a new job starts when the
earliest slot frees up, first come first served.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mock_server.contract.errors import JobNotFound
from mock_server.contract.spec import job_timeout
from mock_server.domain import lifecycle
from mock_server.domain.clock import Clock
from mock_server.domain.lifecycle import JobStatus, Plan, Snapshot

JobKind = str  # a name in kinds.KINDS (imagine, upscale, mj-imagine, button, ...)
Media = Literal["image", "grid", "cutout", "video", "text"]


@dataclass(slots=True)
class Job:
    """One generation job. Everything a Message needs, and nothing of the raw request."""

    message_id: str
    kind: JobKind
    account: str
    plan: Plan
    seq: int = 0  # arrival number (1, 2, ...): the id's source and the jobs listing's cursor
    prompt: str | None = None
    ref: str | None = None
    n: int = 1
    width: int = 1024
    height: int = 1024
    fmt: str = "png"
    quality: int = 100
    timeout: int = field(default_factory=lambda: job_timeout().default)
    webhook_url: str | None = None
    webhook_fault: str | None = None  # X-Mock-Webhook header value (validated), for the webhook service
    scenario: str | None = None
    # What a DONE job shows (the job-kind table decides): image(s), a 2x2 grid, a cut-out PNG, videos or text.
    media: Media = "image"
    buttons: tuple[str, ...] = ()  # offered when DONE (Midjourney)
    origin: str | None = None  # originatingMessageId: the message whose button made this job
    button: str | None = None  # the button that made it
    content: tuple[str, ...] | None = None  # describe prompts or a command's result, when DONE
    # Whose drawing the images are: (messageId, index). An upscale shows quadrant i of the grid it came from.
    art: tuple[str, int] | None = None
    forced: Snapshot | None = None  # set by the admin API; wins over the plan
    version: int = 0  # how often its state was forced or released (a shared store re-plans its webhooks by it)
    timing: Timing | None = None  # the knobs the job was planned with (scenarios read not_found_for etc.)
    # The serialised Message once the planned state is terminal: a pure function of the plan, which never
    # changes, so it is rendered once (GET's hottest case is polling a finished job). Unused while forced.
    final_body: bytes | None = None

    def snapshot(self, now: float) -> Snapshot:
        """The job's state at `now`."""
        return self.forced if self.forced is not None else lifecycle.snapshot(self.plan, now)


_GIVEN = ("message_id", "account", "plan", "seq", "timing")  # assemble_job's own arguments


def _assembler() -> Callable[[str, str, Plan, int, Timing | None, Mapping[str, Any]], Job]:
    # Job(message_id, account=..., plan=..., seq=..., timing=..., **fields) matches every keyword against 25
    # parameters and builds a dict for them: ~0.5 µs of a create. This function, written from Job's own fields,
    # sets each slot from `fields` or its default instead.
    names: dict[str, Any] = {"new": object.__new__, "Job": Job}
    lines = [f"def assemble({', '.join(_GIVEN)}, fields):", "    job = new(Job)"]
    for spec in dataclasses.fields(Job):
        name = spec.name
        if name in _GIVEN:
            value = name
        elif spec.default is not dataclasses.MISSING:
            names[f"D_{name}"] = spec.default
            value = f"fields.get({name!r}, D_{name})"
        elif spec.default_factory is not dataclasses.MISSING:
            names[f"F_{name}"] = spec.default_factory
            value = f"fields[{name!r}] if {name!r} in fields else F_{name}()"
        else:
            value = f"fields[{name!r}]"
        lines.append(f"    job.{name} = {value}")
    lines.append("    return job")
    exec(compile("\n".join(lines) + "\n", "<flux-mock job assembly>", "exec"), names)  # the code written above
    assemble: Callable[[str, str, Plan, int, Timing | None, Mapping[str, Any]], Job] = names["assemble"]
    return assemble


assemble_job = _assembler()
"""`Job(message_id, account=account, plan=plan, seq=seq, timing=timing, **fields)`, faster; keys of `fields` that
are not Job fields are ignored, and a missing ``kind`` raises KeyError."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-job knobs a scenario may change (defaults: a plain successful job)."""

    duration: float
    queued_extra: float = 0.0
    fail_at: int | None = None
    error: str | None = None
    stall_at: int | None = None
    honour_timeout: bool = True
    not_found_for: float = 0.0  # progress answers 404 for this many seconds after creation (not-yet)
    queued_status: str | None = None  # shown instead of QUEUED, e.g. "SUBMITTED" (status-variant)
    flaky_every: int | None = None  # every k-th progress poll answers 503 (flaky)


JobListener = Callable[[Job], None]


# The UUID variant digit for each hex digit the hash has there (8, 9, a or b): a lookup, not int(.., 16) per id.
_VARIANT = {digit: "89ab"[int(digit, 16) % 4] for digit in "0123456789abcdef"}


class IdGenerator:
    """UUID4 strings from a seed and an arrival number: the same seed gives the same ids, in arrival order.

    The n-th id is a pure function of (seed, n), so a shared store that numbers arrivals fleet-wide (one
    counter) hands out the same ids as one process does.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.key = id_key(seed)
        self._hashed_key = hashlib.sha1(self.key.encode(), usedforsecurity=False)  # copied per id: key hashed once
        self.count = 0  # ids handed out so far

    def nth(self, n: int) -> str:
        """The id of arrival number `n` (1-based): SHA-1 of (key, n) as a UUID4 (the Redis store's script does
        the same with ``redis.sha1hex``, so it can create a job in one step)."""
        hasher = self._hashed_key.copy()
        hasher.update(b"%d" % n)
        h = hasher.hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"

    def __call__(self) -> str:
        self.count += 1
        return self.nth(self.count)


def id_key(seed: int) -> str:
    """What each id of a seed is hashed from, before the arrival number."""
    return f"flux-mock-ids:{seed}:"


def next_slot(slots: list[float], concurrency: int, now: float) -> float:
    """When an account's next concurrency slot frees up, given when each busy slot does (a min-heap, or sorted).

    `slots` holds at most `concurrency` instants; ended ones are simply the smallest. Both stores use this.
    """
    return max(now, slots[0]) if len(slots) >= concurrency else now


@dataclass(frozen=True, slots=True)
class JobPage:
    """One page of jobs, oldest first: `after` the cursor of the next page (None: this is the last one)."""

    jobs: list[Job]
    after: int | None
    total: int


@dataclass(slots=True)
class _Account:
    slots: list[float] = field(default_factory=list)  # min-heap of the times each busy slot frees up


# A store over its cap forgets this share of the cap at once (1 %, at least one job): the store never holds more
# than `max_jobs`, and at the cap it evicts once per `batch` creates instead of on every create.
EVICTION_BATCH = 0.01


def eviction_batch(max_jobs: int) -> int:
    """How many jobs below its cap a full store drops to: ``max_jobs // 100`` (0 under 100 jobs)."""
    return int(max_jobs * EVICTION_BATCH)


class JobStore:
    """All jobs of one mock server, in memory, bounded: each is forgotten `ttl` seconds (mock time) after its
    creation, and past `max_jobs` the oldest go first: down to `max_jobs - eviction_batch(max_jobs)`, so it
    holds between that and `max_jobs` once full.

    With a shared store it is this worker's cache: jobs made elsewhere are `adopt`ed when first read.
    """

    def __init__(
        self, clock: Clock, *, seed: int = 0, concurrency: int = 4, ttl: float = math.inf, max_jobs: int = 10**9
    ) -> None:
        self.clock = clock
        self.concurrency = concurrency
        self.ttl = ttl
        self.max_jobs = max_jobs
        self._low_water = max_jobs - eviction_batch(max_jobs)
        self._seed = seed
        self.ids = IdGenerator(seed)
        self._jobs: dict[str, Job] = {}
        # Arrival order, oldest first, for eviction: the front of a dict that keeps losing its first entries takes
        # longer and longer to find (deleted slots are skipped one by one), a deque's does not.
        self._order: deque[Job] = deque()
        self._accounts: dict[str, _Account] = {}
        self.evicted = 0  # jobs forgotten by the TTL or the cap
        # Called with the job after it is created or its state is forced (e.g. the webhook service plans its events).
        self.listeners: list[JobListener] = []

    def submit(
        self, *, kind: JobKind, account: str, timeout: int, timing: Timing, progress_step: int = 1, **fields: object
    ) -> Job:
        """`create` with the fields as keywords (tests and scripts)."""
        return self.create(account, timing, {"kind": kind, "timeout": timeout, **fields}, progress_step)

    def create(self, account: str, timing: Timing, fields: Mapping[str, Any], progress_step: int = 1) -> Job:
        """Create a job now from its fields (``kind``, ``timeout``, ...), queue it behind the account's running
        jobs, and return it."""
        now = self.clock.now()
        acct = self._accounts.get(account)
        if acct is None:
            self._forget_idle_accounts(now)
            acct = self._accounts[account] = _Account()
        slots = acct.slots
        job_plan = plan_job(now, next_slot(slots, self.concurrency, now), fields["timeout"], timing, progress_step)
        if len(slots) >= self.concurrency:
            heapq.heapreplace(slots, job_plan.ends_at)
        else:
            heapq.heappush(slots, job_plan.ends_at)
        seq = self.ids.count + 1
        job = assemble_job(self.ids(), account, job_plan, seq, timing, fields)
        self.adopt(job, now)
        self._notify(job)
        return job

    def adopt(self, job: Job, now: float | None = None) -> None:
        """Keep a job made elsewhere (a shared store's, read through this cache), evicting as `submit` does."""
        self._jobs[job.message_id] = job
        self._order.append(job)
        self._evict(self.clock.now() if now is None else now)

    def _evict(self, now: float) -> None:
        jobs, order = self._jobs, self._order
        keep = self._low_water if len(jobs) > self.max_jobs else self.max_jobs
        while order:
            oldest = order[0]
            if jobs.get(oldest.message_id) is not oldest:  # discarded, or kept again since: a stale entry
                order.popleft()
                continue
            if len(jobs) <= keep and oldest.plan.created_at + self.ttl > now:
                return
            order.popleft()
            del jobs[oldest.message_id]
            self.evicted += 1

    def _forget_idle_accounts(self, now: float) -> None:
        # Accounts whose every slot has ended hold nothing worth keeping; forget them before a flood of keys grows this.
        if len(self._accounts) >= _MAX_ACCOUNTS:
            for key in [k for k, a in self._accounts.items() if not a.slots or max(a.slots) <= now]:
                del self._accounts[key]

    def get(self, message_id: str) -> Job:
        """The job with this id; JobNotFound otherwise (also once it expired)."""
        job = self.find(message_id)
        if job is None:
            raise JobNotFound(f"Message {message_id} not found")
        return job

    def find(self, message_id: str) -> Job | None:
        """The job with this id, or None (also once it expired)."""
        job = self._jobs.get(message_id)
        if job is not None and job.plan.created_at + self.ttl <= self.clock.now():
            self._evict(self.clock.now())
            return None
        return job

    def force(self, message_id: str, status: JobStatus, progress: int, error: str | None = None) -> Job:
        """Pin a job's visible state (admin API); the plan is kept but no longer consulted."""
        job = self.get(message_id)
        job.forced = Snapshot(status, progress, self.clock.now(), error)
        job.version += 1
        self._notify(job)
        return job

    def release(self, message_id: str) -> Job:
        """Undo `force`: the job follows its plan again (listeners hear about it, as for `force`)."""
        job = self.get(message_id)
        job.forced = None
        job.version += 1
        self._notify(job)
        return job

    def discard(self, message_id: str) -> None:
        """Drop a cached job (a shared store's copy changed; the next read fetches it again)."""
        self._jobs.pop(message_id, None)

    def page(self, after: int = 0, limit: int = 100) -> JobPage:
        """Live jobs with arrival number above `after`, oldest first, at most `limit`."""
        self._evict(self.clock.now())
        found: list[Job] = []
        for job in self._jobs.values():
            if job.seq > after:
                if len(found) == limit:
                    return JobPage(found, found[-1].seq, len(self._jobs))
                found.append(job)
        return JobPage(found, None, len(self._jobs))

    def announce(self, job: Job) -> None:
        """Tell the listeners of a job created elsewhere (a shared store's `submit`), as `submit` does."""
        self._notify(job)

    def _notify(self, job: Job) -> None:
        for listener in self.listeners:
            listener(job)

    def __iter__(self) -> Iterator[Job]:
        self._evict(self.clock.now())
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def clear(self) -> None:
        """Forget every job and restart the id sequence (same seed, same ids again)."""
        self._jobs.clear()
        self._order.clear()
        self._accounts.clear()
        self.ids = IdGenerator(self._seed)


_MAX_ACCOUNTS = 10_000  # accounts with slot state; past this, idle ones are forgotten


def plan_job(now: float, slot_free_at: float, timeout: int, timing: Timing, progress_step: int) -> Plan:
    """A job's `Plan` from its `Timing`, given when its account's slot frees up (both stores call this)."""
    # Positional: ten keywords cost ~1 µs on every create.
    t = timing
    return lifecycle.plan(
        now, slot_free_at, t.duration, timeout, t.queued_extra, t.fail_at, t.error, t.stall_at, t.honour_timeout,
        progress_step,
    )  # fmt: skip
