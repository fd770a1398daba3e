"""Scenarios on proxied traffic: wire scenarios act, scenarios that need a job the mock owns are refused (400).

A real upstream runs the job, so ``fail``, ``stall``, ``timeout``, ``flaky`` and the other job scenarios have
nothing to shape, and ``credits`` has no balance to set. Refusing them out loud beats forwarding a request whose
scenario silently does nothing. ``success`` (the default, no change) is allowed.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import HttpError
from mock_server.domain.scenarios.engine import Selection
from mock_server.domain.scenarios.registry import Scenario, parse_list
from mock_server.web.answers import send_json
from mock_server.web.middleware.journal import add_tag

WIRE_ONLY = ("latency", "reject", "disconnect", "garbage")


def needs_a_job(scenario: Scenario) -> bool:
    """Whether a scenario acts on the mock's own job or balance, which a proxied request does not have."""
    return (scenario.kind == "job" and scenario.name != "success") or scenario.name == "credits"


def refusal(scenarios: str | tuple[Scenario, ...]) -> str | None:
    """Why scenarios cannot act on proxied traffic (None: they can), e.g. for ``--scenario`` at start-up."""
    chosen = parse_list(scenarios) if isinstance(scenarios, str) else scenarios
    bad = [s.text for s in chosen if needs_a_job(s)]
    if not bad:
        return None
    return (
        f"Scenario {', '.join(bad)} needs a job or a balance the mock owns, and the proxy forwards to a real "
        f"upstream; use wire scenarios on the proxy ({', '.join(WIRE_ONLY)}), or flux-mock serve for job scenarios."
    )


class ProxyScenarioGuard:
    """Answer 400 (never forwarded) when the selected scenarios need a fake job."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        selection: Selection | None = scope.get("state", {}).get("selection") if scope["type"] == "http" else None
        reason = refusal(selection.scenarios) if selection is not None else None
        if reason is None:
            await self.app(scope, receive, send)
            return
        add_tag(scope, "proxy:refused-scenario")
        error = HttpError(400, f"Bad scenario for the proxy ({selection.source if selection else ''}): {reason}")
        await send_json(send, error.status, error.body())
