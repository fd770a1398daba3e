"""`uvicorn --factory bench.mock_factory:app`: the mock with its default Settings, except the port.

The port comes from ``BENCH_MOCK_PORT`` (bench/run.py picks a free loopback port and sets it),
so image URLs in DONE messages point at the right place. ``FLUX_MOCK_*`` variables are
deliberately not read: the benchmark measures the defaults (any non-empty Bearer key passes).
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from mock_server import Settings, create_app

PORT_ENV = "BENCH_MOCK_PORT"


def app() -> Starlette:
    """Build the mock as a live server would, on the port bench/run.py chose."""
    return create_app(Settings(port=int(os.environ.get(PORT_ENV, "0"))))
