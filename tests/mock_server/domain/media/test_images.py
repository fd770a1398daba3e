"""Tests for mock_server.domain.media.images: rendering, styles, validation, determinism, golden digests, LRU cache."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import PIL
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageStat, features

from mock_server.domain.media.images import (
    CONTENT_TYPES,
    ImageCache,
    ImageFormat,
    ImageSpec,
    ImageStyle,
    quadrant,
    render,
)

ROOT = Path(__file__).resolve().parents[4]
GOLDEN_PATH = ROOT / "fixtures" / "images" / "golden.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_PATH.read_text())
ZERO_ID = "00000000-0000-4000-8000-000000000000"
FORMATS: tuple[ImageFormat, ...] = ("png", "webp", "jpg")
PIL_NAMES = {"png": "PNG", "webp": "WEBP", "jpg": "JPEG"}
SPEC_FIELDS = ("seed", "message_id", "index", "width", "height", "fmt", "quality", "style")
# Run a module of the package without its __init__ (which builds the whole app: ~1.2 s per interpreter).
BARE_PACKAGE = (
    "import sys, types; pkg = types.ModuleType('mock_server'); "
    f"pkg.__path__ = [{str(ROOT / 'mock_server')!r}]; sys.modules['mock_server'] = pkg; "
)


def make_spec(**overrides: Any) -> ImageSpec:
    base: dict[str, Any] = {
        "seed": 0,
        "message_id": ZERO_ID,
        "index": 0,
        "width": 96,
        "height": 64,
        "fmt": "png",
        "quality": 90,
    }
    base.update(overrides)
    return ImageSpec(**base)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixels(data: bytes) -> bytes:
    return decode(data).convert("RGB").tobytes()


# --- formats ---------------------------------------------------------------------------------------------------------


def test_content_types_mapping() -> None:
    assert dict(CONTENT_TYPES) == {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_decodes_to_requested_size_and_format(fmt: ImageFormat) -> None:
    image = decode(render(make_spec(fmt=fmt, width=320, height=200)))
    assert image.format == PIL_NAMES[fmt]
    assert image.size == (320, 200)
    assert image.mode == "RGB"
    assert Image.MIME[image.format] == CONTENT_TYPES[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("size", [(8, 8), (8, 300), (300, 8)])
def test_render_extreme_aspect_and_minimum_size(fmt: ImageFormat, size: tuple[int, int]) -> None:
    image = decode(render(make_spec(fmt=fmt, width=size[0], height=size[1], quality=0)))
    assert image.size == size


def test_picture_is_not_blank() -> None:
    image = decode(render(make_spec(width=256, height=256)))
    for low, high in ImageStat.Stat(image).extrema:
        assert high - low > 20  # a gradient plus shapes, not a flat fill
    colours = image.getcolors(maxcolors=256 * 256)
    assert colours is not None
    assert len(colours) > 50


# --- determinism -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_is_deterministic(fmt: ImageFormat) -> None:
    first = render(make_spec(fmt=fmt, seed=7, index=2))
    second = render(make_spec(fmt=fmt, seed=7, index=2))
    assert first == second


CROSS_PROCESS_SPECS = [
    ImageSpec(3, ZERO_ID, 1, 64, 48, "png", 50),
    ImageSpec(3, ZERO_ID, 0, 64, 48, "webp", 50, "grid"),
    ImageSpec(3, ZERO_ID, 2, 64, 48, "png", 50, "cutout"),
]


def test_render_is_deterministic_across_processes() -> None:
    """Separate interpreters with different hash salts must produce the same bytes (no use of hash())."""
    code = BARE_PACKAGE + (
        "import hashlib; from mock_server.domain.media.images import ImageSpec, render; "
        f"print([hashlib.sha256(render(spec)).hexdigest() for spec in {CROSS_PROCESS_SPECS!r}])"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(result.stdout.strip())
    assert digests == {str([hashlib.sha256(render(spec)).hexdigest() for spec in CROSS_PROCESS_SPECS])}


@pytest.mark.parametrize(
    "change",
    [{"seed": 1}, {"seed": -1}, {"message_id": "00000000-0000-4000-8000-000000000001"}, {"index": 1}, {"index": 3}],
    ids=["seed", "negative-seed", "message_id", "index-1", "index-3"],
)
def test_identity_changes_the_picture(change: dict[str, Any]) -> None:
    assert pixels(render(make_spec(**change))) != pixels(render(make_spec()))


def test_all_images_of_a_job_differ() -> None:
    assert len({pixels(render(make_spec(index=i))) for i in range(4)}) == 4


def test_png_ignores_quality() -> None:
    assert render(make_spec(fmt="png", quality=0)) == render(make_spec(fmt="png", quality=100))


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_quality_affects_lossy_size(fmt: ImageFormat) -> None:
    low = render(make_spec(fmt=fmt, width=512, height=512, quality=10))
    high = render(make_spec(fmt=fmt, width=512, height=512, quality=95))
    assert len(low) * 1.5 < len(high)


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_lossy_formats_show_the_same_picture_as_png(fmt: ImageFormat) -> None:
    reference = decode(render(make_spec(width=256, height=256))).convert("RGB")
    lossy = decode(render(make_spec(width=256, height=256, fmt=fmt, quality=95))).convert("RGB")
    assert max(ImageStat.Stat(ImageChops.difference(reference, lossy)).mean) < 4


@settings(max_examples=25, deadline=None, database=None, derandomize=True)
@given(
    width=st.integers(32, 180).map(lambda k: k * 8),
    height=st.integers(32, 180).map(lambda k: k * 8),
    fmt=st.sampled_from(FORMATS),
    quality=st.integers(0, 100),
    index=st.integers(0, 3),
)
def test_decoded_size_matches_spec(width: int, height: int, fmt: ImageFormat, quality: int, index: int) -> None:
    image = decode(render(make_spec(width=width, height=height, fmt=fmt, quality=quality, index=index)))
    assert (image.size, image.format) == ((width, height), PIL_NAMES[fmt])


# --- validation ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragments"),
    [
        ("width", 5, ["between 8 and 4096", "(got 5)"]),
        ("width", 4097, ["between 8 and 4096", "(got 4097)"]),
        ("width", "256", ["between 8 and 4096", "(got '256')"]),
        ("width", True, ["(got True)"]),
        ("height", 7, ["between 8 and 4096", "(got 7)"]),
        ("height", 10_000, ["between 8 and 4096", "(got 10000)"]),
        ("height", 64.0, ["(got 64.0)"]),
        ("index", -1, ["between 0 and 3", "(got -1)"]),
        ("index", 4, ["between 0 and 3", "(got 4)"]),
        ("quality", -1, ["between 0 and 100", "(got -1)"]),
        ("quality", 101, ["between 0 and 100", "(got 101)"]),
        ("fmt", "gif", ["png, webp, jpg", "(got 'gif')"]),
        ("fmt", "jpeg", ["(got 'jpeg')"]),
        ("fmt", "PNG", ["(got 'PNG')"]),
        ("style", "mosaic", ["plain, grid, cutout", "(got 'mosaic')"]),
        ("style", "Grid", ["(got 'Grid')"]),
        ("message_id", "", ["non-empty", "(got '')"]),
        ("message_id", None, ["(got None)"]),
        ("seed", "1", ["int", "(got '1')"]),
        ("seed", False, ["(got False)"]),
    ],
)
def test_invalid_spec_raises_value_error_naming_field(field: str, value: object, fragments: list[str]) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be") as excinfo:
        make_spec(**{field: value})
    for fragment in fragments:
        assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    "values",
    [{"width": 8, "height": 8}, {"width": 4096, "height": 4096}, {"index": 3}, {"quality": 0}, {"seed": 2**70}],
)
def test_boundary_values_are_accepted(values: dict[str, Any]) -> None:
    spec = make_spec(**values)
    assert all(getattr(spec, name) == value for name, value in values.items())


def test_spec_is_frozen_and_hashable() -> None:
    spec = make_spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.width = 128  # type: ignore[misc]
    assert hash(spec) == hash(make_spec())
    assert {spec: 1}[make_spec()] == 1
    assert [f.name for f in dataclasses.fields(ImageSpec)] == list(SPEC_FIELDS)


# --- styles ----------------------------------------------------------------------------------------------------------


def mean_diff(a: Image.Image, b: Image.Image) -> float:
    """The worst channel's mean absolute difference, 0..255."""
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def test_plain_is_the_default_style() -> None:
    assert make_spec().style == "plain"
    assert render(make_spec()) == render(make_spec(style="plain"))


