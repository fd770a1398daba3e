"""Format checkers loaded when a check uses them: `rfc3987_syntax` (jsonschema's "iri" formats) on first use.

``jsonschema[format-nongpl]`` imports every optional format checker when jsonschema itself is imported, and
`rfc3987_syntax` builds a lark grammar then: about 1.3 s of every `flux-mock` start (``--help`` included),
although neither spec has an "iri" format. `defer_heavy_checkers` puts a stand-in module in its place
before jsonschema is imported; jsonschema binds the stand-in's `is_valid_syntax`, which imports the real
module on its first call and hands over, so an "iri" check still checks exactly as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

HEAVY = "rfc3987_syntax"


def defer_heavy_checkers() -> None:
    """Make `rfc3987_syntax` load on its first use (a no-op once it is imported, or if it is not installed)."""
    if HEAVY in sys.modules or "jsonschema" in sys.modules or importlib.util.find_spec(HEAVY) is None:
        return
    stand_in = types.ModuleType(HEAVY, f"loads the real {HEAVY} on first use (mock_server.contract.formats)")

    def is_valid_syntax(rule: str, value: str) -> bool:
        if sys.modules.get(HEAVY) is stand_in:
            del sys.modules[HEAVY]
        real = importlib.import_module(HEAVY)
        stand_in.is_valid_syntax = real.is_valid_syntax  # type: ignore[attr-defined]
        return bool(real.is_valid_syntax(rule, value))

    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[HEAVY] = stand_in


defer_heavy_checkers()
