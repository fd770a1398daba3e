"""Pacing learned from recordings: how long each job kind queued and ran upstream, and drawing from it.

``flux-mock serve --pace-from FILE.har`` gives each new job of a recorded kind the queue time and run time of
one recorded job of that kind, drawn under the seed (the same seed and the same creates draw the same jobs), as
the `Timing` it is planned with; kinds the recording lacks keep ``--job-seconds``. ``flux-mock drift FILE.har``
reports the same figures. Pacing decides when a job ends, never how: a recorded FAIL paces a job that ends DONE
(failures are scenarios).

What a recording shows of one job, in seconds from its create (the recording's arrival times):

- queued: 0 when no poll showed QUEUED, else midway between the last QUEUED poll and the next one;
- to DONE or FAIL: ``updatedAt - createdAt`` of the first final Message (both the upstream's clock, so clock skew
  does not count) when it lies within a second of the polls around the end, else midway between the last poll
  before the end and the first one that saw it;
- progress: the distinct values shown while PROCESSING.
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_server.domain.jobs import Timing
from mock_server.domain.operations import Operations

if TYPE_CHECKING:  # the HAR reader is imported only when a recording is read (--pace-from, drift): not at start
    from mock_server.domain.records.har import HarEntry
    from mock_server.domain.records.history import RecordedJob

_SLACK_S = 1.0  # how far updatedAt - createdAt may lie outside the polls around the end before it is not believed


@dataclass(frozen=True, slots=True)
class JobPace:
    """One recorded job's figures, in seconds from its create.

    Attributes:
        queued: seconds before it left QUEUED.
        ended: seconds to DONE or FAIL (None: the recording never saw it end).
        outcome: DONE, FAIL or None.
        progress: the distinct progress values shown while PROCESSING, ascending.
    """

    queued: float
    ended: float | None
    outcome: str | None
    progress: tuple[int, ...] = ()

    @property
    def runs(self) -> float | None:
        """Seconds from leaving QUEUED to the end."""
        return None if self.ended is None else max(0.0, self.ended - self.queued)


def job_pace(job: RecordedJob) -> JobPace:
    """What the recording shows of `job`'s pacing (see the module's notes)."""
    polls = [p for p in job.polls if p.state is not None]
    queued = 0.0
    last_queued = max((i for i, p in enumerate(polls) if p.state == "QUEUED"), default=None)
    if last_queued is not None:
        after = polls[last_queued + 1] if last_queued + 1 < len(polls) else None
        seen = polls[last_queued].at if after is None else (polls[last_queued].at + after.at) / 2
        queued = max(0.0, seen - job.created_at)
    progress = tuple(sorted({p.progress for p in polls if p.state == "PROCESSING" and p.progress is not None}))
    final = job.final
    if final is None:
        return JobPace(queued, None, None, progress)
    before = [p.at for p in job.polls if p.index < final.index]
    low, high = (max(before) if before else job.created_at) - job.created_at, final.at - job.created_at
    created, updated = final.seconds("createdAt"), final.seconds("updatedAt")
    stamped = None if created is None or updated is None else updated - created
    believed = stamped is not None and low - _SLACK_S <= stamped <= high + _SLACK_S
    ended = max(0.0, stamped if believed and stamped is not None else (low + high) / 2)
    return JobPace(min(queued, ended), ended, final.state, progress)


@dataclass(frozen=True, slots=True)
class Spread:
    """A figure over several jobs: how many, the median and the range."""

    count: int
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread | None:
        found = sorted(values)
        return cls(len(found), statistics.median(found), found[0], found[-1]) if found else None

    def __str__(self) -> str:
        if self.low == self.high:
            return f"{self.median:.1f} s"
        return f"{self.median:.1f} s ({self.low:.1f}-{self.high:.1f})"


@dataclass(frozen=True, slots=True)
class KindPace:
    """Every recorded job of one kind."""

    kind: str
    jobs: tuple[JobPace, ...]

    def _ended(self, outcome: str) -> Spread | None:
        return Spread.of(j.ended for j in self.jobs if j.outcome == outcome and j.ended is not None)

    @property
    def queued(self) -> Spread | None:
        """Seconds in QUEUED."""
        return Spread.of(j.queued for j in self.jobs)

    @property
    def done(self) -> Spread | None:
        """Seconds to DONE."""
        return self._ended("DONE")

    @property
    def failed(self) -> Spread | None:
        """Seconds to FAIL."""
        return self._ended("FAIL")

    @property
    def steps(self) -> Spread | None:
        """Distinct progress values seen while PROCESSING, per job."""
        return Spread.of(float(len(j.progress)) for j in self.jobs if j.outcome is not None)

    @property
    def step(self) -> int | None:
        """The largest whole number every progress value seen is a multiple of (how progress moves)."""
        seen = [v for j in self.jobs for v in j.progress if v > 0]
        return math.gcd(*seen) if seen else None

    @property
    def samples(self) -> tuple[tuple[float, float], ...]:
        """(queued, runs) of the jobs a new one may be paced like: those that ended DONE, else those that ended."""
        ended = [j for j in self.jobs if j.runs is not None]
        done = [j for j in ended if j.outcome == "DONE"] or ended
        return tuple((j.queued, j.runs) for j in done if j.runs is not None)


class Pacing:
    """The pacing of each recorded job kind, and a seeded draw of one recorded job's timing for a new job.

    Example:
        pacing = Pacing.learn(load_har("rec.har"), Operations(load_spec()), seed=7)
        timing = pacing.timing("imagine", Timing(duration=3.0))  # a recorded Flux job's queue and run time
    """

    def __init__(self, kinds: Mapping[str, KindPace] | None = None, *, seed: int = 0, sources: Sequence[str] = ()):
        self.kinds = dict(kinds or {})
        self.sources = tuple(sources)
        self.notes: list[str] = []  # what the recordings' reader said (a file cut short by a crash)
        self._rng = random.Random(f"pace:{seed}")
        self._lock = threading.Lock()

    @classmethod
    def learn(
        cls, entries: Sequence[HarEntry], operations: Operations, *, seed: int = 0, sources: Sequence[str] = ()
    ) -> Pacing:
        """The pacing `entries` (one recording, or several joined) show for each kind of job they created."""
        from mock_server.domain.records.history import recorded_jobs

        found: dict[str, list[JobPace]] = {}
        for job in recorded_jobs(entries, operations).values():
            if job.kind is not None:
                found.setdefault(job.kind, []).append(job_pace(job))
        kinds = {kind: KindPace(kind, tuple(jobs)) for kind, jobs in found.items()}
        return cls(kinds, seed=seed, sources=sources)

    def paced(self) -> list[str]:
        """The kinds new jobs are paced for: those with a recorded job that ended."""
        return sorted(kind for kind, pace in self.kinds.items() if pace.samples)

    def timing(self, kind: str, base: Timing) -> Timing:
        """`base` with the queue and run time of one recorded job of `kind`, drawn under the seed; `base` as it is
        for a kind without recorded jobs that ended."""
        pace = self.kinds.get(kind)
        samples = pace.samples if pace is not None else ()
        if not samples:
            return base
        with self._lock:
            queued, runs = self._rng.choice(samples)
        return dataclasses.replace(base, duration=runs, queued_extra=base.queued_extra + queued)

    def describe(self, kinds: Iterable[str], job_seconds: float) -> list[str]:
        """What the start-up banner says: which kinds follow which recorded pacing, and which keep the default."""
        if not self.sources:
            return []
        paced = self.paced()
        shown = []
        for kind in paced:
            pace = self.kinds[kind]
            ended = pace.done or pace.failed
            jobs = len(pace.samples)
            shown.append(f"{kind} {ended} ({jobs} job{'s' if jobs != 1 else ''})")
        rest = sorted(set(kinds) - set(paced))
        lines = [f"  paced from {', '.join(self.sources)}: {'; '.join(shown)}"]
        lines += [f"    {note}" for note in self.notes]
        if rest:
            lines.append(f"  not in the recording, so paced by --job-seconds ({job_seconds:g} s): {', '.join(rest)}")
        return lines


def load_pacing(paths: Sequence[str], operations: Operations, *, seed: int = 0) -> Pacing:
    """The pacing of every recording in `paths` (``--pace-from``, repeatable), joined per kind.

    Raises HarError naming a file that cannot be read or that holds no job followed to DONE or FAIL.
    """
    from mock_server.domain.records.har import HarError, read_recording

    entries: list[HarEntry] = []
    notes: list[str] = []
    for path in paths:
        recording = read_recording(path)
        if not Pacing.learn(recording.entries, operations).paced():
            raise HarError(
                f"--pace-from {path}: the recording holds no job followed to DONE or FAIL ({len(recording.entries)} "
                "exchange(s)); record a session whose client polls each job until it ends, e.g. flux-mock proxy "
                "--upstream https://api.imaginepro.ai --record rec.har, then run the client against the proxy."
            )
        entries += recording.entries
        notes += [recording.note] if recording.note else []
    pacing = Pacing.learn(sorted(entries, key=lambda e: e.started), operations, seed=seed, sources=paths)
    pacing.notes = notes
    return pacing
