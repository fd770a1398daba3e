"""flux-mock contract kit: check servers and clients against openapi.yaml.

Names are resolved on first use (PEP 562), so that pytest loading the ``flux_mock`` plugin
(``contracts.plugin``, which imports this package first) imports nothing heavy: the plugin must cost
nothing in test runs that do not use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.check.run import CheckOptions, run_check
    from contracts.checks import CHECKS, check_history, check_message
    from contracts.core.calls import RealTimer, VirtualTimer
    from contracts.core.failures import ContractFailure, ContractViolation, raise_for
    from contracts.core.reporting import CheckReport, Outcome, render_summary, write_junit
    from contracts.core.schema import contract, load_schema, schema_errors, validator_for
    from contracts.plugin import FluxMock, FluxMockASGI, ReceiverCheck
    from contracts.receiver.run import (
        ReceiverError,
        ReceiverOptions,
        ReceiverReport,
        ReceiverResult,
        verify_receiver,
        verify_receiver_async,
    )
    from contracts.receiver.verdicts import ReceiverViolation
    from contracts.strategies import (
        invalid_requests,
        messages,
        requests,
        rule_names,
        webhook_payloads,
    )
    from contracts.verify.checks import CLIENT_CHECKS, client_check, run_checks
    from contracts.verify.conduct import ClientRules, ClientViolation, Exchange
    from contracts.verify.options import VerifyError, VerifyOptions
    from contracts.verify.report import format_report, junit_xml
    from contracts.verify.run import ClientRun, ScenarioResult, VerifyReport, verify_client

# Public name -> the submodule that defines it.
_EXPORTS: dict[str, str] = {
    "CHECKS": "checks",
    "CheckOptions": "check.run",
    "CheckReport": "core.reporting",
    "ContractFailure": "core.failures",
    "ContractViolation": "core.failures",
    "Outcome": "core.reporting",
    "RealTimer": "core.calls",
    "VirtualTimer": "core.calls",
    "check_history": "checks",
    "check_message": "checks",
    "contract": "core.schema",
    "invalid_requests": "strategies",
    "requests": "strategies",
    "rule_names": "strategies",
    "load_schema": "core.schema",
    "messages": "strategies",
    "raise_for": "core.failures",
    "render_summary": "core.reporting",
    "run_check": "check.run",
    "schema_errors": "core.schema",
    "validator_for": "core.schema",
    "webhook_payloads": "strategies",
    "write_junit": "core.reporting",
    "CLIENT_CHECKS": "verify.checks",
    "ClientRules": "verify.conduct",
    "ClientRun": "verify.run",
    "ClientViolation": "verify.conduct",
    "Exchange": "verify.conduct",
    "FluxMock": "plugin",
    "FluxMockASGI": "plugin",
    "ReceiverCheck": "plugin",
    "ReceiverError": "receiver.run",
    "ReceiverOptions": "receiver.run",
    "ReceiverReport": "receiver.run",
    "ReceiverResult": "receiver.run",
    "ReceiverViolation": "receiver.verdicts",
    "verify_receiver": "receiver.run",
    "verify_receiver_async": "receiver.run",
    "ScenarioResult": "verify.run",
    "VerifyError": "verify.options",
    "VerifyOptions": "verify.options",
    "VerifyReport": "verify.run",
    "client_check": "verify.checks",
    "format_report": "verify.report",
    "junit_xml": "verify.report",
    "run_checks": "verify.checks",
    "verify_client": "verify.run",
}


# Older names, still importable, no longer in ``__all__``: per-operation forms of the generic strategies
# (``requests("fluxImagine")``, ``invalid_requests("fluxUpscale", rule)``, ``rule_names("fluxImagine")``).
_COMPATIBLE: dict[str, str] = {
    name: "strategies"
    for name in (
        "imagine_requests",
        "imagine_rule_names",
        "invalid_imagine_requests",
        "invalid_upscale_requests",
        "upscale_requests",
    )
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name) or _COMPATIBLE.get(name)
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
    "ReceiverCheck",
    "ReceiverError",
    "ReceiverOptions",
    "ReceiverReport",
    "ReceiverResult",
    "ReceiverViolation",
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
    "invalid_requests",
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
    "validator_for",
    "verify_client",
    "verify_receiver",
    "verify_receiver_async",
    "webhook_payloads",
    "write_junit",
]
