"""Shared state across replicas (issue 12): jobs, forced jobs, seeded ids, job TTL, the job cap and the paged job list.

Two `flux-mock serve --store redis://...` processes on two ports: a request's replica is chosen by the test.
"""

from __future__ import annotations

import uuid
from functools import partial
from urllib.parse import urlsplit

from fleet_harness import POLL_PATHS, Fleet, Replica, concurrently, create_fresh, unknown_id


def alternate(a: Replica, b: Replica, count: int) -> list[Replica]:
    """A, B, A, B, ... (`count` of them)."""
    return [a if i % 2 == 0 else b for i in range(count)]


def test_a_job_made_on_either_replica_is_seen_on_both_poll_paths(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    healths = [r.admin_ok("GET", "/health") for r in (a, b)]
    assert [h["store"] for h in healths] == ["redis", "redis"], healths
    assert [h["worker"]["pid"] for h in healths] == [a.pid, b.pid], healths

    made = {a.create("made on A"): "made on A", b.create("made on B"): "made on B"}

    a.admin_ok("POST", "/clock/freeze")  # one instant: every answer below must be the same body
    for message_id, prompt in made.items():
        bodies = [replica.message(message_id, path) for replica in (a, b) for path in POLL_PATHS]
        assert bodies[0]["messageId"] == message_id
        assert bodies[0]["prompt"] == prompt
        assert bodies[0]["status"] in ("QUEUED", "PROCESSING")
        assert all(body == bodies[0] for body in bodies), bodies

    a.admin_ok("POST", "/clock/unfreeze")
    b.advance(11)  # 10 s jobs
    for message_id in made:
        for replica in (a, b):
            for path in POLL_PATHS:
                assert replica.message(message_id, path)["status"] == "DONE"

    missing = unknown_id()
    for replica in (a, b):
        for path in POLL_PATHS:
            response = replica.poll(missing, path)
            assert response.status_code == 404, (replica, path, response.text)


def test_forcing_a_job_through_one_replica_is_seen_on_the_other(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    message_id = a.create("forced through B")
    forced = b.admin_ok("POST", f"/jobs/{message_id}/force", json={"status": "FAIL", "error": "Upstream error"})
    assert forced["status"] == "FAIL", forced
    for path in POLL_PATHS:
        message = a.message(message_id, path)
        assert (message["status"], message.get("error")) == ("FAIL", "Upstream error"), message

    released = a.admin_ok("DELETE", f"/jobs/{message_id}/force")
    assert released["forced"] is False, released
    assert b.message(message_id)["status"] in ("QUEUED", "PROCESSING")


def test_ids_are_unique_across_replicas_and_a_seed_replays_them(pair: tuple[Replica, Replica], fleet: Fleet) -> None:
    a, b = pair

    # Many creates at once on both replicas: no id twice.
    responses = concurrently([partial(create_fresh, r, f"burst {i}") for i, r in enumerate(alternate(a, b, 20))])
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
    burst = [r.json()["messageId"] for r in responses]
    assert len(set(burst)) == 20, sorted(burst)
    assert all(uuid.UUID(i).version == 4 for i in burst)

    def sequence(x: Replica, y: Replica) -> list[str]:
        """Creates one after another, alternating replicas: one arrival order."""
        return [r.create(f"replay {i}") for i, r in enumerate(alternate(x, y, 6))]

    a.admin_ok("POST", "/reset")
    first = sequence(a, b)
    assert len(set(first)) == len(first)
    assert set(first) <= set(burst)  # a reset restarts the seeded stream: the burst drew these ids first

    b.admin_ok("POST", "/reset")  # through the other replica this time
    assert sequence(a, b) == first

    # Brand-new processes on an empty Redis (FLUSHALLed for this test), same seed, same arrival order: same ids.
    c, d = fleet.start(2, "--job-seconds", "3")
    assert sequence(c, d) == first


def test_a_job_past_its_ttl_is_404_on_every_replica(pair: tuple[Replica, Replica]) -> None:
    a, b = pair  # --job-ttl 60
    message_id = a.create()
    for replica in (a, b):
        for path in POLL_PATHS:
            assert replica.poll(message_id, path).status_code == 200

    a.advance(61)
    for replica in (a, b):
        for path in POLL_PATHS:
            response = replica.poll(message_id, path)
            assert response.status_code == 404, (replica, path, response.status_code, response.text)

    # The TTL is a job's age, not a deadline for the server: a job made now is found.
    fresh = b.create()
    for replica in (a, b):
        assert replica.message(fresh)["messageId"] == fresh


def test_past_max_jobs_the_oldest_job_is_forgotten_fleet_wide(pair: tuple[Replica, Replica]) -> None:
    a, b = pair  # --max-jobs 25
    made = [r.create(f"cap {i}") for i, r in enumerate(alternate(a, b, 25))]
    for replica in (a, b):
        assert replica.poll(made[0]).status_code == 200

    newest = b.create("one past the cap")
    for replica in (a, b):
        assert replica.poll(made[0]).status_code == 404, replica
        assert replica.poll(made[1]).status_code == 200, replica
        assert replica.poll(newest).status_code == 200, replica


def test_the_admin_job_list_pages_fleet_wide_via_link_headers(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    made = [r.create(f"page {i}") for i, r in enumerate(alternate(a, b, 5))]

    seen: list[str] = []
    sizes: list[int] = []
    url: str | None = "/__mock/jobs?limit=2"
    for replica in alternate(a, b, 10):  # follow each next link on the other replica: the cursor is fleet-wide
        if url is None:
            break
        response = replica.client.get(url)
        assert response.status_code == 200, (replica, url, response.text)
        assert response.headers.get("X-Total-Count") == "5", dict(response.headers)
        page = response.json()
        assert isinstance(page, list)
        sizes.append(len(page))
        seen += [job["messageId"] for job in page]
        link = response.links.get("next", {}).get("url")
        if link is None:
            url = None
        else:
            parts = urlsplit(link)
            url = f"{parts.path}?{parts.query}" if parts.query else parts.path
    assert url is None, "the Link header kept saying rel=next after 10 pages"
    assert sizes == [2, 2, 1]
    assert seen == made  # every job once, oldest first
