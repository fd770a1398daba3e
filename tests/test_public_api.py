"""The deliberate public surface, and the layering rules of ARCHITECTURE.md."""

from __future__ import annotations

import ast
from pathlib import Path

import contracts
import mock_server

ROOT = Path(__file__).resolve().parents[1]


# The public surface, pinned: adding or removing a name is a deliberate change to this list.
MOCK_SERVER_API = [
    "Clock",
    "ConnectionDropped",
    "JobNotFound",
    "JobStatus",
    "Journal",
    "LiveServer",
    "MockControl",
    "MockServerError",
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
    "load_spec",
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
    "invalid_upscale_requests",
    "junit_xml",
    "load_schema",
    "messages",
    "raise_for",
    "render_summary",
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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.add("." * node.level + (node.module or ""))
    return found


def test_mock_server_never_imports_contracts() -> None:
    for path in (ROOT / "mock_server").rglob("*.py"):
        assert not any(i == "contracts" or i.startswith("contracts.") for i in _imports(path)), path


def test_pure_modules_import_no_web_framework() -> None:
    for name in ("lifecycle.py", "clock.py", "jobs.py", "validation.py", "messages.py", "images.py", "journal.py"):
        imports = _imports(ROOT / "mock_server" / name)
        assert not any(i.split(".")[0] in {"starlette", "httpx", "uvicorn"} for i in imports), name


def test_contracts_use_only_the_public_mock_api() -> None:
    # `from mock_server import X` is fine when X is exported; `mock_server.<module>` is internal.
    for path in (ROOT / "contracts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mock_server"):
                assert node.module == "mock_server", f"{path}: imports internal {node.module}"
                for alias in node.names:
                    assert alias.name in mock_server.__all__, f"{path}: {alias.name} is not public"


def test_pure_timer_and_webhook_modules_import_no_web_framework() -> None:
    # signing, faults, events, retry and journal are pure; targets uses httpx's URL parser on purpose (the
    # allow-list must read a URL exactly as the sender will).
    names = (
        "scheduler.py",
        "webhooks/events.py",
        "webhooks/faults.py",
        "webhooks/signing.py",
        "webhooks/retry.py",
        "webhooks/journal.py",
    )
    for name in names:
        imports = _imports(ROOT / "mock_server" / name)
        assert not any(i.split(".")[0] in {"starlette", "httpx", "uvicorn"} for i in imports), name
