"""The receiver scenarios: what each sends, and what the webhook contract expects back.

Three kinds of expectation (`Expect`):

- ``ack``: every delivery is answered 2xx within the ack timeout. The sender (ImaginePro; flux-mock documents its
  choices in the README's "Delivery contract") retries a timeout, a 5xx or a 429 and counts any other status,
  3xx and 4xx included, as a failed delivery;
- ``tolerate``: a 2xx or a 4xx within the ack timeout, never a 5xx, a 429 or a hang (a body the receiver cannot
  use must not make the sender retry it);
- ``reject``: a 4xx (not a 429), never a 2xx: the delivery is not authentic (signature scenarios).

Scenario texts are names, ``burst`` may carry a size (``burst:50``), and presets (`PRESETS`) stand for lists.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Expect = Literal["ack", "tolerate", "reject"]

BURST_DEFAULT = 16  # twice the mock's default --webhook-concurrency (8 attempts in flight per receiver)
BURST_MAX = 500
TOLERANCE_S = 300  # Standard Webhooks' timestamp tolerance (the standardwebhooks library's, 5 minutes)
SKEW_S = 2 * TOLERANCE_S  # how far off the stale and future timestamps are

_ACK = (
    "answer every valid delivery with a 2xx within the ack timeout; the sender retries a timeout, a 5xx or a 429 "
    "and counts any other status (3xx, 4xx) as a failed delivery"
)
_REJECT = (
    "a delivery that fails Standard Webhooks verification is not from the sender: answer 4xx (400, 401 or 403) "
    "and do not act on it; a 2xx accepts a forgery, a 5xx or 429 asks for the forgery again"
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One named scenario.

    Attributes:
        name: how ``--scenarios`` names it.
        sends: what is sent, in a few words (the report's description).
        expect: what must come back (`Expect`).
        contract: the rule, as the report states it.
        fix: what a receiver that breaks the rule should do.
        signed: only with a secret (the signature scenarios).
    """

    name: str
    sends: str
    expect: Expect
    contract: str
    fix: str
    signed: bool = False


def _ack(name: str, sends: str, fix: str) -> Scenario:
    return Scenario(name, sends, "ack", _ACK, fix)


def _reject(name: str, sends: str, fix: str) -> Scenario:
    return Scenario(name, sends, "reject", _REJECT, fix, signed=True)


_VERIFY = (
    "verify every delivery with standardwebhooks' Webhook(secret).verify(raw_body, headers) before anything else "
    "and answer 400 when it raises"
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _ack(
            "done",
            "the final Message of a Flux job: DONE with uri and images",
            "acknowledge first, then do the slow work (downloads, your own API calls) after answering",
        ),
        _ack(
            "fail",
            "the final Message of a failed job: FAIL with an error and no images",
            "a FAIL Message has error and no uri/images; do not index into images before checking status",
        ),
        _ack(
            "mj-grid",
            "the final Message of a Midjourney grid: DONE with images and buttons (U1-U4, reroll, V1-V4)",
            "accept the keys of every job kind (buttons, originatingMessageId, content, videoUrl, results); "
            "ignore the ones you do not use",
        ),
        _ack(
            "video",
            "the final Message of a video job: DONE with videoUrl and results, no images",
            "a video Message carries videoUrl and results[] instead of uri/images",
        ),
        _ack(
            "progress",
            "progress events of one job, in order (PROCESSING, progress rising; as with --webhook-events progress)",
            "accept progress events (status PROCESSING, no images) as well as final ones",
        ),
        _ack(
            "duplicate",
            "one final delivery twice: the same webhook-id and X-Mock-Delivery-Id, X-Mock-Attempt 1 then 2",
            "deduplicate on webhook-id / X-Mock-Delivery-Id and answer 2xx again for a delivery already handled",
        ),
        _ack(
            "progress-after-final",
            "a job's final event, then its progress events (the mock's out-of-order fault)",
            "keep the final state: acknowledge a progress event for a finished job and ignore it",
        ),
        _ack(
            "early-final",
            "a final DONE sent while the job is still PROCESSING (the mock's early fault), its progress events after",
            "trust the final event; a poll that still says PROCESSING, or a progress event after it, is no reason "
            "to fail the delivery",
        ),
        Scenario(
            "corrupt",
            "a final delivery whose body breaks the Message schema (progress a string, status outside the enum, "
            "updatedAt missing); still signed",
            "tolerate",
            "a body the receiver cannot use gets a 4xx (or a 2xx if it is ignored) within the ack timeout, never a "
            "5xx, a 429 or a hang: those make the sender retry the same body",
            "validate the body and answer 400 (or log it and answer 2xx); never let a parse error become a 500",
        ),
        _reject("bad-signature", "a final delivery signed with another secret", _VERIFY),
        _reject("missing-signature", "a final delivery with webhook-id and -timestamp, no -signature", _VERIFY),
        _reject("tampered-body", "a final delivery whose body was changed after signing (the image URLs)", _VERIFY),
        _reject(
            "stale-timestamp",
            f"a final delivery signed correctly, its webhook-timestamp {SKEW_S // 60} minutes old",
            _VERIFY + f"; it refuses timestamps more than {TOLERANCE_S // 60} minutes off (replays)",
        ),
        _reject(
            "future-timestamp",
            f"a final delivery signed correctly, its webhook-timestamp {SKEW_S // 60} minutes ahead",
            _VERIFY + f"; it refuses timestamps more than {TOLERANCE_S // 60} minutes off",
        ),
        _ack(
            "burst",
            "final deliveries of many jobs at once (burst:N, default 16)",
            "answer fast and do the work in the background, or handle deliveries concurrently",
        ),
    )
}

