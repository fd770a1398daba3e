"""Load examples/mj_client.py (not a package; it imports examples/client.py by bare name) so each Midjourney
mutant can subclass its `MidjourneyClient` and break one thing."""

from __future__ import annotations

import sys
from pathlib import Path

_EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
if str(_EXAMPLES) not in sys.path:
    sys.path.insert(0, str(_EXAMPLES))

import mj_client  # noqa: E402  (examples/ must be on the path first)

MidjourneyClient = mj_client.MidjourneyClient
main = mj_client.main
