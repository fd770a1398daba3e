"""Tests for mock_server.images: rendering, validation, determinism, golden digests and the LRU cache."""

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

from mock_server.images import CONTENT_TYPES, ImageCache, ImageFormat, ImageSpec, render

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_PATH = ROOT / "fixtures" / "images" / "golden.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_PATH.read_text())
ZERO_ID = "00000000-0000-4000-8000-000000000000"
FORMATS: tuple[ImageFormat, ...] = ("png", "webp", "jpg")
PIL_NAMES = {"png": "PNG", "webp": "WEBP", "jpg": "JPEG"}
SPEC_FIELDS = ("seed", "message_id", "index", "width", "height", "fmt", "quality")


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


def test_render_is_deterministic_across_processes() -> None:
    """Separate interpreters with different hash salts must produce the same bytes (no use of hash())."""
    code = (
        "import hashlib; from mock_server.images import ImageSpec, render; "
        f"print(hashlib.sha256(render(ImageSpec(3, {ZERO_ID!r}, 1, 64, 48, 'png', 50))).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(result.stdout.strip())
    assert digests == {hashlib.sha256(render(ImageSpec(3, ZERO_ID, 1, 64, 48, "png", 50))).hexdigest()}


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


# --- golden ----------------------------------------------------------------------------------------------------------


def golden_spec(case: dict[str, Any]) -> ImageSpec:
    return ImageSpec(**{name: case[name] for name in SPEC_FIELDS})


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