# Quadrants of ~100 px and up: below that, whole-pixel rounding of shape edges dominates (97x65 measured 5.2).
@pytest.mark.parametrize("size", [(256, 192), (257, 193)], ids=["even", "odd"])
def test_grid_quadrant_is_the_upscale_picture_scaled(size: tuple[int, int]) -> None:
    """Quadrant i looks like image i (what U(i+1) shows) shrunk to the quadrant, and like no other index."""
    width, height = size
    grid = decode(render(make_spec(style="grid", width=width, height=height)))
    assert (grid.size, grid.mode) == (size, "RGB")
    singles = [decode(render(make_spec(index=j, width=width, height=height))) for j in range(4)]
    for i in range(4):
        tile = grid.crop(quadrant(width, height, i))
        diffs = [mean_diff(tile, single.resize(tile.size, Image.Resampling.LANCZOS)) for single in singles]
        assert diffs[i] < 5, diffs  # measured 0.9..1.4
        assert min(d for j, d in enumerate(diffs) if j != i) > 30, diffs  # measured 45 and more


def test_grid_quadrants_are_distinct() -> None:
    grid = decode(render(make_spec(style="grid", width=128, height=128)))
    assert len({grid.crop(quadrant(128, 128, i)).tobytes() for i in range(4)}) == 4


