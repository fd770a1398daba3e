"""What a job costs, as openapi.yaml says it in each create operation's ``x-credits``.

The one place prices live: the mock's job-kind table charges them and ``flux-mock check`` holds a server to
them, both through `Price.of`. The extension's shape::

    x-credits:
      credits: 10              # what one job costs
      times: n                 # optional: times this request field (1 when the request leaves it out)
      cases:                   # optional: other prices for some requests; the first that matches wins
        - {field: prompt, flag: --relax, credits: 5}      # the prompt carries the Discord-style flag
        - {field: button, equals: Cancel Job, credits: 0}  # the field has exactly this value
      x-inferred: why          # when the real API's documentation gives no price

Operations of one job kind share their block through a YAML anchor, so a price is written once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.contract.errors import SpecError

EXTENSION = "x-credits"


@dataclass(frozen=True, slots=True)
class PriceCase:
    """Another price for the requests whose `field` equals `equals`, or (for a prompt) carries `flag`."""

    field: str
    credits: int
    equals: str | None = None
    flag: str | None = None

    def matches(self, request: Mapping[str, Any]) -> bool:
        """Whether `request` (a body, or the job fields the mock makes of it) is one this case prices."""
        value = request.get(self.field)
        if self.equals is not None:
            return value == self.equals
        # A flag is a word of its own, as Midjourney reads them ("--relax", not "--relaxed"), in any case.
        pattern = rf"(?:^|\s){re.escape(str(self.flag))}(?=\s|$)"
        return isinstance(value, str) and re.search(pattern, value, re.IGNORECASE) is not None


@dataclass(frozen=True, slots=True)
class Price:
    """What one job of an operation costs (see the module docstring); `inferred` says why, when undocumented."""

    credits: int
    times: str | None = None
    cases: tuple[PriceCase, ...] = ()
    inferred: str | None = None

    def of(self, request: Mapping[str, Any]) -> int:
        """The credits one request (a body, or the mock's job fields) costs."""
        for case in self.cases:
            if case.matches(request):
                return case.credits
        factor = request.get(self.times, 1) if self.times is not None else 1
        return self.credits * (factor if isinstance(factor, int) and not isinstance(factor, bool) else 1)


def _whole(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise SpecError(f"{where}: credits must be a whole number of 0 or more, not {raw!r}.")
    return raw


def parse_price(raw: Any, where: str) -> Price:
    """The `Price` an ``x-credits`` block describes; SpecError naming the block and the fix otherwise."""
    if not isinstance(raw, dict) or "credits" not in raw:
        raise SpecError(f"{where}: {EXTENSION} must be a mapping with credits (and optionally times, cases).")
    cases = []
    for i, case in enumerate(raw.get("cases") or []):
        at = f"{where}/cases/{i}"
        if not isinstance(case, dict) or not isinstance(case.get("field"), str):
            raise SpecError(f"{at}: a case needs a field, credits and one of equals or flag.")
        if ("equals" in case) == ("flag" in case):
            raise SpecError(f"{at}: give exactly one of equals (the field's value) or flag (a prompt flag).")
        equals, flag = case.get("equals"), case.get("flag")
        cases.append(
            PriceCase(
                case["field"],
                _whole(case.get("credits"), at),
                None if equals is None else str(equals),
                None if flag is None else str(flag),
            )
        )
    times = raw.get("times")
    if times is not None and not isinstance(times, str):
        raise SpecError(f"{where}: times must name a request field, e.g. n, not {times!r}.")
    inferred = raw.get("x-inferred")
    return Price(_whole(raw["credits"], where), times, tuple(cases), inferred if isinstance(inferred, str) else None)
