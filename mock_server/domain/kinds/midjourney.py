"""Midjourney jobs that start from a prompt or images: imagine (a 2x2 grid), describe, blend, face swap, and
the DIY plan's bot commands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.contract.problems import HttpError
from mock_server.domain import prompts
from mock_server.domain.kinds.base import Fields, FollowUp, JobKind, common, priced
from mock_server.domain.kinds.buttons import GRID_BUTTONS

STEP = 15  # Midjourney shows progress in jumps (0, 15, 30, ...), not percent by percent
DIY_PLANS = ("DIY", "DEDICATED")


def grid(prompt: str | None, width: int, height: int, **extra: Any) -> Fields:
    """The fields of a job whose result is a 2x2 grid with the grid's buttons."""
    return {"media": "grid", "prompt": prompt, "width": width, "height": height, "buttons": GRID_BUTTONS, **extra}


def _imagine(body: Mapping[str, Any]) -> Fields:
    flags = prompts.flags(str(body["prompt"]))
    return {**common(body), "kind": "mj-imagine", "mode": flags.mode, **grid(body["prompt"], flags.width, flags.height)}


def _describe(body: Mapping[str, Any]) -> Fields:
    return {**common(body), "kind": "describe", "media": "text", "content": prompts.describe(str(body["url"]))}


def _blend(body: Mapping[str, Any]) -> Fields:
    size = prompts.GRID_LONG_SIDE
    return {**common(body), "kind": "blend", **grid(None, size, size)}


def _faceswap(body: Mapping[str, Any]) -> Fields:
    return {**common(body), "kind": "faceswap", "media": "image", "width": 1024, "height": 1024}


def _command(body: Mapping[str, Any]) -> Fields:
    cmd = str(body["cmd"])
    effect = {"relax": "relax mode on", "fast": "fast mode on", "turbo": "turbo mode on", "remix": "remix mode on"}
    text = effect.get(cmd, "the running job was cancelled")
    return {**common(body), "kind": "command", "media": "text", "prompt": f"/{cmd}", "content": (text,)}


def _diy_only(fields: Fields, context: FollowUp) -> Fields:
    if context.plan_type.upper() not in DIY_PLANS:
        raise HttpError(
            403,
            f"Midjourney commands need a DIY plan with a linked Discord account; this account's plan is "
            f"{context.plan_type} (start flux-mock with --plan-type DIY to use them).",
        )
    return fields


KINDS = (
    JobKind(
        "mj-imagine",
        _imagine,
        priced("mj-imagine"),
        progress_step=STEP,
        pace=lambda f: 2.0 if f.get("mode") == "relax" else 1.0,
    ),
    JobKind("describe", _describe, priced("describe"), progress_step=STEP),
    JobKind("blend", _blend, priced("blend"), progress_step=STEP),
    JobKind("faceswap", _faceswap, priced("faceswap"), progress_step=STEP),
    JobKind("command", _command, priced("command"), follow_up=_diy_only),
)
