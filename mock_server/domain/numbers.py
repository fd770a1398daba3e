"""Whole numbers as they arrive in URLs (path and query), read as NestJS reads them.

`str.isdigit` is not the test: it is true for a superscript two, which `int` refuses (a 500), and for an
Arabic-Indic one, which `int` reads as 1. Only
ASCII digits, with an optional sign and surrounding spaces, are a number; anything else stays text, for the
validator to refuse by name.
"""

from __future__ import annotations

import re

_WHOLE = re.compile(r"[ \t]*(-?[0-9]+)[ \t]*")
INT64_MAX = 2**63 - 1  # the largest count any store (Redis included) holds


def whole_number(text: str) -> int | None:
    """The integer `text` spells in ASCII digits (optional '-', spaces around), or None."""
    match = _WHOLE.fullmatch(text)
    return int(match.group(1)) if match else None


def sequence_number(text: str) -> int | None:
    """A journal position: a whole number from 0 to `INT64_MAX`, or None."""
    value = whole_number(text)
    return value if value is not None and 0 <= value <= INT64_MAX else None
