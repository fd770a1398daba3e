"""The proxy in front of every server mutant: each mutant's bug is flagged; the faithful mock passes clean."""

from __future__ import annotations

import httpx
import pytest
from mutants import MUTANTS, Mutant
from proxy_session import proxy_app, session, upstream

from contracts.checks import CHECKS
from mock_server import Violation, VirtualClock

pytestmark = pytest.mark.anyio

# What `flux-mock check` calls a finding, in the proxy's words: a broken schema keyword is matches_schema.
ALIASES = {
    "response_schema_conformance": "matches_schema",
    "negative_data_rejection": "rejection_names_field",
    "ignored_auth": "error_status",
}


async def upstream_violations(mutant: Mutant | None, *, probes: bool = True) -> list[Violation]:
    clock = VirtualClock()
    app = proxy_app(upstream(mutant, clock), clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        await session(client, clock, probes=probes)
        found = (await client.get("/__mock/violations")).json()
    return [Violation(**{k: v[k] for k in Violation.__slots__}) for v in found if v["location"] == "response"]


def checks_of(found: list[Violation]) -> set[str]:
    return {v.rule if v.rule in CHECKS else "matches_schema" for v in found}


async def test_the_faithful_mock_passes_clean() -> None:
    assert await upstream_violations(None) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
async def test_every_mutant_is_flagged(mutant: Mutant) -> None:
    found = await upstream_violations(mutant)
    expected = {ALIASES.get(name, name) for name in mutant.expected}
    assert checks_of(found) & expected, f"{mutant.name} ({mutant.bug}) not flagged; saw {sorted(checks_of(found))}"
    # Every violation says where (pointer), what came back (value) and how to fix it (hint).
    assert all(v.hint and v.message for v in found)
