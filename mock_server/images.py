"""Deterministic placeholder images for finished mock jobs (pure domain module, no web framework).

An :class:`ImageSpec` becomes a seeded two-colour gradient with a few shapes, encoded as PNG, WebP or JPEG;
the same spec gives byte-identical output in any process. :class:`ImageCache` keeps recent images in memory.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

from PIL import Image, ImageDraw

ImageFormat = Literal["png", "webp", "jpg"]

CONTENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
)

_FORMATS: Final[tuple[str, ...]] = get_args(ImageFormat)
_MIN_SIDE: Final = 8
_MAX_SIDE: Final = 4096
_MAX_INDEX: Final = 3  # a job yields at most 4 images
_MAX_QUALITY: Final = 100
# Bump when the drawing algorithm changes on purpose, so every image (and golden digest) changes.
_RENDER_VERSION: Final = "flux-mock-image-v1"


def _check_int(field: str, value: object, low: int, high: int) -> None:
    # bool is an int subclass; True as a width is always a caller bug.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{field} must be an int between {low} and {high} (got {value!r})")
    if not low <= value <= high:
        raise ValueError(f"{field} must be between {low} and {high} (got {value!r})")


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What to draw: everything that determines the bytes."""

    seed: int  # server-wide seed
    message_id: str  # job id (uuid string)
    index: int  # 0-based image index within the job (n up to 4)
    width: int  # pixels, 8..4096
    height: int
    fmt: ImageFormat
    quality: int  # 0..100, used for webp/jpg (png ignores it, but still part of the key)

    def __post_init__(self) -> None:
        """Reject out-of-range values with a message naming the field, value and allowed range."""
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an int (got {self.seed!r})")
        if not isinstance(self.message_id, str) or not self.message_id:
            raise ValueError(f"message_id must be a non-empty string (got {self.message_id!r})")
        _check_int("index", self.index, 0, _MAX_INDEX)
        _check_int("width", self.width, _MIN_SIDE, _MAX_SIDE)
        _check_int("height", self.height, _MIN_SIDE, _MAX_SIDE)
        if self.fmt not in _FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(_FORMATS)} (got {self.fmt!r})")
        _check_int("quality", self.quality, 0, _MAX_QUALITY)


