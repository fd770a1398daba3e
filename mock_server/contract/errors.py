"""Exceptions raised by flux-mock.

Hierarchy::

    MockServerError
    ├── SpecError               the OpenAPI document cannot be loaded or lacks an operation
    ├── SettingsError(ValueError)   a setting has a bad value
    ├── UnknownScenario(LookupError) a scenario name is not registered
    ├── ScenarioError(ValueError)    a scenario argument, rule or scenario file is invalid
    ├── ConnectionDropped(ConnectionError) the disconnect scenario dropped a request (in-process only)
    └── JobNotFound(LookupError)     no job has that messageId
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MockServerError(Exception):
    """Base class of every error flux-mock raises on purpose."""


class SpecError(MockServerError):
    """Raised when openapi.yaml cannot be loaded or lacks something the mock needs."""


class SettingsError(MockServerError, ValueError):
    """Raised when a setting has a value outside its rule."""


class UnknownScenario(MockServerError, LookupError):
    """Raised when a scenario name is not registered; `name` is the name given, `known` the registered ones."""

    def __init__(self, message: str, name: str = "", known: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.known = known


class ScenarioError(MockServerError, ValueError):
    """Raised when a scenario argument, an armed rule or a scenario file is invalid."""


class ConnectionDropped(MockServerError, ConnectionError):
    """Raised in-process when the disconnect scenario drops a request; a real server closes the socket instead."""


class JobNotFound(MockServerError, LookupError):
    """Raised when no job has the given messageId."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean 'x'?' for the closest choice, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
