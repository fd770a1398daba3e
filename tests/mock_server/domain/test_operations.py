"""The one classification of requests, read from the spec's x-mock-kind."""

from __future__ import annotations

import copy

import httpx
import pytest

from mock_server import Settings, SpecError, VirtualClock, create_app, load_spec
from mock_server.contract.spec import Spec
from mock_server.domain.operations import DOWNLOAD, OTHER, Classified, Operations, of_scope

OPS = Operations(load_spec())
ID = "7c2b5a53-8d0e-4b73-9b52-0c2f4b1d9e6a"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/v1/flux/imagine", Classified("create", "fluxImagine", "imagine")),
        ("POST", "/api/v1/flux/upscale", Classified("create", "fluxUpscale", "upscale")),
        ("GET", f"/api/v1/message/fetch/{ID}", Classified("poll", "fetchMessage", None, ID)),
        ("GET", f"/api/v1/midjourney/message/{ID}", Classified("poll", "fetchMessageLegacy", None, ID)),
        ("GET", "/api/v1/flux/imagine", Classified("read")),  # undocumented method: still the API (405)
        ("GET", "/api/v1/nothing", Classified("read")),
        ("GET", f"/storage/v1/object/public/cdn/{ID}.png", DOWNLOAD),
        ("GET", "/__mock/health", OTHER),
        ("GET", f"/api/v1/message/fetch/{ID}/extra", Classified("read")),
    ],
)
def test_classify(method: str, path: str, expected: Classified) -> None:
    assert OPS.classify(method, path) == expected


def test_api_covers_documented_and_undocumented_api_paths_only() -> None:
    assert OPS.classify("POST", "/api/v1/flux/imagine").api
    assert OPS.classify("GET", "/api/v1/nothing").api
    assert not DOWNLOAD.api
    assert not OTHER.api
    assert {"fluxImagine", "fluxUpscale", "mjImagine", "mjButton", "videoGenerate"} <= OPS.create_ids
    assert OPS.poll_ids == {"fetchMessage", "fetchMessageLegacy", "videoFetch"}


def test_of_scope_classifies_once() -> None:
    scope = {"method": "POST", "path": "/api/v1/flux/imagine"}
    first = of_scope(scope, OPS)
    scope["path"] = "/elsewhere"  # a second call reads the note, not the path
    assert of_scope(scope, OPS) is first


def test_a_poll_without_message_id_is_a_spec_error() -> None:
    document = {"paths": {"/api/v1/poll": {"get": {"operationId": "p", "x-mock-kind": "poll"}}}}
    with pytest.raises(SpecError, match="must hold"):
        Operations(Spec(document))


def _spec_with_new_create(kind: str) -> Spec:
    document = copy.deepcopy(load_spec().document)
    document["paths"]["/api/v1/flux/imagine-again"] = {
        "post": {**document["paths"]["/api/v1/flux/imagine"]["post"], "operationId": "again", "x-mock-kind": kind}
    }
    return Spec(document)


@pytest.mark.anyio
async def test_a_new_create_path_in_the_spec_gets_job_scenarios_and_credits() -> None:
    # Adding a job-creating operation to the spec is all it takes: the route, scenario selection and
    # credits follow from its x-mock-kind.
    spec = _spec_with_new_create("create:imagine")
    app = create_app(Settings(seed=1, credits=6), clock=VirtualClock(), spec=spec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        headers = {"Authorization": "Bearer sk-a", "X-Mock-Scenario": "fail:50"}
        created = await client.post("/api/v1/flux/imagine-again", json={"prompt": "fox"}, headers=headers)
        assert created.status_code == 200, created.text
        job = app.state.control.job(created.json()["messageId"])
        assert (job.kind, job.scenario, job.timing.fail_at) == ("imagine", "fail:50", 50)
        again = await client.post("/api/v1/flux/imagine-again", json={"prompt": "fox"}, headers=headers)
        assert (again.status_code, again.json()["message"]) == (401, "Insufficient credits")


def test_a_create_of_an_unknown_kind_is_refused_at_start() -> None:
    with pytest.raises(SpecError, match="names no job kind"):
        create_app(Settings(seed=1), clock=VirtualClock(), spec=_spec_with_new_create("create:teleport"))
