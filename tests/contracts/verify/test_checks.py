"""Client checks are pure functions of a request timeline: each one fires on its bad pattern and only then."""

from __future__ import annotations

import itertools

import pytest

from contracts.verify.checks import (
    CLIENT_CHECKS,
    ClientRules,
    Exchange,
    client_check,
    match_route,
    poll_stats,
    run_checks,
)

T0 = 1_750_000_000.0
JOB = "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001"
CREATE = "/api/v1/flux/imagine"
POLL = f"/api/v1/message/fetch/{JOB}"
IMAGE = f"http://127.0.0.1:9/storage/v1/object/public/cdn/{JOB}.png"
DOCUMENTED = (
    ("fluxImagine", "POST", "/api/v1/flux/imagine"),
    ("fluxUpscale", "POST", "/api/v1/flux/upscale"),
    ("fetchMessage", "GET", "/api/v1/message/fetch/{messageId}"),
    ("fetchMessageLegacy", "GET", "/api/v1/midjourney/message/{messageId}"),
)
RULES = ClientRules(min_poll_interval=1.0, min_backoff=0.5, max_unchanged_polls=5, documented=DOCUMENTED)


class Timeline:
    """Builds the exchanges a client produced, at given offsets from T0."""

    def __init__(self) -> None:
        self.items: list[Exchange] = []
        self._seq = itertools.count(1)

    def add(self, t: float, method: str, path: str, status: int | None = 200, **kw: object) -> Timeline:
        self.items.append(Exchange(next(self._seq), T0 + t, method, path, status, **kw))  # type: ignore[arg-type]
        return self

    def create(self, t: float = 0.0, status: int = 200, body: str = '{"prompt": "a fox"}', **kw: object) -> Timeline:
        message_id = JOB if status == 200 else None
        return self.add(t, "POST", CREATE, status, operation_id="fluxImagine", message_id=message_id, body=body, **kw)

    def poll(
        self, t: float, job_status: str | None = "PROCESSING", progress: int | None = None, **kw: object
    ) -> Timeline:
        if progress is None:
            progress = {"DONE": 100, "QUEUED": 0}.get(job_status or "", int(t * 10) % 100)
        kw.setdefault("image_urls", (IMAGE,) if job_status == "DONE" else ())
        return self.add(
            t,
            "GET",
            POLL,
            operation_id="fetchMessage",
            message_id=JOB,
            job_status=job_status,
            progress=progress if job_status else None,
            **kw,
        )

    def download(self, t: float) -> Timeline:
        return self.add(t, "GET", f"/storage/v1/object/public/cdn/{JOB}.png")

    def run(self, *names: str, rules: ClientRules = RULES) -> list[str]:
        return [v.check for v in run_checks(self.items, rules, names=names or None)]


def well_behaved() -> Timeline:
    return Timeline().create(0).poll(2).poll(4).poll(6, "DONE").download(6.1)


def test_a_well_behaved_timeline_has_no_violations() -> None:
    assert well_behaved().run() == []


def test_every_check_is_registered_once() -> None:
    assert set(CLIENT_CHECKS) == {
        "request-schema",
        "refused-request",
        "poll-rate",
        "poll-interval",
        "poll-after-terminal",
        "job-never-polled",
        "retry-after",
        "backoff",
        "endless-polling",
        "undocumented-endpoint",
    }
    with pytest.raises(ValueError, match="already registered"):
        client_check("poll-rate")(CLIENT_CHECKS["poll-rate"])


def test_unknown_check_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown client check 'poll-rat'.*poll-rate"):
        run_checks([], names=["poll-rat"])


# --- request-schema ------------------------------------------------------------------------------------------


def test_request_schema_reports_the_journal_violation_and_what_was_sent() -> None:
    timeline = Timeline().create(
        0,
        status=400,
        body='{"prompt": "a fox", "n": 5}',
        violations=("n must not be greater than 4 (at body/n, sent 5; send n from 1 to 4)",),
    )
    [violation] = run_checks(timeline.items, RULES, names=["request-schema"])
    assert violation.check == "request-schema"
    assert "n must not be greater than 4" in violation.message
    assert '"n": 5' in violation.message
    assert violation.seqs == (1,)


