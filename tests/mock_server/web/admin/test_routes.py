"""The /__mock admin API: every route, its own OpenAPI file, the guard, and clear errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Route

from mock_server import Settings, Spec, VirtualClock, create_app, load_spec
from mock_server.run.server import banner
from mock_server.web.admin.routes import admin_routes, admin_spec_text

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/flux/imagine"
ADMIN = Spec(yaml.safe_load(admin_spec_text()), source="admin_openapi.yaml", kinds=False)


def conforms(response: httpx.Response, operation_id: str) -> Any:
    """Assert the answer matches the admin spec's schema for its status; return the JSON."""
    op = ADMIN.operation(operation_id)
    declared = ADMIN.resolve(op.responses[str(response.status_code)])
    schema = declared["content"]["application/json"]["schema"]
    body = response.json()
    jsonschema.Draft202012Validator(schema).validate(body)
    return body


async def create(api: httpx.AsyncClient, prompt: str = "a red fox", **headers: str) -> str:
    response = await api.post(IMAGINE, json={"prompt": prompt}, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["messageId"])


# --- the admin spec --------------------------------------------------------------------------------------


def test_admin_spec_is_valid_openapi() -> None:
    validate(yaml.safe_load(admin_spec_text()))


def test_admin_spec_and_routes_match_exactly() -> None:
    routed = {
        (method, "/__mock" + route.path)
        for route in admin_routes()
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    documented = {(op.method, "/__mock" + op.path) for op in ADMIN.operations.values()}
    assert routed == documented


def test_the_public_contract_never_mentions_the_admin_api() -> None:
    assert not [p for p in load_spec().document["paths"] if p.startswith("/__mock")]
    assert "__mock" not in yaml.safe_dump(load_spec().document)


def test_serve_documents_the_admin_api() -> None:
    text = banner(Settings(port=8080))
    assert "http://127.0.0.1:8080/__mock/openapi.yaml" in text
    assert "loopback clients only" in text
    assert "needs --admin-token" in banner(Settings(admin_token="t"))


async def test_the_admin_spec_is_served(api: httpx.AsyncClient) -> None:
    response = await api.get("/__mock/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.text)["info"]["title"] == "flux-mock admin API"


# --- routes ----------------------------------------------------------------------------------------------


async def test_health(api: httpx.AsyncClient) -> None:
    body = conforms(await api.get("/__mock/health"), "health")
    assert (body["status"], body["seed"], body["jobs"]) == ("ok", 1, 0)
    assert body["auth"] == {"anyKey": False, "keys": 1, "setting": "--api-key KEY (env FLUX_MOCK_API_KEYS)"}
    assert body["queue"] == {"concurrency": 4, "setting": "--concurrency N (env FLUX_MOCK_CONCURRENCY)"}


async def test_health_says_how_many_jobs_a_key_runs_at_once(clock: VirtualClock) -> None:
    app = create_app(Settings(seed=1, concurrency=1), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        body = conforms(await client.get("/__mock/health"), "health")
    assert body["queue"]["concurrency"] == 1


async def test_health_says_when_any_key_is_accepted(clock: VirtualClock) -> None:
    app = create_app(Settings(seed=1), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        body = conforms(await client.get("/__mock/health"), "health")
    assert (body["auth"]["anyKey"], body["auth"]["keys"]) == (True, 0)


async def test_jobs_list_inspect_force_release(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    message_id = await create(api, "a red fox [mock:fail:50]")
    listed = conforms(await api.get("/__mock/jobs"), "listJobs")
    assert [(j["messageId"], j["prompt"], j["scenario"]) for j in listed] == [(message_id, "a red fox", "fail:50")]

    detail = conforms(await api.get(f"/__mock/jobs/{message_id}"), "getJob")
    assert (detail["plan"]["outcome"], detail["timing"]["failAt"]) == ("FAIL", 50)
    assert [r["operationId"] for r in detail["requests"]] == ["fluxImagine"]

    forced = await api.post(f"/__mock/jobs/{message_id}/force", json={"status": "DONE"})
    assert (conforms(forced, "forceJob")["status"], forced.json()["progress"]) == ("DONE", 100)
    poll = (await api.get(f"/api/v1/message/fetch/{message_id}")).json()
    assert (poll["status"], len(poll["images"])) == ("DONE", 1)

    released = conforms(await api.delete(f"/__mock/jobs/{message_id}/force"), "releaseJob")
    assert (released["status"], released["forced"]) == ("PROCESSING", False)
    clock.advance(5)
    assert (await api.get(f"/api/v1/message/fetch/{message_id}")).json()["status"] == "FAIL"


async def test_force_fail_gets_an_error_text(api: httpx.AsyncClient) -> None:
    message_id = await create(api)
    await api.post(f"/__mock/jobs/{message_id}/force", json={"status": "FAIL", "progress": 40})
    poll = (await api.get(f"/api/v1/message/fetch/{message_id}")).json()
    assert (poll["status"], poll["progress"], poll["error"]) == ("FAIL", 40, "Forced failure (flux-mock admin)")


async def test_clock_advance_moves_jobs(api: httpx.AsyncClient) -> None:
    message_id = await create(api)
    before = conforms(await api.get("/__mock/clock"), "getClock")
    after = conforms(await api.post("/__mock/clock/advance", json={"seconds": 3}), "advanceClock")
    assert after["epoch"] - before["epoch"] == 3
    assert (after["offset"], after["frozen"]) == (3.0, True)
    assert (await api.get(f"/api/v1/message/fetch/{message_id}")).json()["status"] == "DONE"
    conforms(await api.post("/__mock/clock/freeze"), "freezeClock")
    conforms(await api.post("/__mock/clock/unfreeze"), "unfreezeClock")


async def test_scenarios_arm_list_clear(api: httpx.AsyncClient) -> None:
    armed = conforms(await api.post("/__mock/scenarios", json={"scenario": "fail", "count": 1}), "armScenario")
    assert (armed["remaining"], armed["scope"]) == (1, "jobs")
    by_prompt = await api.post("/__mock/scenarios", json={"scenario": "reject:429", "prompt_regex": "^slow"})
    assert by_prompt.json()["prompt_regex"] == "^slow"
    listing = conforms(await api.get("/__mock/scenarios"), "listScenarios")
    assert [r["scenario"] for r in listing["armed"]] == ["fail", "reject:429"]
    assert {"fail", "reject", "latency"} <= {s["name"] for s in listing["available"]}
    assert conforms(await api.delete("/__mock/scenarios"), "clearScenarios") == {"cleared": 2}
    assert (await api.get("/__mock/scenarios")).json()["armed"] == []


async def test_requests_journal_with_filters(api: httpx.AsyncClient) -> None:
    first = await create(api)
    await create(api)
    await api.get(f"/api/v1/message/fetch/{first}")
    await api.get("/__mock/health")  # the admin API is never journalled
    everything = conforms(await api.get("/__mock/requests"), "listRequests")
    assert [e["seq"] for e in everything] == [1, 2, 3]
    about_first = (await api.get("/__mock/requests", params={"messageId": first})).json()
    assert [e["operationId"] for e in about_first] == ["fluxImagine", "fetchMessage"]
    assert [e["seq"] for e in (await api.get("/__mock/requests", params={"since": 2})).json()] == [3]
    bad = await api.get("/__mock/requests", params={"since": "x"})
    assert bad.status_code == 400


async def test_violations_list_what_clients_got_wrong(api: httpx.AsyncClient) -> None:
    await api.post(IMAGINE, json={"prompt": "x", "n": 9, "width": 1001})
    violations = conforms(await api.get("/__mock/violations"), "listViolations")
    assert {v["pointer"] for v in violations} == {"/n", "/width"}
    assert {v["operationId"] for v in violations} == {"fluxImagine"}


async def test_credits_routes(api: httpx.AsyncClient) -> None:
    body = conforms(await api.post("/__mock/credits", json={"account": "sk-test", "balance": 6}), "setCredits")
    assert body == {"initial": None, "balances": {"sk…st": 6}}
    await create(api)
    assert (await api.post(IMAGINE, json={"prompt": "x"})).status_code == 401
    assert conforms(await api.get("/__mock/credits"), "getCredits")["balances"] == {"sk…st": 0}


async def test_webhooks_journal_route_answers(api: httpx.AsyncClient) -> None:
    body = conforms(await api.get("/__mock/webhooks"), "listWebhooks")
    assert body["attempts"] == []


async def test_reset_route(api: httpx.AsyncClient) -> None:
    await create(api)
    assert conforms(await api.post("/__mock/reset"), "reset") == {"reset": True}
    assert (await api.get("/__mock/jobs")).json() == []
    assert (await api.get("/__mock/requests")).json() == []


# --- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "/__mock/scenarios", {"scenario": "fial"}, 400, "Did you mean 'fail'?"),
        ("POST", "/__mock/scenarios", {"scenario": "slow"}, 400, "needs an argument: slow:<seconds>"),
        ("POST", "/__mock/scenarios", {"scenario": "fail", "cuont": 1}, 400, "Did you mean 'count'?"),
        ("POST", "/__mock/scenarios", {"count": 1}, 400, "scenario is required"),
        ("POST", "/__mock/scenarios", {"scenario": "fail", "count": 0}, 400, "count has value 0"),
        ("POST", "/__mock/scenarios", {"scenario": "fail", "prompt_regex": "("}, 400, "not a valid regular"),
        ("POST", "/__mock/scenarios", [1], 400, "must be a JSON object"),
        ("POST", "/__mock/clock/advance", {}, 400, "seconds is required"),
        ("POST", "/__mock/clock/advance", {"seconds": -1}, 400, "from 0 to"),
        ("POST", "/__mock/clock/advance", {"seconds": "5"}, 400, "must be a number"),
        ("POST", "/__mock/credits", {"balance": 1}, 400, "account is required"),
        ("POST", "/__mock/credits", {"account": "k", "balance": -1}, 400, "integer >= 0"),
        ("GET", "/__mock/jobs/nope", None, 404, "No job has messageId 'nope'"),
        ("GET", "/__mock/helth", None, 404, "did you mean /__mock/health?"),
        ("GET", "/__mock/reset", None, 405, "Cannot GET /__mock/reset"),
    ],
)
async def test_admin_errors_are_clear(
    api: httpx.AsyncClient, method: str, path: str, body: Any, status: int, fragment: str
) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == status
    assert response.json()["statusCode"] == status
    assert fragment in response.json()["message"]


async def test_force_errors(api: httpx.AsyncClient) -> None:
    message_id = await create(api)
    bad_status = await api.post(f"/__mock/jobs/{message_id}/force", json={"status": "SUBMITTED"})
    assert "must be one of QUEUED, PROCESSING, DONE, FAIL" in bad_status.json()["message"]
    bad_progress = await api.post(f"/__mock/jobs/{message_id}/force", json={"status": "FAIL", "progress": 101})
    assert "from 0 to 100" in bad_progress.json()["message"]
    not_json = await api.post(
        f"/__mock/jobs/{message_id}/force", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in not_json.json()["message"]


# --- the guard -------------------------------------------------------------------------------------------


@pytest.fixture
async def remote(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.example") as client:
        yield client


async def test_without_a_token_only_loopback_clients_get_in(
    remote: httpx.AsyncClient, api: httpx.AsyncClient, app: Starlette
) -> None:
    refused = await remote.get("/__mock/health")
    assert refused.status_code == 403
    assert "--admin-token" in refused.json()["message"]
    assert (await remote.post("/__mock/reset")).status_code == 403
    assert (await api.get("/__mock/health")).status_code == 200
    ipv6 = httpx.ASGITransport(app=app, client=("::1", 1))
    async with httpx.AsyncClient(transport=ipv6, base_url="http://[::1]") as client:
        assert (await client.get("/__mock/health")).status_code == 200


async def test_the_public_api_stays_open_to_remote_clients(remote: httpx.AsyncClient) -> None:
    response = await remote.post(IMAGINE, json={"prompt": "x"}, headers={"Authorization": "Bearer sk-test"})
    assert response.status_code == 200


@pytest.mark.parametrize("client", [("127.0.0.1", 1), ("203.0.113.7", 1)])
async def test_with_a_token_nobody_gets_in_without_it(client: tuple[str, int]) -> None:
    # mock.example is the name remote callers use: listed, as the Host check applies with a token too
    settings = Settings(admin_token="s3cret", admin_host=("mock.example",), api_keys=("sk-test",))
    app = create_app(settings, clock=VirtualClock())
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.example") as c:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"X-Mock-Admin-Token": "s3cre"},
            {"Authorization": "s3cret"},
        ):
            response = await c.post("/__mock/reset", headers=headers)
            assert response.status_code == 401, headers
            assert "--admin-token" in response.json()["message"]
        assert (await c.get("/__mock/health", headers={"Authorization": "Bearer s3cret"})).status_code == 200
        assert (await c.get("/__mock/health", headers={"X-Mock-Admin-Token": "s3cret"})).status_code == 200
        api_call = await c.post(IMAGINE, json={"prompt": "x"}, headers={"Authorization": "Bearer sk-test"})
        assert api_call.status_code == 200  # the token guards /__mock only


async def admin_call(
    app: Starlette, method: str, path: str, *, client: tuple[str, int] = ("127.0.0.1", 1), **kwargs: Any
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
        return await c.request(method, path, **kwargs)


async def test_a_forwarded_for_header_does_not_make_a_remote_client_loopback(app: Starlette) -> None:
    # In process, nothing rewrites the peer; server.uvicorn_config keeps uvicorn from doing it (test_server.py).
    response = await admin_call(
        app, "GET", "/__mock/health", client=("203.0.113.7", 1), headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert response.status_code == 403
    assert "this one is 203.0.113.7" in response.json()["message"]


async def test_ipv4_mapped_loopback_is_loopback(app: Starlette) -> None:
    # The peer address of an IPv4 client on a dual-stack `--host ::` bind.
    assert (await admin_call(app, "GET", "/__mock/health", client=("::ffff:127.0.0.1", 1))).status_code == 200
    assert (await admin_call(app, "GET", "/__mock/health", client=("::ffff:203.0.113.7", 1))).status_code == 403


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8080"])
async def test_loopback_host_names_pass(app: Starlette, host: str) -> None:
    assert (await admin_call(app, "GET", "/__mock/health", headers={"Host": host})).status_code == 200


@pytest.mark.parametrize("host", ["rebind.attacker.example", "rebind.attacker.example:8080", "localhost.evil.example"])
async def test_a_foreign_host_is_refused_dns_rebinding(app: Starlette, host: str) -> None:
    response = await admin_call(app, "GET", "/__mock/requests", headers={"Host": host})
    assert response.status_code == 403
    body = response.json()
    assert body["statusCode"] == 403
    assert f"Host {host!r}" in body["message"]
    assert f"--admin-host {host.partition(':')[0]}" in body["message"]


async def test_an_admin_host_is_answered(clock: VirtualClock) -> None:
    app = create_app(Settings(admin_host=("mock.internal",)), clock=clock)
    assert (await admin_call(app, "GET", "/__mock/health", headers={"Host": "mock.internal:8080"})).status_code == 200
    assert (await admin_call(app, "GET", "/__mock/health", headers={"Host": "other.internal"})).status_code == 403


async def test_with_a_token_the_host_is_still_checked(clock: VirtualClock) -> None:
    app = create_app(Settings(admin_token="s3cret"), clock=clock)
    token = {"Authorization": "Bearer s3cret"}
    refused = await admin_call(app, "GET", "/__mock/health", headers=token | {"Host": "rebind.attacker.example"})
    assert refused.status_code == 403
    assert "--admin-host rebind.attacker.example" in refused.json()["message"]
    assert (await admin_call(app, "GET", "/__mock/health", headers=token)).status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
async def test_a_state_change_with_a_non_json_body_gets_415(app: Starlette, content_type: str) -> None:
    body = '{"scenario": "reject:500"}'
    response = await admin_call(app, "POST", "/__mock/scenarios", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    message = response.json()["message"]
    assert f"Content-Type {content_type!r}" in message
    assert "-H 'Content-Type: application/json'" in message
    assert (await admin_call(app, "GET", "/__mock/scenarios")).json()["armed"] == []


async def test_a_body_without_content_type_gets_415(app: Starlette) -> None:
    response = await admin_call(app, "POST", "/__mock/clock/advance", content=b'{"seconds": 1}')
    assert response.status_code == 415
    assert "no Content-Type" in response.json()["message"]


async def test_json_bodies_and_bodiless_state_changes_pass(app: Starlette) -> None:
    armed = await admin_call(
        app,
        "POST",
        "/__mock/scenarios",
        content=b'{"scenario": "fail"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert armed.status_code == 201
    assert (await admin_call(app, "DELETE", "/__mock/scenarios")).status_code == 200
    assert (await admin_call(app, "POST", "/__mock/reset", headers={"Content-Type": "text/plain"})).status_code == 200


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://rebind.attacker.example:8080", "null", "http://localhost:3000"]
)
async def test_a_state_change_from_a_foreign_origin_is_refused(app: Starlette, origin: str) -> None:
    response = await admin_call(
        app, "POST", "/__mock/scenarios", json={"scenario": "reject:500"}, headers={"Origin": origin}
    )
    assert response.status_code == 403
    assert f"Origin {origin!r}" in response.json()["message"]
    assert (await admin_call(app, "GET", "/__mock/scenarios")).json()["armed"] == []


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"])
async def test_the_servers_own_origin_may_change_state(app: Starlette, origin: str) -> None:
    response = await admin_call(app, "POST", "/__mock/reset", headers={"Origin": origin})
    assert response.status_code == 200


async def test_an_admin_host_origin_may_change_state(clock: VirtualClock) -> None:
    app = create_app(Settings(admin_host=("qa.internal",)), clock=clock)
    allowed = await admin_call(app, "POST", "/__mock/reset", headers={"Origin": "https://qa.internal"})
    assert allowed.status_code == 200
    refused = await admin_call(app, "POST", "/__mock/reset", headers={"Origin": "https://evil.example"})
    assert "--admin-host evil.example" in refused.json()["message"]


async def test_the_cross_site_attack_from_the_issue_no_longer_arms_a_fault(
    app: Starlette, api: httpx.AsyncClient
) -> None:
    # A browser page's "simple" request: text/plain, its own Origin, no preflight.
    attack = await admin_call(
        app,
        "POST",
        "/__mock/scenarios",
        content=b'{"scenario": "reject:500"}',
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"},
    )
    assert attack.status_code == 403
    assert (await api.post(IMAGINE, json={"prompt": "x"})).status_code == 200


async def test_reads_from_a_foreign_origin_are_not_refused_by_origin(app: Starlette) -> None:
    # A browser cannot read the answer cross-site (no CORS headers), and Host still has to be loopback.
    response = await admin_call(app, "GET", "/__mock/health", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
