"""What a broken contract looks like: `ContractFailure` records and the `ContractViolation` error.

Every check in the kit returns a list of `ContractFailure` (empty when the rule holds), so
checks compose and a report can show all of them at once. Code that wants an exception
instead calls `raise_for(failures)`, which raises `ContractViolation`, an `AssertionError`,
so pytest shows it as a test failure, not an error.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final


class _NotGiven:
    """Marker for "no expected/actual value recorded" (None is a real JSON value)."""

    _instance: _NotGiven | None = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = _NotGiven()


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass(frozen=True, slots=True)
class ContractFailure:
    """One broken rule, with everything a person needs to see it and reproduce it.

    Attributes:
        check: name of the check that failed, e.g. ``progress_never_decreases``.
        message: what is wrong and what the server should do instead.
        operation: the operation involved, e.g. ``GET /api/v1/message/fetch/{messageId}``.
        pointer: JSON Pointer into the body that holds the wrong value (``""``: the whole body).
        expected: what the contract wants (`NOT_GIVEN` when not meaningful).
        actual: what was received (`NOT_GIVEN` when not recorded).
        message_id: the job involved, if any.
        curl: copy-paste commands that reproduce the failure.
        seed: the seed of the run that found it (rerun with ``--seed``).
        source: which part of a run found it: ``lifecycle``, ``schemathesis`` or a phase name.
    """

    check: str
    message: str
    operation: str | None = None
    pointer: str = ""
    expected: Any = NOT_GIVEN
    actual: Any = NOT_GIVEN
    message_id: str | None = None
    curl: str | None = None
    seed: int | None = None
    source: str | None = None
    notes: tuple[str, ...] = field(default=())

    def with_context(self, **changes: Any) -> ContractFailure:
        """A copy with some fields filled in (for example the curl line once the engine knows it)."""
        return dataclasses.replace(self, **changes)

    @property
    def title(self) -> str:
        """One line: the check, where, and the message."""
        where = f" {self.operation}" if self.operation else ""
        job = f" (messageId {self.message_id})" if self.message_id else ""
        return f"[{self.check}]{where}{job}: {self.message}"

    def render(self) -> str:
        """The multi-line text shown in summaries and JUnit failure bodies."""
        lines = [self.title]
        if self.pointer:
            lines.append(f"  at: {self.pointer}")
        if self.expected is not NOT_GIVEN:
            lines.append(f"  expected: {_show(self.expected)}")
        if self.actual is not NOT_GIVEN:
            lines.append(f"  actual:   {_show(self.actual)}")
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.curl or self.seed is not None:
            seed = f" (seed {self.seed})" if self.seed is not None else ""
            lines.append(f"  reproduce{seed}:")
            lines.extend(f"    {line}" for line in (self.curl or "").splitlines())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ContractViolation(AssertionError):
    """Raised when one or more contract checks failed; `failures` holds every one of them."""

    def __init__(self, failures: Sequence[ContractFailure]) -> None:
        self.failures: tuple[ContractFailure, ...] = tuple(failures)
        count = len(self.failures)
        head = f"{count} contract failure{'s' if count != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(f.render() for f in self.failures))


def raise_for(failures: Iterable[ContractFailure]) -> None:
    """Raise `ContractViolation` if `failures` is not empty.

    Example:
        raise_for(checks.check_history(history))
    """
    found = list(failures)
    if found:
        raise ContractViolation(found)