@pytest.mark.parametrize(
    ("width", "height", "boxes"),
    [
        (256, 192, [(0, 0, 128, 96), (128, 0, 256, 96), (0, 96, 128, 192), (128, 96, 256, 192)]),
        (97, 65, [(0, 0, 48, 32), (48, 0, 97, 32), (0, 32, 48, 65), (48, 32, 97, 65)]),
    ],
)
def test_quadrants_tile_the_image_in_u1_to_u4_order(width: int, height: int, boxes: list[tuple[int, ...]]) -> None:
    assert [quadrant(width, height, i) for i in range(4)] == boxes


@pytest.mark.parametrize("i", [-1, 4, True])
def test_quadrant_rejects_a_fifth_quadrant(i: Any) -> None:
    with pytest.raises(ValueError, match=r"^i must be"):
        quadrant(64, 64, i)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("size", [(8, 8), (9, 300), (300, 9)])
def test_grid_renders_every_format_at_any_size(fmt: ImageFormat, size: tuple[int, int]) -> None:
    image = decode(render(make_spec(style="grid", fmt=fmt, width=size[0], height=size[1])))
    assert (image.size, image.format) == (size, PIL_NAMES[fmt])


def test_grid_refuses_an_index_other_than_0() -> None:
    with pytest.raises(ValueError, match=r"^index must be 0 when style is 'grid' \(got 1\)"):
        make_spec(style="grid", index=1)


def test_cutout_is_the_shapes_of_the_picture_on_transparency() -> None:
    image = decode(render(make_spec(style="cutout", width=256, height=256)))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (256, 256))
    alpha = image.getchannel("A")
    histogram = alpha.histogram()
    assert histogram[0] > 256 * 256 // 10  # real background removed...
    assert histogram[255] > 256 * 256 // 10  # ...and a real subject kept
    assert histogram[0] + histogram[255] == 256 * 256  # a hard mask: nothing half transparent
    plain = decode(render(make_spec(width=256, height=256))).convert("RGBA")
    clear = Image.new("RGBA", image.size, (0, 0, 0, 0))
    # Kept pixels are the plain picture's; removed ones are (0, 0, 0, 0), not stray colour.
    assert image.tobytes() == Image.composite(plain, clear, alpha).tobytes()


def test_cutouts_of_a_job_differ() -> None:
    assert len({pixels(render(make_spec(style="cutout", index=i))) for i in range(4)}) == 4


@pytest.mark.parametrize("fmt", ["webp", "jpg"])
def test_cutout_refuses_formats_other_than_png(fmt: ImageFormat) -> None:
    with pytest.raises(ValueError, match=f"^fmt must be 'png' when style is 'cutout' \\(got '{fmt}'\\)"):
        make_spec(style="cutout", fmt=fmt)


def test_cache_keys_include_the_style() -> None:
    cache = ImageCache()
    got = {style: cache.get(make_spec(style=style)) for style in ("plain", "grid", "cutout")}
    assert len(cache) == 3
    assert len(set(got.values())) == 3
    assert all(data == render(make_spec(style=style)) for style, data in got.items())


# Decoded pixels (RGB for grid, RGBA for cutout): independent of the PNG encoder, so they catch drawing changes.
STYLE_GOLDEN: list[tuple[ImageStyle, str]] = [
    ("grid", "624442819ed6d6fd80a76f1a26132a2774d27499082d9877a88b736dce16f530"),
    ("cutout", "a4ea25d2e9c264f82e7d8f1b1f1b02f36f6aa7862c1979920c4fed85aba40b2f"),
]


@pytest.mark.parametrize(("style", "digest"), STYLE_GOLDEN, ids=[style for style, _ in STYLE_GOLDEN])
def test_style_golden_pixels_unchanged(style: ImageStyle, digest: str) -> None:
    image = decode(render(make_spec(style=style, width=256, height=192)))
    assert hashlib.sha256(image.tobytes()).hexdigest() == digest


# --- golden ----------------------------------------------------------------------------------------------------------


def golden_spec(case: dict[str, Any]) -> ImageSpec:
    # The golden cases predate ``style``: they are plain images and must stay byte-identical.
    return ImageSpec(**{name: case[name] for name in SPEC_FIELDS if name in case})


def golden_id(case: dict[str, Any]) -> str:
    return f"seed{case['seed']}-i{case['index']}-{case['width']}x{case['height']}-{case['fmt']}-q{case['quality']}"


