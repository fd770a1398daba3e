"""One view from every replica (issue 19): history, the admin journals, the job list and the credits scenario.

Two `flux-mock serve --store redis://...` processes; each read is asked many times, each time over a fresh
connection, through both, and every answer must be the same.
"""

from __future__ import annotations

import json

import httpx
from fleet_harness import API_KEY, Replica

ASKS = 6  # per replica and read
READS = [
    ("/api/v1/nova/images?size=100", {}),
    ("/api/v1/midjourney/images?size=100", {}),
    ("/__mock/requests", {}),
    ("/__mock/webhooks", {}),
    ("/__mock/jobs?limit=100", {}),
    ("/api/v1/subscription/account-info", {"X-Mock-Scenario": "credits:400"}),
]


def fresh_get(replica: Replica, path: str, headers: dict[str, str]) -> object:
    """One GET over a new connection (no pooled keep-alive); image URLs name the answering replica: made one."""
    response = httpx.get(replica.url + path, headers={"Authorization": f"Bearer {API_KEY}", **headers}, timeout=10)
    assert response.status_code == 200, (replica, path, response.text)
    return json.loads(response.text.replace(replica.url, "http://replica"))


def test_every_read_is_the_same_through_every_replica(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    made = [a.create("history made on A"), b.create("history made on B"), a.create("again on A")]
    b.advance(15)  # 10 s jobs: every one DONE (and within the 60 s --job-ttl), so history shows them
    a.admin_ok("POST", "/clock/freeze")  # one instant for every answer below
    try:
        for path, headers in READS:
            answers = [fresh_get(replica, path, headers) for _ in range(ASKS) for replica in (a, b)]
            assert all(answer == answers[0] for answer in answers), (path, answers[0], answers)
        history = fresh_get(b, "/api/v1/nova/images?size=100", {})
        assert isinstance(history, dict)
        assert set(made) <= {image["id"] for image in history["images"]}
    finally:
        a.admin_ok("POST", "/clock/unfreeze")
