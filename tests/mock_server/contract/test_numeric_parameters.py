"""Every integer and number parameter of both specs, sent hostile values over the socket: never a 5xx.

The walk is derived from openapi.yaml and admin_openapi.yaml (path, query, header and top-level JSON body
properties), so a parameter added to either spec joins it. A value the parameter's schema refuses (huge,
negative, fractional, non-numeric) must get a 4xx whose body names the parameter; a value it allows may pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mock_server import Settings
from mock_server.contract.spec import ADMIN_PREFIX, load_document, spec_path
from mock_server.run.server import LiveServer

KEY = "sk-test"
ADMIN_SPEC = Path(__file__).resolve().parents[3] / "mock_server" / "contract" / "admin_openapi.yaml"
# What an admin operation needs besides the walked property, so the property's own check is reached.
ADMIN_BODIES: dict[str, dict[str, Any]] = {
    "/scenarios": {"scenario": "fail"},
    "/credits": {"account": KEY},
}
MESSAGE_ID = "{messageId}"


@dataclass(frozen=True)
class Parameter:
    method: str
    path: str  # as sent, with prefix; {messageId} stands for a real job's id
    where: str  # path, query, header or body
    name: str
    schema: dict[str, Any]
    base: dict[str, Any]  # the rest of a body

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where} {self.name}"


def resolve(document: dict[str, Any], node: Any) -> Any:
    """`node` with its $ref (local, possibly chained) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def numeric(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type", [])
    return bool({"integer", "number"} & set([kinds] if isinstance(kinds, str) else kinds))


def parameters(path: Path, prefix: str, bodies: dict[str, dict[str, Any]]) -> Iterator[Parameter]:
    document = load_document(path)
    for template, item in document["paths"].items():
        common = item.get("parameters", [])
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            sent = prefix + re.sub(r"\{messageId\}", MESSAGE_ID, template)
            for raw in [*common, *operation.get("parameters", [])]:
                parameter = resolve(document, raw)
                schema = resolve(document, parameter.get("schema", {}))
                if numeric(schema):
                    yield Parameter(method, sent, parameter["in"], parameter["name"], schema, {})
            content = resolve(document, operation.get("requestBody", {})).get("content", {})
            body = resolve(document, content.get("application/json", {}).get("schema", {}))
            for name, raw in body.get("properties", {}).items():
                schema = resolve(document, raw)
                if numeric(schema):
                    yield Parameter(method, sent, "body", name, schema, bodies.get(template, {}))


WALK = [
    *parameters(spec_path(), "", {}),
    *parameters(ADMIN_SPEC, ADMIN_PREFIX, ADMIN_BODIES),
]

HUGE = st.integers(min_value=2**63).map(lambda n: n * 10 ** (n % 40))
NEGATIVE = st.integers(max_value=-1) | st.integers(max_value=-(2**63))
FRACTIONAL = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer())
# Digits `int` reads but NestJS does not (Arabic-Indic, "1_0"), or that `str.isdigit` passes and `int` refuses (²).
ODD = st.sampled_from(
    ["NaN", "Infinity", "-inf", "1e400", "0x10", " 1", "1_0", "\u00b2", "\u0661", "\u0663\u0662", "+1", "0.0"]
)
WORDS = st.text(min_size=1, max_size=12) | ODD | st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=4)
AS_TEXT = (HUGE | NEGATIVE).map(str) | FRACTIONAL.map(repr) | WORDS
AS_JSON = HUGE | NEGATIVE | FRACTIONAL | WORDS | st.booleans() | st.lists(st.integers(), max_size=2)


def allowed(parameter: Parameter, value: object) -> bool:
    """Whether the parameter's own schema accepts `value` (text in a URL: read as NestJS reads numbers)."""
    if isinstance(value, str) and parameter.where != "body":
        value = value.strip(" \t")
        if re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        elif re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", value) and "number" in str(parameter.schema):
            value = float(value)
            if value in (float("inf"), float("-inf")):
                return False
        else:
            return False
    return jsonschema.Draft202012Validator(parameter.schema).is_valid(value)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(settings=Settings(api_keys=(KEY,))) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as live:
        created = live.post("/api/v1/flux/imagine", json={"prompt": "a walk over every number"})
        assert created.status_code == 200, created.text
        live.headers["x-job"] = created.json()["messageId"]
        yield live


def send(client: httpx.Client, parameter: Parameter, value: object) -> httpx.Response:
    path = parameter.path.replace(MESSAGE_ID, client.headers["x-job"])
    if parameter.where == "path":
        path = path.replace("{" + parameter.name + "}", quote(str(value), safe="") or "%20")
        return client.request(parameter.method, path)
    if parameter.where == "query":
        return client.request(parameter.method, path, params={parameter.name: str(value)})
    if parameter.where == "header":
        return client.request(parameter.method, path, headers={parameter.name: str(value)})
    return client.request(parameter.method, path, json={**parameter.base, parameter.name: value})


def test_the_walk_covers_both_specs() -> None:
    walked = {str(p) for p in WALK}
    assert "GET /api/v1/discord/token/{id} path id" in walked
    assert "GET /api/v1/nova/images query page" in walked
    assert "POST /api/v1/flux/upscale body scale" in walked
    assert "GET /__mock/requests query since" in walked
    assert "POST /__mock/clock/advance body seconds" in walked
    assert len(WALK) >= 50


@pytest.mark.parametrize("parameter", WALK, ids=str)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_value_of_a_numeric_parameter_answers_5xx(
    client: httpx.Client, parameter: Parameter, data: st.DataObject
) -> None:
    value = data.draw(AS_JSON if parameter.where == "body" else AS_TEXT, label=parameter.name)
    # A slash in a path value addresses another path (routing's 404 or trailing-slash redirect), not the parameter.
    assume(parameter.where != "path" or "/" not in str(value))
    response = send(client, parameter, value)
    assert response.status_code < 500, f"{parameter} = {value!r}: {response.status_code} {response.text[:500]}"
    if not allowed(parameter, value):
        assert 400 <= response.status_code < 500, f"{parameter} = {value!r} passed: {response.text[:300]}"
        assert parameter.name in response.text, f"{parameter} = {value!r}: the answer does not name it: {response.text}"