@pytest.mark.parametrize(("status", "needle"), [(401, "Bearer"), (415, "application/json"), (413, "size limit")])
def test_request_schema_names_auth_media_type_and_size(status: int, needle: str) -> None:
    timeline = Timeline().create(0, status=status)
    [violation] = run_checks(timeline.items, RULES, names=["request-schema"])
    assert needle in violation.message


def test_request_schema_ignores_faults_the_mock_injected_and_unknown_jobs() -> None:
    timeline = Timeline().create(0, status=401, tags=("credits:0",)).create(1, status=400, tags=("reject:400",))
    timeline.poll(2, None, status=404)
    assert timeline.run("request-schema") == []


# --- poll-rate -----------------------------------------------------------------------------------------------


def test_eleven_polls_in_one_second_break_the_documented_limit() -> None:
    timeline = Timeline().create(0)
    for i in range(11):
        timeline.poll(1 + i * 0.09)
    [violation] = run_checks(timeline.items, RULES, names=["poll-rate"])
    assert "11 polls" in violation.message
    assert "10/s" in violation.message


def test_ten_polls_per_second_sustained_is_within_the_limit() -> None:
    timeline = Timeline().create(0)
    for i in range(30):
        timeline.poll(1 + i * 0.1)
    assert timeline.run("poll-rate") == []


def test_poll_rate_counts_refused_polls_too() -> None:
    timeline = Timeline().create(0)
    for i in range(12):
        timeline.add(1 + i * 0.01, "GET", POLL, 401, violations=("API key is not accepted",))
    assert timeline.run("poll-rate") == ["poll-rate"]


@pytest.mark.parametrize(
    ("path", "counted"),
    [
        ("/api/v1/video/mj/fetch/2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001", True),  # a poll path of the grown spec
        ("/api/v1/midjourney/message/2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001", True),
        ("/api/v1/midjourney/images", False),  # history under the same prefix is not a poll
        ("/api/v1/discord/tokens", False),
    ],
)
def test_refused_polls_are_told_from_other_refused_requests_by_the_spec(path: str, counted: bool) -> None:
    timeline = Timeline().create(0)
    for i in range(12):
        timeline.add(1 + i * 0.01, "GET", path, 401, violations=("API key is not accepted",))
    assert timeline.run("poll-rate") == (["poll-rate"] if counted else [])


# --- poll-interval -------------------------------------------------------------------------------------------


def test_polls_closer_than_the_courtesy_interval_are_reported_once_per_job() -> None:
    timeline = Timeline().create(0).poll(1).poll(1.3).poll(1.6).poll(3, "DONE")
    [violation] = run_checks(timeline.items, RULES, names=["poll-interval"])
    assert "2 time(s) less than 1 s" in violation.message
    assert "shortest gap 0.300 s" in violation.message
    assert violation.message_id == JOB


def test_quick_retries_after_errors_are_not_courtesy_violations() -> None:
    timeline = Timeline().create(0).poll(1, None, status=503).poll(1.2).poll(2.2, None, status=404).poll(2.4, "DONE")
    assert timeline.run("poll-interval") == []


def test_courtesy_interval_zero_switches_the_check_off() -> None:
    timeline = Timeline().create(0).poll(1).poll(1.01, "DONE")
    assert timeline.run("poll-interval", rules=ClientRules(min_poll_interval=0)) == []


# --- poll-after-terminal -------------------------------------------------------------------------------------


@pytest.mark.parametrize("final", ["DONE", "FAIL"])
def test_polling_after_a_final_status_is_reported(final: str) -> None:
    timeline = Timeline().create(0).poll(2, final).poll(4, final).poll(6, final)
    [violation] = run_checks(timeline.items, RULES, names=["poll-after-terminal"])
    assert f"2 more time(s) after it was {final}" in violation.message
    assert violation.seqs == (3, 4)


# --- job-never-polled ----------------------------------------------------------------------------------------


def test_a_job_whose_create_answer_was_garbled_needs_no_polling() -> None:
    assert Timeline().create(0, malformed=True).run("job-never-polled") == []


def test_match_route_finds_the_operation_and_its_parameters() -> None:
    assert match_route(DOCUMENTED, "GET", POLL) == ("fetchMessage", {"messageId": JOB})
    assert match_route(DOCUMENTED, "POST", POLL) is None
    assert match_route(DOCUMENTED, "GET", POLL + "/extra") is None


