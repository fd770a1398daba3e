"""Image tools and the universal endpoints: remove-bg (a cut-out PNG), Nano Banana, Lumi Girl and Gemini."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.domain.kinds.base import Fields, JobKind, common, priced


def _text_of(body: Mapping[str, Any]) -> str | None:
    """The text blocks of a ``contents`` body, joined: what the Message shows as its prompt."""
    texts = [str(b["text"]) for b in body.get("contents", []) if isinstance(b, Mapping) and b.get("type") == "text"]
    return " ".join(texts) or None


def _remove_bg(body: Mapping[str, Any]) -> Fields:
    return {**common(body), "kind": "remove-bg", "media": "cutout", "fmt": "png", "width": 1024, "height": 1024}


def _universal(body: Mapping[str, Any]) -> Fields:
    return {
        **common(body),
        "kind": "universal",
        "media": "image",
        "prompt": _text_of(body),
        "width": 1024,
        "height": 1024,
    }


def _gemini(body: Mapping[str, Any]) -> Fields:
    return {**common(body), "kind": "gemini", "media": "image", "prompt": _text_of(body), "width": 1024, "height": 1024}


def _zimage(body: Mapping[str, Any]) -> Fields:
    return {
        **common(body),
        "kind": "zimage",
        "media": "image",
        "prompt": body["prompt"],
        "width": int(body["width"]),
        "height": int(body["height"]),
    }


KINDS = (
    JobKind("remove-bg", _remove_bg, priced("remove-bg")),
    JobKind("universal", _universal, priced("universal")),
    JobKind("gemini", _gemini, priced("gemini")),
    JobKind("zimage", _zimage, priced("zimage")),
)
