"""The job budget: a hard cap on created jobs, counted the same way by every part of a check run."""

from __future__ import annotations

import threading

import pytest

from contracts.core.budget import JobBudget, job_creating_operations


def test_job_creating_operations_come_from_the_spec() -> None:
    # Every x-mock-kind create operation of openapi.yaml, pinned: one that creates a job but is missing here would
    # be sent without the --max-jobs guard (a paid job); one wrongly listed would be held back for nothing.
    assert job_creating_operations() == {
        "POST /api/v1/flux/imagine": "fluxImagine",
        "POST /api/v1/flux/upscale": "fluxUpscale",
        "POST /api/v1/nova/imagine": "mjImagine",
        "POST /api/v1/midjourney/imagine": "mjImagineLegacy",
        "POST /api/v1/nova/boost/imagine": "mjImagineBoost",
        "POST /api/v1/nova/button": "mjButton",
        "POST /api/v1/midjourney/button": "mjButtonLegacy",
        "POST /api/v1/nova/boost/button": "mjButtonBoost",
        "POST /api/v1/nova/describe": "mjDescribe",
        "POST /api/v1/midjourney/describe": "mjDescribeLegacy",
        "POST /api/v1/midjourney/blend": "mjBlend",
        "POST /api/v1/nova/faceswap": "mjFaceswap",
        "POST /api/v1/midjourney/faceswap": "mjFaceswapLegacy",
        "POST /api/v1/tools/remove-bg": "removeBackground",
        "POST /api/v1/universal/imagine": "universalImagine",
        "POST /api/v1/universal/zimage": "zimage",
        "POST /api/v1/gemini/imagine": "geminiImagine",
        "POST /api/v1/video/mj/generate": "videoGenerate",
        "POST /api/v1/video/mj/extend": "videoExtend",
        "POST /api/v1/midjourney/commands": "mjCommand",
    }


def test_answered_at_once_operations_are_not_job_creating() -> None:
    # prompt check and extend take a body and answer 200 at once: no job, so no budget (and never held back).
    creating = set(job_creating_operations().values())
    assert not {"promptCheck", "promptExtend", "toggleDiscordToken", "accountInfo", "listImages"} & creating


def test_reserve_and_settle_never_exceed_the_limit() -> None:
    budget = JobBudget(2)
    assert budget.reserve()
    assert budget.reserve()
    assert not budget.reserve()  # two in flight fill the budget even before they are answered
    budget.settle(created=False)  # refused by the server: no job, the room comes back
    assert budget.reserve()
    budget.settle(created=True)
    budget.settle(created=True)
    assert budget.created == 2
    assert budget.remaining == 0
    assert budget.held_back == 1
    assert not budget.has_room()
    assert budget.held_back == 2
    assert "2 job(s) created (max 2); 2 job-creating request(s) held back" in budget.describe()


def test_no_limit_still_counts() -> None:
    budget = JobBudget(None)
    for _ in range(50):
        assert budget.has_room()
        budget.record(created=True)
    assert budget.created == 50
    assert budget.remaining is None
    assert "max no cap" in budget.describe()


def test_zero_allows_no_job_creating_request() -> None:
    budget = JobBudget(0)
    assert not budget.has_room()
    assert not budget.reserve()


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        JobBudget(-1)


def test_concurrent_reservations_respect_the_limit() -> None:
    budget = JobBudget(5)
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            ok = budget.reserve()
            with lock:
                granted.append(ok)
            if ok:
                budget.settle(created=True)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert budget.created == 5
    assert sum(granted) == 5
    assert budget.held_back == 75
