"""Midjourney prompt text: its Discord-style flags, the prompt check, prompt extend and describe's prompts.

Flags are read the way the official skill and real clients write them: ``--ar W:H`` sets the aspect ratio,
``--relax`` selects relax mode (5 credits instead of 10, slower), ``--fast`` and ``--turbo`` are the other
modes, ``--v N`` / ``--version N`` the model version (it decides which upscale buttons an upscale offers).
Everything here is a pure function of its arguments (describe and extend are seeded by their input), so the same
request always gets the same answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_AR = re.compile(r"(?:^|\s)--(?:ar|aspect)\s+(\d{1,3}):(\d{1,3})(?=\s|$)", re.IGNORECASE)
_BAD_AR = re.compile(r"(?:^|\s)--(?:ar|aspect)(?:\s+(?!\d{1,3}:\d{1,3}(?:\s|$))\S*|\s*$)", re.IGNORECASE)
# A version is a number with at most one decimal (5, 5.2, 6.1, 7), as Midjourney writes them; the last one wins.
_VERSION = re.compile(r"(?:^|\s)--(?:v|version)\s+(\d{1,2}(?:\.\d)?)(?=\s|$)", re.IGNORECASE)
_BAD_VERSION = re.compile(r"(?:^|\s)--(?:v|version)(?:\s+(?!\d{1,2}(?:\.\d)?(?:\s|$))\S*|\s*$)", re.IGNORECASE)
_MODE = re.compile(r"(?:^|\s)--(relax|fast|turbo)(?=\s|$)", re.IGNORECASE)
_WORD = re.compile(r"[\w']+", re.UNICODE)
GRID_LONG_SIDE = 1024  # a grid's longer side, in pixels (the mock's choice; Midjourney's are 2048)


@dataclass(frozen=True, slots=True)
class Flags:
    """What a Midjourney prompt asks for."""

    width: int
    height: int
    mode: str  # fast, relax or turbo
    version: float | None = None  # from --v/--version; None: the current default (v6 and later)

    @property
    def v5_upscalers(self) -> bool:
        """Whether an upscale of this grid offers v5's Upscale (2x)/(4x) rather than v6's Subtle/Creative."""
        return self.version is not None and self.version < 6


def flags(prompt: str) -> Flags:
    """The grid size from ``--ar`` (default 1:1), the mode from ``--relax``/``--fast``/``--turbo`` (default fast)
    and the version from ``--v``/``--version`` (default None: the current model)."""
    width, height = GRID_LONG_SIDE, GRID_LONG_SIDE
    match = _AR.search(prompt)
    if match is not None:
        w, h = int(match[1]), int(match[2])
        if w > 0 and h > 0:
            width, height = size_for(w, h)
    modes = [m.lower() for m in _MODE.findall(prompt)]
    versions = [float(v) for v in _VERSION.findall(prompt)]
    return Flags(width, height, modes[-1] if modes else "fast", versions[-1] if versions else None)


def size_for(w: int, h: int, long_side: int = GRID_LONG_SIDE) -> tuple[int, int]:
    """Pixels for aspect ratio w:h with the longer side `long_side`, both multiples of 8 (at least 64)."""
    if w >= h:
        return long_side, max(64, round(long_side * h / w / 8) * 8)
    return max(64, round(long_side * w / h / 8) * 8), long_side


def check(prompt: str, banned: tuple[str, ...]) -> str | None:
    """Why the prompt would be refused (a banned word or an invalid parameter), or None when it passes."""
    words = {w.lower() for w in _WORD.findall(prompt)}
    found = sorted(b for b in {b.lower() for b in banned} if b in words)
    if found:
        return f"forbidden: The prompt has blocked words: {', '.join(found)}"
    if _BAD_AR.search(prompt):
        return "Invalid parameter: --ar must be followed by a ratio W:H such as 16:9"
    if _BAD_VERSION.search(prompt) or any(float(v) < 1 for v in _VERSION.findall(prompt)):
        return "Invalid parameter: --v (or --version) must be followed by a version number such as 6.1 or 5.2"
    return None


_EXTRAS = (
    "highly detailed",
    "cinematic lighting",
    "soft golden hour light",
    "sharp focus",
    "rich colours",
    "wide angle",
    "volumetric atmosphere",
    "award-winning composition",
)


def extend(prompt: str) -> str:
    """A longer prompt: the original plus three seeded descriptive phrases (always the same for one prompt)."""
    digest = hashlib.sha256(prompt.encode()).digest()
    picks = [_EXTRAS[b % len(_EXTRAS)] for b in digest[:3]]
    unique = list(dict.fromkeys(picks))
    return f"{prompt.strip()}, {', '.join(unique)}"


_SUBJECTS = ("a quiet harbour", "a neon street", "a mountain lake", "a portrait", "an old library", "a desert road")
_STYLES = ("watercolour", "35mm photo", "oil painting", "isometric render", "ink sketch", "studio photo")
_NUMBERS = ("1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3")


def describe(url: str, width: int = 1, height: int = 1) -> tuple[str, ...]:
    """Four prompts for an image, numbered 1️⃣..4️⃣ and ending in its aspect ratio (Next Leg's shape)."""
    digest = hashlib.sha256(url.encode()).digest()
    return tuple(
        f"{_NUMBERS[i]} {_SUBJECTS[digest[i] % len(_SUBJECTS)]}, {_STYLES[digest[i + 4] % len(_STYLES)]} "
        f"--ar {width}:{height}"
        for i in range(4)
    )
