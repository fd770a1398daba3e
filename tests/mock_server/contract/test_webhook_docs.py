"""The contract documents (openapi.yaml, docs/client/webhooks.md) describe what the code does: headers, faults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from mock_server import Settings
from mock_server.domain.webhooks.faults import NAMES
from mock_server.domain.webhooks.signing import Signer
from mock_server.services.webhooks.delivery import Delivery, Dispatcher

ROOT = Path(__file__).resolve().parents[3]
WEBHOOKS_PAGE = (ROOT / "docs" / "client" / "webhooks.md").read_text(encoding="utf-8")
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def sent_headers() -> set[str]:
    dispatcher = Dispatcher(Settings(webhook_secret=SECRET), scheduler=None, journal=None)  # type: ignore[arg-type]
    return set(dispatcher._headers(Delivery("id", "m", "final", "http://127.0.0.1/", b"{}")))


def test_every_header_sent_is_in_the_spec_and_the_webhooks_page() -> None:
    documented = {p["name"] for p in SPEC["webhooks"]["messageUpdate"]["post"]["parameters"]}
    for header in sent_headers() - {"Content-Type", "User-Agent"}:
        assert header in documented
        assert f"`{header}`" in WEBHOOKS_PAGE
    assert set(Signer(SECRET).headers("i", b"{}")) <= documented


def test_every_fault_and_webhook_flag_is_on_the_webhooks_page() -> None:
    section = WEBHOOKS_PAGE
    for name in NAMES:
        if name != "none":
            assert f"`{name}`" in section
    for f in dataclasses.fields(Settings):
        if f.name.startswith("webhook_"):
            flag = "--webhook-allow-host" if f.name == "webhook_allow_hosts" else "--" + f.name.replace("_", "-")
            assert flag in section, flag


def test_spec_documents_the_refusal_as_a_mock_extension() -> None:
    for schema in ("ImagineRequest", "UpscaleRequest"):
        prop = SPEC["components"]["schemas"][schema]["properties"]["webhookOverride"]
        assert "x-mock-webhook-allow-host" in prop["x-mock-extension"]