def encoder_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"pillow": PIL.__version__}
    for name in GOLDEN["encoder_versions"]:
        if name != "pillow":
            try:
                versions[name] = features.version(name)
            except ValueError:  # feature unknown to this Pillow
                versions[name] = None
    return versions


LOSSLESS_CASES = [case for case in GOLDEN["cases"] if "pixels_sha256" in case]


def test_golden_file_covers_every_format() -> None:
    assert {case["fmt"] for case in GOLDEN["cases"]} == set(FORMATS)
    assert {(case["seed"], case["message_id"], case["index"], case["width"]) for case in GOLDEN["cases"]} >= {
        (0, ZERO_ID, 0, 256)
    }
    assert LOSSLESS_CASES


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=golden_id)
def test_golden_decodes_with_expected_size_and_format(case: dict[str, Any]) -> None:
    image = decode(render(golden_spec(case)))
    assert (image.size, image.format) == ((case["width"], case["height"]), case["pil_format"])


@pytest.mark.parametrize("case", LOSSLESS_CASES, ids=golden_id)
def test_golden_pixels_unchanged(case: dict[str, Any]) -> None:
    """Decoded RGB pixels are independent of the PNG encoder, so this catches any change to drawing."""
    assert hashlib.sha256(pixels(render(golden_spec(case)))).hexdigest() == case["pixels_sha256"]


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=golden_id)
def test_golden_encoded_bytes_unchanged_with_same_encoders(case: dict[str, Any]) -> None:
    if encoder_versions() != GOLDEN["encoder_versions"]:
        pytest.skip(f"encoder versions differ from golden: {encoder_versions()} != {GOLDEN['encoder_versions']}")
    assert hashlib.sha256(render(golden_spec(case))).hexdigest() == case["encoded_sha256"]


# --- cache -----------------------------------------------------------------------------------------------------------


def test_cache_miss_renders_then_hit_returns_the_same_bytes() -> None:
    cache = ImageCache()
    spec = make_spec()
    assert len(cache) == 0
    assert cache.size_bytes == 0
    first = cache.get(spec)
    assert first == render(spec)
    assert len(cache) == 1
    assert cache.size_bytes == len(first)
    assert cache.get(make_spec()) is first  # an equal spec is a hit: no re-render


def test_cache_evicts_least_recently_used_within_max_bytes() -> None:
    a, b, c = (make_spec(index=i) for i in range(3))
    size_a, size_b, size_c = (len(render(spec)) for spec in (a, b, c))
    cache = ImageCache(max_bytes=size_a + size_b + size_c - 1)  # room for any two, never all three
    bytes_a = cache.get(a)
    bytes_b = cache.get(b)
    assert cache.get(a) is bytes_a  # touch a: b becomes least recently used
    cache.get(c)
    assert len(cache) == 2
    assert cache.size_bytes == size_a + size_c
    assert cache.get(a) is bytes_a  # still cached
    assert cache.get(b) is not bytes_b  # evicted, so rendered again...
    assert cache.get(b) == bytes_b  # ...to identical bytes
    assert cache.size_bytes <= size_a + size_b + size_c - 1


def test_cache_size_never_exceeds_max_bytes() -> None:
    specs = [make_spec(index=i % 4, seed=i // 4) for i in range(12)]
    limit = 3 * max(len(render(spec)) for spec in specs)
    cache = ImageCache(max_bytes=limit)
    for spec in specs + specs[::-1]:
        assert cache.get(spec) == render(spec)
        assert 0 < cache.size_bytes <= limit
    assert 3 <= len(cache) <= 12


def test_cache_does_not_store_images_larger_than_budget() -> None:
    small, big = make_spec(width=8, height=8), make_spec(width=512, height=512)
    cache = ImageCache(max_bytes=2 * len(render(small)))
    small_bytes = cache.get(small)
    assert cache.get(big) == render(big)
    assert len(cache) == 1  # the oversized image neither got cached nor flushed the small one
    assert cache.size_bytes == len(small_bytes)
    assert cache.get(small) is small_bytes


@pytest.mark.parametrize("max_bytes", [-1, 1.5, True])
def test_cache_rejects_invalid_max_bytes(max_bytes: Any) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        ImageCache(max_bytes=max_bytes)


def test_cache_is_thread_safe() -> None:
    specs = [make_spec(index=i % 4, seed=i // 4, width=48, height=48) for i in range(8)]
    expected = {spec: render(spec) for spec in specs}
    limit = sum(len(data) for data in expected.values()) // 2
    cache = ImageCache(max_bytes=limit)
    barrier = threading.Barrier(8)

    def worker(offset: int) -> bool:
        barrier.wait()
        return all(cache.get(specs[(offset + i) % 8]) == expected[specs[(offset + i) % 8]] for i in range(100))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(worker, range(8)))
    assert cache.size_bytes <= limit
    assert 0 < len(cache) < 8