class _Stream:
    """Deterministic pseudo-random numbers: SHA-256 in counter mode (stable across processes and Python versions)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._counter = 0
        self._buf = b""

    def unit(self) -> float:
        """Next float in [0, 1)."""
        if len(self._buf) < 4:
            self._buf += hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        word, self._buf = self._buf[:4], self._buf[4:]
        return int.from_bytes(word, "big") / 2**32

    def between(self, low: float, high: float) -> float:
        """Next float in [low, high)."""
        return low + (high - low) * self.unit()


def _colour(hue: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def _gradient_mask(width: int, height: int, angle: float) -> Image.Image:
    """An 'L' mask rising linearly 0..255 across the image along ``angle`` (radians)."""
    dx, dy = math.cos(angle), math.sin(angle)
    corners = [x * dx + y * dy for x in (0, width) for y in (0, height)]
    low, span = min(corners), max(corners) - min(corners)
    # Affine-sample a vertical 0..255 ramp; the 0.5/254 margins keep samples inside the source.
    scale = 254.0 / span
    ramp = Image.linear_gradient("L")
    data = (0.0, 0.0, 128.0, dx * scale, dy * scale, 0.5 - low * scale)
    return ramp.transform((width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR)


def _draw(spec: ImageSpec) -> Image.Image:
    """Draw the RGB picture for ``spec`` (format and quality do not affect the pixels)."""
    key = json.dumps([_RENDER_VERSION, spec.seed, spec.message_id, spec.index]).encode()
    rnd = _Stream(hashlib.sha256(key).digest())
    w, h = spec.width, spec.height
    hue = rnd.unit()
    start = _colour(hue, rnd.between(0.25, 0.45), rnd.between(0.5, 0.9))
    end = _colour(hue + rnd.between(0.15, 0.5), rnd.between(0.55, 0.8), rnd.between(0.5, 0.9))
    mask = _gradient_mask(w, h, rnd.between(0.0, 2 * math.pi))
    base = Image.composite(Image.new("RGB", (w, h), end), Image.new("RGB", (w, h), start), mask)

    # Shapes go on a transparent overlay so they blend with the gradient and with each other.
    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    short = min(w, h)
    for _ in range(3 + int(rnd.unit() * 4)):
        kind = int(rnd.unit() * 3)
        cx, cy = rnd.unit() * w, rnd.unit() * h
        half_w = max(1, round(rnd.between(0.08, 0.3) * short))
        half_h = max(1, round(rnd.between(0.08, 0.3) * short))
        box = (round(cx) - half_w, round(cy) - half_h, round(cx) + half_w, round(cy) + half_h)
        fill = (*_colour(rnd.unit(), rnd.between(0.3, 0.85), rnd.between(0.4, 1.0)), int(rnd.between(70, 200)))
        if kind == 0:
            pen.ellipse(box, fill=fill)
        elif kind == 1:
            pen.rectangle(box, fill=fill)
        else:
            pen.rounded_rectangle(box, radius=min(half_w, half_h) // 2, fill=fill)

    # One small white dot per image position (1..4) in the top-left corner tells siblings apart at a glance.
    dot = max(1, short // 40)
    for i in range(spec.index + 1):
        left = dot + i * 3 * dot
        pen.ellipse((left, dot, left + 2 * dot, 3 * dot), fill=(255, 255, 255, 220))
    return Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")


def render(spec: ImageSpec) -> bytes:
    """Deterministic: same spec -> byte-identical output, across processes.

    Randomness is derived from ``hashlib.sha256`` of seed/message_id/index (never ``hash()``,
    which is salted per process). ``quality`` applies to WebP and JPEG; PNG is lossless.
    """
    image = _draw(spec)
    out = io.BytesIO()
    if spec.fmt == "png":
        image.save(out, "PNG", compress_level=1)  # speed over size: the mock serves from memory
    elif spec.fmt == "webp":
        image.save(out, "WEBP", quality=spec.quality, method=2)  # method 2: fast, still decent quality
    else:
        image.save(out, "JPEG", quality=spec.quality)
    return out.getvalue()


class ImageCache:
    """Bounded LRU of rendered images keyed by ImageSpec; thread-safe; get(spec) renders on miss.

    The total size of cached images never exceeds ``max_bytes``; an image larger than the whole
    budget is returned but not cached.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        """Create an empty cache holding at most ``max_bytes`` of encoded image data."""
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
            raise ValueError(f"max_bytes must be a non-negative int (got {max_bytes!r})")
        self._max_bytes = max_bytes
        self._items: OrderedDict[ImageSpec, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, spec: ImageSpec) -> bytes:
        """Return the image for ``spec``, rendering and caching it on a miss."""
        with self._lock:
            if (cached := self._hit(spec)) is not None:
                return cached
        # Render outside the lock so one slow render does not block hits; a concurrent duplicate
        # render is harmless because output is deterministic.
        data = render(spec)
        with self._lock:
            if (cached := self._hit(spec)) is not None:
                return cached
            if len(data) > self._max_bytes:
                return data
            self._items[spec] = data
            self._size += len(data)
            while self._size > self._max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)
        return data

    def _hit(self, spec: ImageSpec) -> bytes | None:
        # Caller holds the lock; a hit becomes the most recently used entry.
        cached = self._items.get(spec)
        if cached is not None:
            self._items.move_to_end(spec)
        return cached

    def __len__(self) -> int:
        """Number of cached images."""
        with self._lock:
            return len(self._items)

    @property
    def size_bytes(self) -> int:
        """Total size in bytes of the cached images."""
        with self._lock:
            return self._size
