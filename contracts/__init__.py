"""flux-mock contract kit: check servers and clients against openapi.yaml."""

from __future__ import annotations

from .calls import RealTimer, VirtualTimer
from .checks import CHECKS, check_history, check_message
from .failures import ContractFailure, ContractViolation, raise_for
from .reporting import CheckReport, Outcome, render_summary, write_junit
from .schema import contract, load_schema, schema_errors, validator_for
from .server_check import CheckOptions, run_check
from .strategies import (
    imagine_requests,
    imagine_rule_names,
    invalid_imagine_requests,
    invalid_upscale_requests,
    messages,
    upscale_requests,
    webhook_payloads,
)

__all__ = [
    # checks and failures
    "CHECKS",
    # checking a server (flux-mock check)
    "CheckOptions",
    "CheckReport",
    "ContractFailure",
    "ContractViolation",
    "Outcome",
    "RealTimer",
    "VirtualTimer",
    "check_history",
    "check_message",
    # the contract
    "contract",
    # strategies
    "imagine_requests",
    "imagine_rule_names",
    "invalid_imagine_requests",
    "invalid_upscale_requests",
    "load_schema",
    "messages",
    "raise_for",
    "render_summary",
    "run_check",
    "schema_errors",
    "upscale_requests",
    "validator_for",
    "webhook_payloads",
    "write_junit",
]
