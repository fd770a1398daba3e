"""Memory of the mock's stored state, measured in this process (bench/run.py runs it in a subprocess).

1. Build the mock app in-process with default Settings.
2. Submit N jobs straight into its JobStore the way the imagine endpoint does: the body goes through
   the endpoint's own field extraction (defaults applied), then ``store.submit`` with the default
   Timing. Each job gets its own ~40-character prompt and a ``ref`` and asks for n=2, as a client would.
3. Fill the request journal to its default size with entries shaped like a real POST's.

RSS comes from /proc/self/status (VmRSS) after ``gc.collect()``. Prints one JSON object.

    /work/venv/bin/python bench/memory.py --jobs 100000
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from typing import Any

from mock_server import RequestRecorded, Settings, create_app
from mock_server.domain.jobs import Timing
from mock_server.domain.kinds import job_kind
from mock_server.services.container import Services

MB = 1024 * 1024
ACCOUNT = "sk-bench"


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/status."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status (Linux only)")


def settled_rss() -> int:
    gc.collect()
    return rss_bytes()


def body(i: int) -> dict[str, Any]:
    """A distinct, realistic imagine body: a ~40-character prompt, a ref, n=2."""
    return {
        "prompt": f"a red fox in the snow at dawn, take {i:07d}",
        "ref": f"order-{i:08d}",
        "n": 2,
        "width": 1024,
        "height": 768,
        "output_format": "webp",
    }


def fill_store(svc: Services, jobs: int) -> None:
    validator = svc.validator("fluxImagine")
    kind = job_kind(svc.spec.operation("fluxImagine").job_kind, "bench")
    timing = Timing(duration=svc.settings.job_seconds)
    for i in range(jobs):
        fields = kind.fields(validator.normalise(body(i)))
        svc.jobs.create(ACCOUNT, timing, fields)


def fill_journal(svc: Services, entries: int) -> None:
    clock, journal = svc.clock, svc.journal
    for i in range(entries):
        text = json.dumps(body(i), separators=(",", ":"))
        journal.append(
            RequestRecorded(
                seq=journal.next_seq(),
                at=clock.now(),
                method="POST",
                path="/api/v1/flux/imagine",
                query="",
                status=200,
                duration_ms=0.25,
                account=ACCOUNT,
                operation_id="fluxImagine",
                message_id=f"{i:08x}-c209-4cac-a29f-6fbed82c07cd",
                body=text,
            )
        )


def measure(jobs: int) -> dict[str, Any]:
    start = settled_rss()
    app = create_app(Settings(port=8080))
    svc: Services = app.state.services
    before = settled_rss()
    t0 = time.perf_counter()
    fill_store(svc, jobs)
    fill_seconds = time.perf_counter() - t0
    after_jobs = settled_rss()
    journal_size = svc.settings.journal_size
    fill_journal(svc, journal_size)
    after_journal = settled_rss()
    assert len(svc.jobs) == jobs
    assert len(svc.journal) == journal_size
    return {
        "jobs": jobs,
        "submit_seconds": round(fill_seconds, 3),
        "rss_interpreter_mb": round(start / MB, 1),
        "rss_app_built_mb": round(before / MB, 1),
        "rss_after_jobs_mb": round(after_jobs / MB, 1),
        "jobs_delta_mb": round((after_jobs - before) / MB, 1),
        "bytes_per_job": round((after_jobs - before) / jobs) if jobs else 0,
        "journal_entries": journal_size,
        "journal_delta_mb": round((after_journal - after_jobs) / MB, 1),
        "rss_total_mb": round(after_journal / MB, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs to store (default: 100000)")
    args = parser.parse_args(argv)
    if args.jobs < 0:
        parser.error("--jobs must be >= 0")
    json.dump(measure(args.jobs), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
