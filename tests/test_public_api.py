"""The deliberate public surface, and that ARCHITECTURE.md's layers cover every module.

The layers themselves are import-linter contracts in pyproject.toml, checked by `lint-imports` in .ci/run.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest

import contracts
import mock_server

ROOT = Path(__file__).resolve().parents[1]


# The public surface, pinned: adding or removing a name is a deliberate change to this list.
MOCK_SERVER_API = [
    "Clock",
    "ConnectionDropped",
    "HarEntry",
    "HarError",
    "HarRecorder",
    "JobNotFound",
    "JobStatus",
    "Journal",
    "LiveServer",
    "MockControl",
    "MockServerError",
    "ProxiedExchange",
    "ProxyOptions",
    "ReceivedWebhook",
    "RequestRecorded",
    "ScenarioError",
    "Services",
    "Settings",
    "SettingsError",
    "Spec",
    "SpecError",
    "SystemClock",
    "UnknownScenario",
    "Violation",
    "VirtualClock",
    "WebhookAttempted",
    "WebhookReceiver",
    "WebhookReply",
    "__version__",
    "create_app",
    "create_proxy_app",
    "load_har",
    "load_spec",
    "serve_proxy",
    "settings_from_cli",
    "settings_options",
    "spec_path",
]

CONTRACTS_API = [
    "CHECKS",
    "CLIENT_CHECKS",
    "CheckOptions",
    "CheckReport",
    "ClientRules",
    "ClientRun",
    "ClientViolation",
    "ContractFailure",
    "ContractViolation",
    "Exchange",
    "FluxMock",
    "FluxMockASGI",
    "Outcome",
    "RealTimer",
    "ScenarioResult",
    "VerifyError",
    "VerifyOptions",
    "VerifyReport",
    "VirtualTimer",
    "check_history",
    "check_message",
    "client_check",
    "contract",
    "format_report",
    "imagine_requests",
    "imagine_rule_names",
    "invalid_imagine_requests",
    "invalid_requests",
    "invalid_upscale_requests",
    "junit_xml",
    "load_schema",
    "messages",
    "raise_for",
    "render_summary",
    "requests",
    "rule_names",
    "run_check",
    "run_checks",
    "schema_errors",
    "upscale_requests",
    "validator_for",
    "verify_client",
    "webhook_payloads",
    "write_junit",
]


def test_mock_server_exports() -> None:
    assert sorted(mock_server.__all__) == MOCK_SERVER_API
    for name in mock_server.__all__:
        assert hasattr(mock_server, name), name


def test_contracts_exports_resolve() -> None:
    assert sorted(contracts.__all__) == CONTRACTS_API
    for name in contracts.__all__:
        assert hasattr(contracts, name), name


def _importlinter() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]
    return config


def _modules(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT / package).with_suffix("").parts
        if parts[-1] != "__init__":
            found.add(".".join(parts))
    return found


@pytest.mark.parametrize("package", ["mock_server", "contracts"])
def test_every_module_has_exactly_one_layer(package: str) -> None:
    # A new module must be placed in ARCHITECTURE.md's picture (and so in import-linter's layers); a layer
    # entry may be a subpackage (e.g. middleware), which places every module in it.
    [layers] = [c for c in _importlinter()["contracts"] if c["type"] == "layers" and c["containers"] == [package]]
    placed = [m.strip() for layer in layers["layers"] for m in layer.split(":")]
    assert len(placed) == len(set(placed))
    for module in _modules(package):
        owners = [p for p in placed if module == p or module.startswith(p + ".")]
        assert len(owners) == 1, f"{package}.{module} is in layers {owners}; place it in exactly one"


def test_every_layered_module_is_in_architecture_md() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for contract in _importlinter()["contracts"]:
        if contract["type"] != "layers":
            continue
        for layer in contract["layers"]:
            for module in layer.split(":"):
                name = module.strip().replace(".", "/")
                assert f"`{name}" in text, f"{name} is layered in pyproject.toml but not named in ARCHITECTURE.md"


def test_contracts_use_only_the_public_mock_api() -> None:
    # `from mock_server import X` is fine when X is exported; `mock_server.<module>` is internal.
    for path in (ROOT / "contracts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mock_server"):
                assert node.module == "mock_server", f"{path}: imports internal {node.module}"
                for alias in node.names:
                    assert alias.name in mock_server.__all__, f"{path}: {alias.name} is not public"
