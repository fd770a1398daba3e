"""One view from every replica (issue 19): history, the admin journals, the job list, the credits scenario and the
dashboard (its first paint and its event stream).

Two `flux-mock serve --store redis://...` processes; each read is asked many times, each time over a fresh
connection, through both, and every answer must be the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

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


PAGES = ["/__mock/ui", "/__mock/ui/requests", "/__mock/ui/webhooks", "/__mock/ui/health"]
STREAMED = ("requests", "webhooks", "health", "jobs")


def fresh_page(replica: Replica, path: str) -> str:
    """A dashboard page over a new connection, the replica's own URL made one."""
    response = httpx.get(replica.url + path, timeout=10)
    assert response.status_code == 200, (replica, path, response.text)
    return response.text.replace(replica.url, "http://replica")


def streamed_views(replica: Replica, query: str = "", wanted: tuple[str, ...] = STREAMED) -> dict[str, Any]:
    """The first event of each `wanted` view the dashboard's stream sends (over a new connection)."""
    seen: dict[str, Any] = {}
    with httpx.stream("GET", f"{replica.url}/__mock/ui/events{query}", timeout=10) as response:
        assert response.status_code == 200, replica
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event not in seen:
                seen[event] = json.loads(line[len("data: ") :].replace(replica.url, "http://replica"))
                if all(name in seen for name in wanted):
                    return seen
    raise AssertionError(f"{replica}: the stream ended before sending {wanted}: {sorted(seen)}")


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

        # The dashboard: each page's first paint, a job's page, and the stream's views.
        for path in [*PAGES, f"/__mock/ui/jobs/{made[1]}"]:
            pages = [fresh_page(replica, path) for _ in range(ASKS) for replica in (a, b)]
            assert all(page == pages[0] for page in pages), path
        listed = re.findall(r'<tr data-id="([^"]+)"', fresh_page(a, "/__mock/ui"))
        assert listed == made[::-1]  # newest first, made through both replicas
        streams = [streamed_views(replica) for _ in range(ASKS // 2) for replica in (a, b)]
        assert all(stream == streams[0] for stream in streams)
        assert [row["messageId"] for row in streams[0]["jobs"]["rows"]] == made[::-1]
        job_streams = [streamed_views(replica, f"?job={made[0]}", (*STREAMED, "job")) for replica in (a, b)]
        assert job_streams[0] == job_streams[1]
        assert [e["messageId"] for e in job_streams[0]["job"]["requests"]] == [made[0]]
    finally:
        a.admin_ok("POST", "/clock/unfreeze")
