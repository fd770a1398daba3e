"""Load examples/client.py (not a package) so each mutant can subclass its `FluxClient` and break one thing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[3] / "examples" / "client.py"
_spec = importlib.util.spec_from_file_location("flux_example_client", _PATH)
assert _spec is not None
assert _spec.loader is not None
example = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = example  # dataclasses look the module up while the class is built
_spec.loader.exec_module(example)

FluxClient = example.FluxClient
main = example.main