def test_a_created_job_that_is_never_polled_is_reported() -> None:
    timeline = (
        Timeline()
        .create(0)
        .add(
            2,
            "GET",
            "/api/v1/message/fetch/None",
            400,
            operation_id="fetchMessage",
            violations=("messageId must be a UUID",),
        )
    )
    [violation] = run_checks(timeline.items, RULES, names=["job-never-polled"])
    assert JOB in violation.message
    assert "messageId" in violation.message


def test_a_job_with_a_webhook_needs_no_polling() -> None:
    job = {"kind": "imagine", "timeout": 900, "webhook_url": "https://example.com/hook"}
    assert Timeline().create(0, job=job).run("job-never-polled") == []
    # The journal's job fields decide, not the body: a webhook only in a (truncated) body excerpt does not count.
    body = '{"prompt": "a fox", "webhookOverride": "https://example.com/hook"}'
    assert Timeline().create(0, body=body, job={"kind": "imagine"}).run("job-never-polled") == ["job-never-polled"]


def test_a_refused_create_needs_no_polling() -> None:
    assert Timeline().create(0, status=429, retry_after=3.0).run("job-never-polled") == []


# --- retry-after ---------------------------------------------------------------------------------------------


def test_retrying_before_retry_after_is_reported() -> None:
    timeline = Timeline().create(0, status=429, retry_after=3.0).create(0.5).poll(2.5, "DONE")
    [violation] = run_checks(timeline.items, RULES, names=["retry-after"])
    assert "0.500 s after a 429" in violation.message
    assert "Retry-After: 3" in violation.message


def test_waiting_out_retry_after_is_fine() -> None:
    timeline = Timeline().create(0, status=429, retry_after=3.0).create(3.0).poll(5, "DONE")
    assert timeline.run("retry-after") == []


def test_retry_after_on_a_poll_applies_to_that_poll() -> None:
    timeline = Timeline().create(0).poll(1, None, status=503, retry_after=2.0).poll(1.1, "DONE")
    assert timeline.run("retry-after") == ["retry-after"]


# --- backoff -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status": 500}, id="500"),
        pytest.param({"status": None}, id="dropped"),
        pytest.param({"status": 200, "malformed": True}, id="garbage"),
    ],
)
def test_immediate_retry_after_a_failure_is_reported(failure: dict[str, object]) -> None:
    timeline = Timeline().add(0, "POST", CREATE, operation_id="fluxImagine", **failure).create(0.05).poll(2, "DONE")
    assert timeline.run("backoff") == ["backoff"]


def test_a_429_without_retry_after_still_needs_a_back_off() -> None:
    bare = Timeline().add(0, "POST", CREATE, 429, operation_id="fluxImagine").create(0.01).poll(2, "DONE")
    assert bare.run("backoff") == ["backoff"]
    # with Retry-After it is the retry-after check's business alone
    told = Timeline().add(0, "POST", CREATE, 429, operation_id="fluxImagine", retry_after=3.0).create(0.01)
    assert told.run("backoff") == []
    assert told.run("retry-after") == ["retry-after"]


def test_backing_off_after_a_failure_is_fine() -> None:
    timeline = Timeline().add(0, "POST", CREATE, 502, operation_id="fluxImagine").create(1.0).poll(3, "DONE")
    assert timeline.run("backoff") == []


# --- endless-polling -----------------------------------------------------------------------------------------


def test_polling_a_stalled_job_too_often_is_reported() -> None:
    timeline = Timeline().create(0)
    for i in range(7):
        timeline.poll(2 + 2 * i, "PROCESSING", progress=42)
    [violation] = run_checks(timeline.items, RULES, names=["endless-polling"])
    assert "7 times while it stayed PROCESSING at 42%" in violation.message


def test_the_timeout_comes_from_the_journals_job_fields_not_the_body() -> None:
    # A 4,200-character prompt pushes `timeout` past the journal's 4,096-byte body excerpt; the job fields keep it.
    body = '{"prompt": "' + "a" * 4_200 + '", "timeout": 30}'
    rules = ClientRules(max_unchanged_polls=1000, job_timeout_grace=5)
    late = Timeline().create(0, body=body[:4096], job={"kind": "imagine", "timeout": 30}).poll(20).poll(36)
    assert late.run("endless-polling", rules=rules) == ["endless-polling"]
    [violation] = run_checks(late.items, rules, names=["endless-polling"])
    assert "its 30 s timeout" in violation.message
    # Without job fields (a journal that lacks them) the contract's default of 900 s applies.
    assert Timeline().create(0, body=body[:4096]).poll(20).poll(36).run("endless-polling", rules=rules) == []


