"""Deterministic placeholder images for finished mock jobs (pure domain module, no web framework).

An :class:`ImageSpec` becomes a seeded two-colour gradient with a few shapes, encoded as PNG, WebP or JPEG;
the same spec gives byte-identical output in any process. Its ``style`` picks what the job's result looks like:
``"plain"`` (one picture), ``"grid"`` (a Midjourney-style 2x2 grid whose quadrant i is image i, the picture
an upscale U(i+1) shows) or ``"cutout"`` (a background-removal result: the shapes on full transparency, PNG only).
:func:`draw` gives one seeded drawing in layers (``video`` animates them). :class:`ImageCache` keeps recent
images in memory; :class:`RenderCache` is the same bounded LRU for any hashable spec.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Generic, Literal, TypeVar, get_args

if TYPE_CHECKING:
    from PIL import Image  # imported where a picture is drawn: Pillow costs every start ~15 ms otherwise

ImageFormat = Literal["png", "webp", "jpg"]
ImageStyle = Literal["plain", "grid", "cutout"]

CONTENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
)

_FORMATS: Final[tuple[str, ...]] = get_args(ImageFormat)
_STYLES: Final[tuple[str, ...]] = get_args(ImageStyle)
_MIN_SIDE: Final = 8
_MAX_SIDE: Final = 4096
_MAX_INDEX: Final = 3  # a job yields at most 4 images
_MAX_QUALITY: Final = 100
# Bump when the drawing algorithm changes on purpose, so every image (and golden digest) changes.
_RENDER_VERSION: Final = "flux-mock-image-v1"


def check_int(field: str, value: object, low: int, high: int) -> None:
    """ValueError naming `field`, `value` and the range unless `value` is an int in low..high (bool is not)."""
    # bool is an int subclass; True as a width is always a caller bug.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{field} must be an int between {low} and {high} (got {value!r})")
    if not low <= value <= high:
        raise ValueError(f"{field} must be between {low} and {high} (got {value!r})")


def check_key(seed: object, message_id: object) -> None:
    """ValueError unless `seed` is an int and `message_id` a non-empty string (what every render is keyed by)."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int (got {seed!r})")
    if not isinstance(message_id, str) or not message_id:
        raise ValueError(f"message_id must be a non-empty string (got {message_id!r})")


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
    style: ImageStyle = "plain"  # last, with a default, so positional callers and plain digests are unchanged

    def __post_init__(self) -> None:
        """Reject out-of-range values with a message naming the field, value and allowed range."""
        check_key(self.seed, self.message_id)
        check_int("index", self.index, 0, _MAX_INDEX)
        check_int("width", self.width, _MIN_SIDE, _MAX_SIDE)
        check_int("height", self.height, _MIN_SIDE, _MAX_SIDE)
        if self.fmt not in _FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(_FORMATS)} (got {self.fmt!r})")
        check_int("quality", self.quality, 0, _MAX_QUALITY)
        if self.style not in _STYLES:
            raise ValueError(f"style must be one of {', '.join(_STYLES)} (got {self.style!r})")
        if self.style == "cutout" and self.fmt != "png":
            raise ValueError(f"fmt must be 'png' when style is 'cutout' (got {self.fmt!r}): a cut-out needs alpha")
        if self.style == "grid" and self.index != 0:
            # A grid job has one result image; its quadrants are images 0..3. Another index would be the
            # same bytes under a second cache key, so it is a caller bug, not a variant.
            raise ValueError(f"index must be 0 when style is 'grid' (got {self.index!r}): quadrants are 0..3")


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
    from PIL import Image

    dx, dy = math.cos(angle), math.sin(angle)
    corners = [x * dx + y * dy for x in (0, width) for y in (0, height)]
    low, span = min(corners), max(corners) - min(corners)
    # Affine-sample a vertical 0..255 ramp; the 0.5/254 margins keep samples inside the source.
    scale = 254.0 / span
    ramp = Image.linear_gradient("L")
    data = (0.0, 0.0, 128.0, dx * scale, dy * scale, 0.5 - low * scale)
    return ramp.transform((width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR)


@dataclass(frozen=True, slots=True)
class Layers:
    """One seeded drawing in parts, so styles and video frames can recombine them."""

    background: Image.Image  # RGB two-colour gradient
    shapes: Image.Image  # RGBA: translucent shapes and the index dots on full transparency
    mask: Image.Image  # L: 255 wherever a shape or dot is, 0 elsewhere (a cut-out's alpha)

    def flatten(self) -> Image.Image:
        """The plain RGB picture: the shapes blended over the gradient."""
        from PIL import Image

        return Image.alpha_composite(self.background.convert("RGBA"), self.shapes).convert("RGB")


def draw(seed: int, message_id: str, index: int, width: int, height: int) -> Layers:
    """Draw image ``index`` of job ``message_id`` at ``width`` x ``height`` (unvalidated: callers check ranges).

    Positions and sizes are fractions of the image, so one identity drawn at two sizes is the same picture scaled.
    """
    from PIL import Image, ImageDraw

    key = json.dumps([_RENDER_VERSION, seed, message_id, index]).encode()
    rnd = _Stream(hashlib.sha256(key).digest())
    w, h = width, height
    hue = rnd.unit()
    start = _colour(hue, rnd.between(0.25, 0.45), rnd.between(0.5, 0.9))
    end = _colour(hue + rnd.between(0.15, 0.5), rnd.between(0.55, 0.8), rnd.between(0.5, 0.9))
    mask = _gradient_mask(w, h, rnd.between(0.0, 2 * math.pi))
    base = Image.composite(Image.new("RGB", (w, h), end), Image.new("RGB", (w, h), start), mask)

    # Shapes go on a transparent overlay so they blend with the gradient and with each other.
    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    # The mask sees every shape opaque: it is what a background remover would keep. Drawing it takes no
    # random numbers, so the plain picture (and its golden digests) cannot change because of it.
    shape_mask = Image.new("L", (w, h), 0)
    mask_pen = ImageDraw.Draw(shape_mask)
    short = min(w, h)
    for _ in range(3 + int(rnd.unit() * 4)):
        kind = int(rnd.unit() * 3)
        cx, cy = rnd.unit() * w, rnd.unit() * h
        half_w = max(1, round(rnd.between(0.08, 0.3) * short))
        half_h = max(1, round(rnd.between(0.08, 0.3) * short))
        box = (round(cx) - half_w, round(cy) - half_h, round(cx) + half_w, round(cy) + half_h)
        fill = (*_colour(rnd.unit(), rnd.between(0.3, 0.85), rnd.between(0.4, 1.0)), int(rnd.between(70, 200)))
        for target, colour in ((pen, fill), (mask_pen, 255)):
            if kind == 0:
                target.ellipse(box, fill=colour)
            elif kind == 1:
                target.rectangle(box, fill=colour)
            else:
                target.rounded_rectangle(box, radius=min(half_w, half_h) // 2, fill=colour)

    # One small white dot per image position (1..4) in the top-left corner tells siblings apart at a glance.
    dot = max(1, short // 40)
    for i in range(index + 1):
        left = dot + i * 3 * dot
        pen.ellipse((left, dot, left + 2 * dot, 3 * dot), fill=(255, 255, 255, 220))
        mask_pen.ellipse((left, dot, left + 2 * dot, 3 * dot), fill=255)
    return Layers(background=base, shapes=overlay, mask=shape_mask)


def quadrant(width: int, height: int, i: int) -> tuple[int, int, int, int]:
    """Box ``(left, top, right, bottom)`` of quadrant ``i`` of a ``width`` x ``height`` grid.

    0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right (Midjourney's U1..U4). Each is ``width // 2`` x
    ``height // 2``; with an odd side the right column / bottom row is one pixel wider / taller, so the four
    boxes tile the image exactly.
    """
    check_int("i", i, 0, _MAX_INDEX)
    mid_x, mid_y = width // 2, height // 2
    left, right = (0, mid_x) if i % 2 == 0 else (mid_x, width)
    top, bottom = (0, mid_y) if i < 2 else (mid_y, height)
    return left, top, right, bottom


def _picture(spec: ImageSpec) -> Image.Image:
    """The pixels for ``spec`` (RGB, or RGBA for a cut-out); format and quality do not affect them."""
    from PIL import Image

    if spec.style == "grid":
        grid = Image.new("RGB", (spec.width, spec.height))
        for i in range(4):
            left, top, right, bottom = quadrant(spec.width, spec.height, i)
            # Drawn at quadrant size rather than drawn full size and shrunk: the drawing is size-independent,
            # so this is the upscale's picture scaled down, sharp, at a quarter of the cost.
            tile = draw(spec.seed, spec.message_id, i, right - left, bottom - top).flatten()
            grid.paste(tile, (left, top))
        return grid
    layers = draw(spec.seed, spec.message_id, spec.index, spec.width, spec.height)
    if spec.style == "cutout":
        # Outside the shapes every channel is 0, not just alpha: transparent pixels carry no stray colour.
        clear = Image.new("RGBA", (spec.width, spec.height), (0, 0, 0, 0))
        return Image.composite(layers.flatten().convert("RGBA"), clear, layers.mask)
    return layers.flatten()


def render(spec: ImageSpec) -> bytes:
    """Deterministic: same spec -> byte-identical output, across processes.

    Randomness is derived from ``hashlib.sha256`` of seed/message_id/index (never ``hash()``,
    which is salted per process). ``quality`` applies to WebP and JPEG; PNG is lossless. A cut-out is RGBA.
    """
    image = _picture(spec)
    out = io.BytesIO()
    if spec.fmt == "png":
        image.save(out, "PNG", compress_level=1)  # speed over size: the mock serves from memory
    elif spec.fmt == "webp":
        image.save(out, "WEBP", quality=spec.quality, method=2)  # method 2: fast, still decent quality
    else:
        image.save(out, "JPEG", quality=spec.quality)
    return out.getvalue()


SpecT = TypeVar("SpecT", bound=Hashable)


class RenderCache(Generic[SpecT]):
    """Bounded LRU of rendered bytes keyed by spec; thread-safe; get(spec) renders on miss.

    The total size of cached entries never exceeds ``max_bytes``; an entry larger than the whole
    budget is returned but not cached. ``renderer`` must be deterministic (a re-render equals the original).
    """

    def __init__(self, renderer: Callable[[SpecT], bytes], max_bytes: int) -> None:
        """Create an empty cache of ``renderer``'s output holding at most ``max_bytes``."""
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
            raise ValueError(f"max_bytes must be a non-negative int (got {max_bytes!r})")
        self._render = renderer
        self._max_bytes = max_bytes
        self._items: OrderedDict[SpecT, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, spec: SpecT) -> bytes:
        """Return the bytes for ``spec``, rendering and caching them on a miss."""
        with self._lock:
            if (cached := self._hit(spec)) is not None:
                return cached
        # Render outside the lock so one slow render does not block hits; a concurrent duplicate
        # render is harmless because output is deterministic.
        data = self._render(spec)
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

    def _hit(self, spec: SpecT) -> bytes | None:
        # Caller holds the lock; a hit becomes the most recently used entry.
        cached = self._items.get(spec)
        if cached is not None:
            self._items.move_to_end(spec)
        return cached

    def __len__(self) -> int:
        """Number of cached entries."""
        with self._lock:
            return len(self._items)

    @property
    def size_bytes(self) -> int:
        """Total size in bytes of the cached entries."""
        with self._lock:
            return self._size


class ImageCache(RenderCache[ImageSpec]):
    """Bounded LRU of rendered images keyed by ImageSpec (style included); see :class:`RenderCache`."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        """Create an empty cache holding at most ``max_bytes`` of encoded image data."""
        super().__init__(render, max_bytes)
