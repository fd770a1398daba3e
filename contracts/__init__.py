"""flux-mock contract kit: check servers and clients against openapi.yaml."""

from __future__ import annotations

from .client_checks import CLIENT_CHECKS, ClientRules, ClientViolation, Exchange, client_check, run_checks
from .client_verify import ClientRun, ScenarioResult, VerifyError, VerifyOptions, VerifyReport, verify_client
from .plugin import FluxMock, FluxMockASGI
from .verify_report import format_report, junit_xml

# Sorted (RUF022); the imports above say which module each name comes from.
__all__: list[str] = [
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
