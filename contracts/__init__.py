"""flux-mock contract kit: check servers and clients against openapi.yaml.

Names are resolved on first use (PEP 562), so that pytest loading the ``flux_mock`` plugin
(``contracts.plugin``, which imports this package first) imports nothing heavy: the plugin must cost
nothing in test runs that do not use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.calls import RealTimer, VirtualTimer
    from contracts.checks import CHECKS, check_history, check_message
    from contracts.client_checks import CLIENT_CHECKS, ClientRules, ClientViolation, Exchange, client_check, run_checks
    from contracts.client_verify import ClientRun, ScenarioResult, VerifyError, VerifyOptions, VerifyReport, verify_client
    from contracts.failures import ContractFailure, ContractViolation, raise_for
    from contracts.plugin import FluxMock, FluxMockASGI
    from contracts.reporting import CheckReport, Outcome, render_summary, write_junit
    from contracts.schema import contract, load_schema, schema_errors, validator_for
    from contracts.server_check import CheckOptions, run_check
    from contracts.strategies import imagine_requests, imagine_rule_names, invalid_imagine_requests, invalid_requests, invalid_upscale_requests, messages, requests, rule_names, upscale_requests, webhook_payloads
    from contracts.verify_report import format_report, junit_xml

# Public name -> the submodule that defines it.
_EXPORTS: dict[str, str] = {
    "CHECKS": "checks",
    "CheckOptions": "server_check",
    "CheckReport": "reporting",
    "ContractFailure": "failures",
    "ContractViolation": "failures",
    "Outcome": "reporting",
    "RealTimer": "calls",
    "VirtualTimer": "calls",
    "check_history": "checks",
    "check_message": "checks",
    "contract": "schema",
    "imagine_requests": "strategies",
    "imagine_rule_names": "strategies",
    "invalid_imagine_requests": "strategies",
    "invalid_upscale_requests": "strategies",
    "invalid_requests": "strategies",
    "requests": "strategies",
    "rule_names": "strategies",
    "load_schema": "schema",
    "messages": "strategies",
    "raise_for": "failures",
    "render_summary": "reporting",
    "run_check": "server_check",
    "schema_errors": "schema",
    "upscale_requests": "strategies",
    "validator_for": "schema",
    "webhook_payloads": "strategies",
    "write_junit": "reporting",
    "CLIENT_CHECKS": "client_checks",
    "ClientRules": "client_checks",
    "ClientRun": "client_verify",
    "ClientViolation": "client_checks",
    "Exchange": "client_checks",
    "FluxMock": "plugin",
    "FluxMockASGI": "plugin",
    "ScenarioResult": "client_verify",
    "VerifyError": "client_verify",
    "VerifyOptions": "client_verify",
    "VerifyReport": "client_verify",
    "client_check": "client_checks",
    "format_report": "verify_report",
    "junit_xml": "verify_report",
    "run_checks": "client_checks",
    "verify_client": "client_verify",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
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