def test_a_job_that_moves_may_be_polled_long() -> None:
    timeline = Timeline().create(0)
    for i in range(20):
        timeline.poll(2 + 2 * i, "PROCESSING", progress=i)
    assert timeline.run("endless-polling") == []


def test_polling_past_the_jobs_own_timeout_is_reported() -> None:
    rules = ClientRules(max_unchanged_polls=1000, job_timeout_grace=5)
    timeline = Timeline().create(0, job={"timeout": 10}).poll(5).poll(14).poll(16)
    assert timeline.run("endless-polling", rules=rules) == ["endless-polling"]
    assert Timeline().create(0, job={"timeout": 10}).poll(5).poll(14).run("endless-polling", rules=rules) == []


# --- undocumented-endpoint -----------------------------------------------------------------------------------


def test_an_undocumented_path_is_reported_with_the_documented_ones() -> None:
    timeline = well_behaved().add(7, "GET", "/api/v1/flux/status/abc", 404)
    [violation] = run_checks(timeline.items, RULES, names=["undocumented-endpoint"])
    assert "GET /api/v1/flux/status/abc" in violation.message
    assert "POST /api/v1/flux/imagine" in violation.message


def test_only_image_urls_the_api_handed_out_may_be_fetched() -> None:
    guessed = f"/storage/v1/object/public/cdn/{JOB}-3.png"
    assert well_behaved().run("undocumented-endpoint") == []
    assert well_behaved().add(7, "GET", guessed, 404).run("undocumented-endpoint") == ["undocumented-endpoint"]


def test_a_documented_path_refused_before_routing_is_not_undocumented() -> None:
    timeline = Timeline().add(0, "POST", CREATE, 401, violations=("API key is not accepted",))
    assert timeline.run("undocumented-endpoint") == []


# --- stats ---------------------------------------------------------------------------------------------------


def test_poll_stats() -> None:
    stats = poll_stats(well_behaved().items)
    assert (stats.polls, stats.jobs, stats.min_gap) == (3, 1, 2.0)


# --- refused-request ------------------------------------------------------------------------------------------

BUTTON = "/api/v1/nova/button"


def _press(t: Timeline, status: int, **kw: object) -> Timeline:
    return t.add(3.0, "POST", BUTTON, status, operation_id="mjButton", body='{"button": "Make Square"}', **kw)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (409, "state refused it"),
        (404, "unknown for this key"),
        (403, "plan does not allow"),
        (422, "refused it with 422"),
    ],
)
def test_every_refusal_is_reported_with_its_reason_and_fix(status: int, says: str) -> None:
    found = run_checks(_press(Timeline().create(), status).items, RULES, names=["refused-request", "request-schema"])
    assert [v.check for v in found] == ["refused-request"]
    assert says in found[0].message
    assert "Fix: " in found[0].message
    assert "Make Square" in found[0].message  # what was sent


def test_a_refusal_names_the_mocks_reason_when_the_journal_has_one() -> None:
    reason = "Button 'Make Square' is not offered by message X; it offers: U1, U2"
    found = run_checks(_press(Timeline().create(), 409, violations=(reason,)).items, RULES)
    [refused] = [v for v in found if v.check == "refused-request"]
    assert reason in refused.message
    assert not [v for v in found if v.check == "request-schema"]  # reported once


@pytest.mark.parametrize(
    ("status", "tags"),
    [
        (429, ()),  # pacing: the retry-after and poll-rate checks' business
        (503, ("follow-up-reject:503",)),
        (429, ("follow-up-reject:429",)),
        (400, ("reject:400",)),
    ],
)
def test_refusals_a_scenario_provoked_are_not_the_clients_fault(status: int, tags: tuple[str, ...]) -> None:
    items = _press(Timeline().create(tags=tags), status, tags=tags).items
    assert run_checks(items, RULES, names=["refused-request", "request-schema"]) == []


def test_a_not_yet_404_is_provoked_and_an_unknown_path_is_left_to_undocumented_endpoint() -> None:
    items = Timeline().create().poll(1.0, job_status=None, status=404, tags=("not-yet:3",)).items
    items += [Exchange(99, T0 + 9, "GET", "/api/v1/nope", 404)]
    assert run_checks(items, RULES, names=["refused-request"]) == []