SIGNATURE = tuple(s.name for s in SCENARIOS.values() if s.signed)
GOOD_DAY = ("done", "fail", "mj-grid", "video", "progress", "duplicate", "corrupt")
DEFAULT_SCENARIOS: tuple[str, ...] = (*GOOD_DAY, *SIGNATURE)
# Named sets: the default is what every receiver sees on a good day plus the signature checks (run only with a
# secret); `all` adds the sender's bad days (events out of order, a final before the job ends) and a burst.
PRESETS: dict[str, tuple[str, ...]] = {
    "default": DEFAULT_SCENARIOS,
    "signature": SIGNATURE,
    "all": tuple(SCENARIOS),
}


class ScenarioError(ValueError):
    """Raised when a scenario text names no scenario, or cannot run as given."""


@dataclass(frozen=True, slots=True)
class Planned:
    """A scenario as one run uses it: its text, its definition and, for a burst, its size."""

    text: str
    scenario: Scenario
    count: int = 1


def parse(text: str) -> Planned:
    """One scenario text (``done``, ``burst``, ``burst:40``); ScenarioError naming the choices otherwise."""
    name, sep, arg = text.strip().partition(":")
    scenario = SCENARIOS.get(name)
    if scenario is None:
        known = [*SCENARIOS, *PRESETS]
        close = difflib.get_close_matches(name, known, n=1) or [k for k in known if name and name in k][:1]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(
            f"{text.strip()!r} is not a receiver scenario.{hint} Scenarios: {', '.join(SCENARIOS)}; "
            f"presets: {', '.join(PRESETS)}."
        )
    if not sep:
        return Planned(name, scenario, BURST_DEFAULT if name == "burst" else 1)
    if name != "burst":
        raise ScenarioError(f"{text.strip()!r}: only burst takes a value (burst:N); write {name}.")
    if not arg.isdigit() or not 2 <= int(arg) <= BURST_MAX:
        raise ScenarioError(f"{text.strip()!r}: N in burst:N is a whole number from 2 to {BURST_MAX}, e.g. burst:50.")
    return Planned(f"burst:{int(arg)}", scenario, int(arg))


def plan(texts: Sequence[str], *, signed: bool) -> tuple[tuple[Planned, ...], tuple[str, ...]]:
    """The scenarios to run, in order, once each, and the signature scenarios left out for want of a secret.

    Presets expand in place. A signature scenario named by itself without a secret is a ScenarioError; one
    that came from a preset is left out (and returned, so the report can say so).
    """
    chosen: list[Planned] = []
    skipped: list[str] = []
    for raw in texts:
        text = raw.strip()
        if not text:
            continue
        preset = PRESETS.get(text)
        for item in preset or (text,):
            planned = parse(item)
            if any(p.scenario.name == planned.scenario.name for p in chosen) or planned.text in skipped:
                continue
            if planned.scenario.signed and not signed:
                if preset is None or text == "signature":
                    raise ScenarioError(
                        f"{text} needs a secret: deliveries are unsigned without one. Pass --secret whsec_... "
                        "(the secret your receiver verifies with), or leave it out."
                    )
                skipped.append(planned.text)
                continue
            chosen.append(planned)
    if not chosen:
        raise ScenarioError(f"give at least one scenario, e.g. done; scenarios: {', '.join(SCENARIOS)}.")
    return tuple(chosen), tuple(skipped)
