"""The job budget: how many jobs a check run may make a server create.

Against a paid API every created job costs credits, so ``flux-mock check`` sends a
job-creating request (any ``x-mock-kind: create`` operation) only while the budget has room, and counts a
job as created when the server answers 2xx. Requests are held back rather than sent and
regretted, so the number of jobs a correct server creates never exceeds the limit; a server
that wrongly accepts an invalid body spends budget too, which is why invalid bodies are only sent
while there is room.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from contracts.core.schema import contract


def job_creating_operations() -> dict[str, str]:
    """``"METHOD /path"`` -> operationId of every operation that creates a job, in document order.

    Derived from the spec's one classification, ``x-mock-kind: create:<kind>`` (the mock reads the same).
    """
    return {f"{op.method} {op.path}": op.operation_id for op in contract().by_role("create")}


@dataclass
class JobBudget:
    """A thread-safe cap on created jobs (`limit` None: no cap, but still counted).

    `reserve()` before sending a job-creating request and `settle(created)` after it, or, for a
    strictly sequential sender, `has_room()` before and `record(created)` after.
    """

    limit: int | None
    created: int = 0
    held_back: int = 0  # job-creating requests not sent because the budget was spent
    _pending: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"max jobs must be 0 or more, got {self.limit}.")

    def has_room(self) -> bool:
        """True when one more job may be created; counts a held-back request otherwise."""
        with self._lock:
            if self.limit is None or self.created + self._pending < self.limit:
                return True
            self.held_back += 1
            return False

    def reserve(self) -> bool:
        """Claim room for one job before sending; False (and counted as held back) when spent."""
        with self._lock:
            if self.limit is not None and self.created + self._pending >= self.limit:
                self.held_back += 1
                return False
            self._pending += 1
            return True

    def hold_back(self) -> None:
        """Count a job-creating request not sent to keep room for later ones (a lower-priority lifecycle job)."""
        with self._lock:
            self.held_back += 1

    def settle(self, created: bool) -> None:
        """Release a reservation, counting the job if the server created one."""
        with self._lock:
            self._pending -= 1
            self.created += int(created)

    def record(self, created: bool) -> None:
        """Count a job created by a request sent after `has_room()`."""
        with self._lock:
            self.created += int(created)

    @property
    def remaining(self) -> int | None:
        """Jobs still allowed (None: no cap)."""
        return None if self.limit is None else max(0, self.limit - self.created - self._pending)

    def describe(self) -> str:
        """E.g. "3 of 3 jobs created; 12 job-creating requests held back"."""
        cap = "no cap" if self.limit is None else f"{self.limit}"
        text = f"{self.created} job(s) created (max {cap})"
        if self.held_back:
            text += f"; {self.held_back} job-creating request(s) held back to stay within --max-jobs"
        return text
