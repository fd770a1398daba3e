"""`uvicorn --http bench.limited_http:Protocol`: the connection-limited protocol `flux-mock serve` uses.

Built with the default Settings' limits, exactly as `mock_server.run.server.uvicorn_config` builds it, so
bench/limits.py can load the same app with and without it in one run.
"""

from __future__ import annotations

from mock_server import Settings
from mock_server.run.connections import Limits, limited_protocol

Protocol = limited_protocol(Limits.from_settings(Settings()))
