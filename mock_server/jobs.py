"""Jobs and the in-memory store: seeded ids and a per-account FIFO queue.

The store decides each job's `Plan` at submission (see lifecycle.py). QUEUED is real:
every account (API key) has `concurrency` slots, and a new job starts when the
earliest slot frees up, first come first served.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from . import lifecycle
from .clock import Clock
from .errors import JobNotFound
from .lifecycle import JobStatus, Plan, Snapshot

JobKind = str  # a name in kinds.KINDS (imagine, upscale, mj-imagine, button, ...)
Media = Literal["image", "grid", "cutout", "video", "text"]


@dataclass(slots=True)
class Job:
    """One generation job. Everything a Message needs, and nothing of the raw request."""

    message_id: str
    kind: JobKind
    account: str
    plan: Plan
    prompt: str | None = None
    ref: str | None = None
    n: int = 1
    width: int = 1024
    height: int = 1024
    fmt: str = "png"
    quality: int = 100
    timeout: int = 900
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
    timing: Timing | None = None  # the knobs the job was planned with (scenarios read not_found_for etc.)
    # The serialised Message once the planned state is terminal: a pure function of the plan, which never
    # changes, so it is rendered once (GET's hottest case is polling a finished job). Unused while forced.
    final_body: bytes | None = None

    def snapshot(self, now: float) -> Snapshot:
        """The job's state at `now`."""
        return self.forced if self.forced is not None else lifecycle.snapshot(self.plan, now)


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


class IdGenerator:
    """UUID4 strings from a seeded RNG: the same seed gives the same ids, in order."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def __call__(self) -> str:
        # Same value as str(uuid.UUID(int=..., version=4)), without building the UUID object (~2 µs per job).
        value = self._rng.getrandbits(128) & _CLEAR_VERSION_VARIANT | _SET_VERSION_VARIANT
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_CLEAR_VERSION_VARIANT = ~((0xC000 << 48) | (0xF000 << 64))
_SET_VERSION_VARIANT = (0x8000 << 48) | (4 << 76)


@dataclass(slots=True)
class _Account:
    slots: list[float] = field(default_factory=list)  # min-heap of the times each busy slot frees up


class JobStore:
    """All jobs of one mock server, in memory."""

    def __init__(self, clock: Clock, *, seed: int = 0, concurrency: int = 4) -> None:
        self.clock = clock
        self.concurrency = concurrency
        self._seed = seed
        self._ids = IdGenerator(seed)
        self._jobs: dict[str, Job] = {}
        self._accounts: dict[str, _Account] = {}
        # Called with the job after it is created or its state is forced (e.g. the webhook service plans its events).
        self.listeners: list[JobListener] = []

    def submit(
        self, *, kind: JobKind, account: str, timeout: int, timing: Timing, progress_step: int = 1, **fields: object
    ) -> Job:
        """Create a job now, queue it behind the account's running jobs, and return it."""
        now = self.clock.now()
        acct = self._accounts.setdefault(account, _Account())
        slots = acct.slots
        # The heap holds when each occupied slot frees up; ended entries are simply the smallest ones.
        slot_free_at = max(now, slots[0]) if len(slots) >= self.concurrency else now
        job_plan = lifecycle.plan(
            created_at=now,
            slot_free_at=slot_free_at,
            duration=timing.duration,
            timeout=timeout,
            queued_extra=timing.queued_extra,
            fail_at=timing.fail_at,
            error=timing.error,
            stall_at=timing.stall_at,
            honour_timeout=timing.honour_timeout,
            progress_step=progress_step,
        )
        if len(slots) >= self.concurrency:
            heapq.heapreplace(slots, job_plan.ends_at)
        else:
            heapq.heappush(slots, job_plan.ends_at)
        job = Job(
            message_id=self._ids(),
            kind=kind,
            account=account,
            plan=job_plan,
            timeout=timeout,
            timing=timing,
            **fields,  # type: ignore[arg-type]
        )
        self._jobs[job.message_id] = job
        self._notify(job)
        return job

    def get(self, message_id: str) -> Job:
        """The job with this id; JobNotFound otherwise."""
        try:
            return self._jobs[message_id]
        except KeyError:
            raise JobNotFound(f"Message {message_id} not found") from None

    def find(self, message_id: str) -> Job | None:
        """The job with this id, or None."""
        return self._jobs.get(message_id)

    def force(self, message_id: str, status: JobStatus, progress: int, error: str | None = None) -> Job:
        """Pin a job's visible state (admin API); the plan is kept but no longer consulted."""
        job = self.get(message_id)
        job.forced = Snapshot(status, progress, self.clock.now(), error)
        self._notify(job)
        return job

    def release(self, message_id: str) -> Job:
        """Undo `force`: the job follows its plan again (listeners hear about it, as for `force`)."""
        job = self.get(message_id)
        job.forced = None
        self._notify(job)
        return job

    def _notify(self, job: Job) -> None:
        for listener in self.listeners:
            listener(job)

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def clear(self) -> None:
        """Forget every job and restart the id sequence (same seed, same ids again)."""
        self._jobs.clear()
        self._accounts.clear()
        self._ids = IdGenerator(self._seed)
