"""pytest plugin (``pytest11`` entry point ``flux_mock``); fixtures arrive with the contract kit."""

from __future__ import annotations
