"""The contract file itself: valid OpenAPI 3.1, shipped unchanged in the wheel, and complete."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from mock_server import SpecError, load_spec, spec_path
from mock_server.contract.spec import Spec, load_document

ROOT = Path(__file__).resolve().parents[3]


def test_spec_is_valid_openapi_31() -> None:
    document = load_document(ROOT / "openapi.yaml")
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any structural error, including the webhooks section


def test_packaged_copy_equals_the_root_one(tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder

    wheel = next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])))
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("mock_server/openapi.yaml")
        names = archive.namelist()
    assert packaged == (ROOT / "openapi.yaml").read_bytes()
    assert "mock_server/py.typed" in names
    assert any(n.startswith("contracts/") for n in names)


def test_loader_reads_the_root_file_in_a_checkout() -> None:
    assert spec_path().read_bytes() == (ROOT / "openapi.yaml").read_bytes()


def test_every_inferred_rule_says_why() -> None:
    def walk(node: object, where: str) -> list[str]:
        found = []
        if isinstance(node, dict):
            if "x-inferred" in node:
                reason = node["x-inferred"]
                assert isinstance(reason, str), where
                assert len(reason) > 20, f"{where}: x-inferred needs a reason"
                found.append(where)
            for key, value in node.items():
                found += walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                found += walk(value, f"{where}/{i}")
        return found

    inferred = walk(load_spec().document, "")
    assert any("width" in w for w in inferred)
    assert any("TooManyRequests" in w for w in inferred)


def test_documented_rules_are_in_the_spec() -> None:
    props = load_spec().schema("ImagineRequest")["properties"]
    assert (props["n"]["minimum"], props["n"]["maximum"], props["n"]["default"]) == (1, 4, 1)
    assert (props["timeout"]["minimum"], props["timeout"]["maximum"], props["timeout"]["default"]) == (10, 900, 900)
    assert props["width"]["multipleOf"] == props["height"]["multipleOf"] == 8
    assert props["output_quality"]["default"] == "100"
    assert props["model"]["default"] == "flux-1.1-pro"
    assert load_spec().schema("ImagineRequest")["required"] == ["prompt"]


def test_links_feed_both_progress_operations() -> None:
    links = load_spec().document["components"]["responses"]["JobCreated"]["links"]
    assert {link["operationId"] for link in links.values()} == {"fetchMessage", "fetchMessageLegacy"}


def test_webhook_payload_is_the_message_schema() -> None:
    hook = load_spec().document["webhooks"]["messageUpdate"]["post"]
    assert hook["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Message"}


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"openapi": "3.1.0"}, "no 'paths'"),
        ({"paths": {"/x": {"get": {"responses": {}}}}}, "no operationId"),
        (
            {"paths": {"/x": {"get": {"operationId": "a", "x-mock-kind": "read", "parameters": [{"$ref": "#/nope"}]}}}},
            "does not resolve",
        ),
        ({"paths": {"/x": {"post": {"operationId": "a"}}}}, "has no x-mock-kind"),
        ({"paths": {"/x": {"post": {"operationId": "a", "x-mock-kind": "create"}}}}, "must be create:<job kind>"),
        ({"paths": {"/x": {"get": {"operationId": "a", "x-mock-kind": "poll:imagine"}}}}, "must be create:<job kind>"),
        ({"paths": {"/x": {"get": {"operationId": "a", "x-mock-kind": "download"}}}}, "must be create:<job kind>"),
    ],
)
def test_bad_documents_get_clear_errors(document: dict[str, object], needle: str) -> None:
    with pytest.raises(SpecError, match=needle):
        Spec(document)


def test_every_operation_is_classified() -> None:
    spec = load_spec()
    kinds = {op.operation_id: (op.role, op.job_kind) for op in spec.operations.values()}
    assert {k: kinds[k] for k in ("fluxImagine", "fluxUpscale", "fetchMessage", "mjButtonLegacy", "accountInfo")} == {
        "fluxImagine": ("create", "imagine"),
        "fluxUpscale": ("create", "upscale"),
        "fetchMessage": ("poll", None),
        "mjButtonLegacy": ("create", "button"),
        "accountInfo": ("read", None),
    }
    assert [op.operation_id for op in spec.by_role("poll")] == ["fetchMessage", "fetchMessageLegacy", "videoFetch"]
    assert spec.image_path == "/storage/v1/object/public/cdn"


def test_every_job_kind_of_the_spec_is_in_the_table_and_back() -> None:
    from mock_server.domain.kinds import KINDS

    named = {op.job_kind for op in load_spec().by_role("create")}
    assert named == set(KINDS)  # no kind without an operation, no operation without a kind


def test_image_path_must_end_in_name() -> None:
    spec = Spec({"info": {"x-mock-downloads": {"images": "/cdn"}}, "paths": {}})
    with pytest.raises(SpecError, match="must be a path ending in"):
        _ = spec.image_path


def test_unknown_operation_lists_known_ones() -> None:
    with pytest.raises(SpecError, match="fetchMessage"):
        load_spec().operation("nope")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="Cannot read"):
        load_document(tmp_path / "missing.yaml")


# The parsed document is cached on disk, named by the file's bytes (contract/cache).


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "flux-mock"


def test_an_edited_file_is_parsed_again_never_served_from_the_cache(tmp_path: Path, cache_home: Path) -> None:
    source = tmp_path / "api.yaml"
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {title: one}\n")
    assert load_document(source)["info"]["title"] == "one"
    assert load_document(source)["info"]["title"] == "one"  # the second read comes from the cache
    assert len(list(cache_home.glob("document-*"))) == 1
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {title: two}\n")
    assert load_document(source)["info"]["title"] == "two"
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {title: one}\n")
    assert load_document(source)["info"]["title"] == "one"


def test_a_cached_parse_is_the_parse(cache_home: Path) -> None:
    fresh = load_document(ROOT / "openapi.yaml")
    assert len(list(cache_home.glob("document-*"))) == 1
    cached = load_document(ROOT / "openapi.yaml")
    assert cached == fresh
    assert cached is not fresh  # each caller gets its own copy to change


def test_a_damaged_entry_is_parsed_again(tmp_path: Path, cache_home: Path) -> None:
    source = tmp_path / "api.yaml"
    source.write_text("paths: {}\ninfo: {title: one}\n")
    load_document(source)
    (entry,) = cache_home.glob("document-*")
    entry.write_bytes(entry.read_bytes()[:7])
    assert load_document(source) == {"paths": {}, "info": {"title": "one"}}


def test_a_file_that_is_not_yaml_is_refused_at_every_load(tmp_path: Path, cache_home: Path) -> None:
    source = tmp_path / "api.yaml"
    source.write_text("paths: [unclosed\n")
    for _ in range(2):
        with pytest.raises(SpecError, match=r"api\.yaml is not valid YAML"):
            load_document(source)
    assert not list(cache_home.glob("document-*"))


def test_a_document_the_cache_cannot_hold_is_still_read(tmp_path: Path, cache_home: Path) -> None:
    source = tmp_path / "api.yaml"
    source.write_text("paths: {}\ninfo: {released: 2026-01-01 10:00:00}\n")  # a YAML timestamp: a datetime
    assert load_document(source)["info"]["released"].year == 2026
    assert load_document(source)["info"]["released"].year == 2026
    assert not list(cache_home.glob("document-*"))
