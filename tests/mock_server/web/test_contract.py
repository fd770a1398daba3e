"""Schemathesis against the mock, in-process: examples, coverage, fuzzing and stateful (through the links).

Seeded and without the example database, so a failure replays. Zero failures is the bar.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case

from mock_server import Settings, VirtualClock, create_app, spec_path

# The whole spec, every phase, 40 examples an operation: minutes of CPU, so in the slow tier (.ci/run runs it).
pytestmark = pytest.mark.slow

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": 40, "database": "none", "deterministic": True},
        "seed": 1234,
        "auth": {"openapi": {"bearerAuth": {"bearer": "sk-contract"}}},
    }
)
schema = schemathesis.openapi.from_path(spec_path(), config=CONFIG)
# Jobs finish instantly on this clock unless it is advanced, so the stateful phase sees QUEUED..DONE variety
# through the concurrency queue; the store is shared across examples like a real server's.
# The contract allows any http(s) webhookOverride; the mock's defaults accept every host and block the deliveries
# to hosts off its allow-list (an x-mock-extension), so plain fuzzing with default webhook settings must pass.
SETTINGS = Settings(api_keys=("sk-contract",), job_seconds=2, concurrency=2)
schema.app = create_app(SETTINGS, clock=VirtualClock())


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: Case) -> None:
    case.call_and_validate()


Workflow = schema.as_state_machine()
Workflow.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
TestStateful = Workflow.TestCase
