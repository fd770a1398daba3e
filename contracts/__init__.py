"""flux-mock contract kit: check servers and clients against openapi.yaml.

Names are resolved on first use (PEP 562), so that pytest loading the ``flux_mock`` plugin
(``contracts.plugin``, which imports this package first) imports nothing heavy: the plugin must cost
nothing in test runs that do not use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client_checks import CLIENT_CHECKS, ClientRules, ClientViolation, Exchange, client_check, run_checks
    from .client_verify import ClientRun, ScenarioResult, VerifyError, VerifyOptions, VerifyReport, verify_client
    from .plugin import FluxMock, FluxMockASGI
    from .verify_report import format_report, junit_xml

# Public name -> the submodule that defines it.
_EXPORTS: dict[str, str] = {
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
    "CLIENT_CHECKS",
    "ClientRules",
    "ClientRun",
    "ClientViolation",
    "Exchange",
    "FluxMock",
    "FluxMockASGI",
    "ScenarioResult",
    "VerifyError",
    "VerifyOptions",
    "VerifyReport",
    "client_check",
    "format_report",
    "junit_xml",
    "run_checks",
    "verify_client",
]
