"""Tests for mock_server.domain.media.video: playable MP4s of the stated size and length, determinism, validation."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from mock_server.domain.media.images import draw
from mock_server.domain.media.video import (
    CONTENT_TYPE,
    VideoCache,
    VideoCodec,
    VideoSpec,
    encode,
    frames,
    render_video,
    video_codec,
)

ROOT = Path(__file__).resolve().parents[4]
ZERO_ID = "00000000-0000-4000-8000-000000000000"
SPEC_FIELDS = ("seed", "message_id", "index", "width", "height", "seconds", "fps")
CODECS: tuple[VideoCodec, ...] = ("libx264", "mpeg4")
DECODER_NAMES = {"libx264": "h264", "mpeg4": "mpeg4"}


def make_spec(**overrides: Any) -> VideoSpec:
    base: dict[str, Any] = {"seed": 0, "message_id": ZERO_ID, "index": 0, "width": 96, "height": 64}
    base.update(overrides)
    return VideoSpec(**base)


def probe(data: bytes) -> dict[str, Any]:
    """What a player sees: container, codec, size, pixel format, frame count (decoded and declared), duration."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(stream))
        return {
            "container": container.format.name,
            "codec": stream.codec_context.name,
            "size": (stream.width, stream.height),
            "pix_fmt": stream.codec_context.pix_fmt,
            "declared_frames": stream.frames,
            "decoded_frames": len(decoded),
            "decoded_sizes": {(frame.width, frame.height) for frame in decoded},
            "seconds": container.duration / av.time_base if container.duration is not None else None,
        }


def top_level_boxes(data: bytes) -> list[str]:
    """The MP4's top-level box types, in file order (read only: the file itself is PyAV's)."""
    kinds, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kinds.append(data[offset + 4 : offset + 8].decode("ascii"))
        assert size >= 8, f"box {kinds[-1]} at {offset} has size {size}"
        offset += size
    assert offset == len(data)
    return kinds


def decoded_rgb(data: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


# --- a playable file -------------------------------------------------------------------------------------------------


def test_content_type() -> None:
    assert CONTENT_TYPE == "video/mp4"


def test_uses_h264_when_pyav_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert video_codec() == ("libx264" if "libx264" in av.codecs_available else "mpeg4")
    monkeypatch.setattr(av, "codecs_available", frozenset({"mpeg4", "h264"}))
    assert video_codec() == "mpeg4"


@pytest.mark.parametrize(
    ("width", "height", "seconds", "fps", "expected_frames"),
    [(512, 512, 1.0, 8, 8), (16, 16, 0.5, 4, 2), (320, 180, 1.3, 12, 16), (100, 1920, 0.1, 10, 1), (64, 48, 2, 30, 60)],
)
def test_render_decodes_to_the_stated_size_and_length(
    width: int, height: int, seconds: float, fps: int, expected_frames: int
) -> None:
    spec = make_spec(width=width, height=height, seconds=seconds, fps=fps)
    assert spec.frames == expected_frames
    seen = probe(render_video(spec))
    assert "mp4" in seen["container"].split(",")
    assert seen["codec"] == DECODER_NAMES[video_codec()]
    assert (seen["size"], seen["decoded_sizes"], seen["pix_fmt"]) == ((width, height), {(width, height)}, "yuv420p")
    assert seen["decoded_frames"] == seen["declared_frames"] == expected_frames
    assert seen["seconds"] == pytest.approx(expected_frames / fps, abs=0.01)


@pytest.mark.parametrize("codec", CODECS)
def test_each_codec_writes_a_streamable_mp4(codec: VideoCodec) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} is not in this PyAV's FFmpeg")
    data = encode(make_spec(), codec)
    boxes = top_level_boxes(data)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")  # faststart: playable while downloading
    seen = probe(data)
    assert (seen["codec"], seen["size"], seen["decoded_frames"]) == (DECODER_NAMES[codec], (96, 64), 8)


def test_default_video_is_small() -> None:
    data = render_video(make_spec(width=512, height=512))
    assert 5_000 < len(data) < 100_000  # measured ~27 KB with libx264


# --- the picture -----------------------------------------------------------------------------------------------------


def test_decoded_frames_show_the_rendered_animation() -> None:
    """Colours survive the YUV conversion, and frames arrive in order (not, say, reversed or all the first)."""
    spec = make_spec(width=160, height=120, index=1)
    rendered, decoded = list(frames(spec)), decoded_rgb(render_video(spec))
    assert len(rendered) == len(decoded) == 8
    for k, image in enumerate(decoded):
        diffs = [max(ImageStat.Stat(ImageChops.difference(image, source)).mean) for source in rendered]
        assert diffs[k] < 6, diffs  # measured ~2.5 (lossy H.264 at crf 30)
        assert diffs.index(min(diffs)) == k, diffs


def test_frames_animate_the_seeded_drawing() -> None:
    spec = make_spec(width=128, height=128, index=2)
    rendered = [image.tobytes() for image in frames(spec)]
    assert len(set(rendered)) == len(rendered)  # every frame moves
    still = draw(spec.seed, spec.message_id, spec.index, 128, 128).flatten()
    first = next(frames(spec))
    # The same picture, shifted: close to the still, far from another index's.
    other = draw(spec.seed, spec.message_id, 0, 128, 128).flatten()
    assert max(ImageStat.Stat(ImageChops.difference(first, still)).mean) < max(
        ImageStat.Stat(ImageChops.difference(first, other)).mean
    )


@pytest.mark.parametrize(
    "change",
    [{"seed": 1}, {"message_id": "00000000-0000-4000-8000-000000000001"}, {"index": 3}],
    ids=["seed", "message_id", "index"],
)
def test_identity_changes_the_video(change: dict[str, Any]) -> None:
    assert render_video(make_spec(**change)) != render_video(make_spec())


# --- determinism and golden ------------------------------------------------------------------------------------------


def test_render_is_deterministic() -> None:
    assert render_video(make_spec(seed=7, index=2)) == render_video(make_spec(seed=7, index=2))


def test_render_is_deterministic_across_processes() -> None:
    """Another interpreter (another hash salt, another temporary file name) gives the same bytes."""
    spec = make_spec(seed=3, index=1, width=64, height=48)
    code = (
        # Load the module without mock_server/__init__ (which builds the whole app: ~1.2 s).
        "import sys, types; pkg = types.ModuleType('mock_server'); "
        f"pkg.__path__ = [{str(ROOT / 'mock_server')!r}]; sys.modules['mock_server'] = pkg; "
        "import hashlib; from mock_server.domain.media.video import VideoSpec, render_video; "
        f"print(hashlib.sha256(render_video({spec!r})).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == hashlib.sha256(render_video(spec)).hexdigest()


GOLDEN_SPEC = VideoSpec(42, "9b2f6c1e-3d4a-4f5b-8c7d-0e1f2a3b4c5d", 1, 128, 96, seconds=1.0, fps=8)
# sha256 over every rendered frame's RGB bytes: independent of FFmpeg, so any change to the animation fails.
GOLDEN_FRAMES_SHA256 = "e6aea834ff9895db06bdc687253ba42acd430e8a7d6327781fae339578531257"
# The MP4 bytes depend on the encoder build too, so they are compared only on the build they were taken on.
GOLDEN_BUILD = {"av": "18.1.0", "libavcodec": (62, 28, 102), "libavformat": (62, 12, 102), "codec": "libx264"}
GOLDEN_MP4_SHA256 = "fee99785f42cbd80b3bb5aeb1b0adb708bc3cd6031c5b1cab868ceca9298515a"


def test_golden_frames_unchanged() -> None:
    digest = hashlib.sha256()
    for image in frames(GOLDEN_SPEC):
        digest.update(image.tobytes())
    assert digest.hexdigest() == GOLDEN_FRAMES_SHA256


# What the golden MP4 is, on any encoder build: container, codec and profile, size, rate, pixels, frame count.
GOLDEN_STREAM = ("mov,mp4,m4a,3gp,3g2,mj2", "h264", "Constrained Baseline", 128, 96, 8, "yuv420p", 8)


def test_golden_mp4_unchanged() -> None:
    # Its bytes on the build they were taken on; on any other build (a new PyAV on PyPI), what the stream is,
    # rather than a skip: a fresh machine may install a newer PyAV than the golden's.
    data = render_video(GOLDEN_SPEC)
    build = {
        "av": av.__version__,
        "libavcodec": av.library_versions["libavcodec"],
        "libavformat": av.library_versions["libavformat"],
        "codec": video_codec(),
    }
    if build == GOLDEN_BUILD:
        assert hashlib.sha256(data).hexdigest() == GOLDEN_MP4_SHA256
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames_decoded = sum(1 for _ in container.decode(video=0))
        found = (
            container.format.name,
            stream.codec_context.name,
            stream.codec_context.profile,
            stream.width,
            stream.height,
            stream.average_rate,
            stream.codec_context.pix_fmt,
            frames_decoded,
        )
    assert found == GOLDEN_STREAM


# --- validation ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragments"),
    [
        ("width", 14, ["between 16 and 1920", "(got 14)"]),
        ("width", 1922, ["between 16 and 1920", "(got 1922)"]),
        ("width", 17, ["even for yuv420p", "(got 17)"]),
        ("width", "64", ["(got '64')"]),
        ("width", True, ["(got True)"]),
        ("height", 99, ["even for yuv420p", "(got 99)"]),
        ("height", 64.0, ["(got 64.0)"]),
        ("index", 4, ["between 0 and 3", "(got 4)"]),
        ("seconds", 0, ["above 0 and at most 20", "(got 0)"]),
        ("seconds", -1.0, ["(got -1.0)"]),
        ("seconds", 20.5, ["(got 20.5)"]),
        ("seconds", float("nan"), ["(got nan)"]),
        ("seconds", "1", ["(got '1')"]),
        ("seconds", True, ["(got True)"]),
        ("seconds", 0.01, ["at least one frame at 8 fps", "(got 0.01)"]),
        ("fps", 0, ["between 1 and 30", "(got 0)"]),
        ("fps", 31, ["(got 31)"]),
        ("fps", 8.0, ["(got 8.0)"]),
        ("message_id", "", ["non-empty", "(got '')"]),
        ("seed", None, ["int", "(got None)"]),
    ],
)
def test_invalid_spec_raises_value_error_naming_field(field: str, value: object, fragments: list[str]) -> None:
    with pytest.raises(ValueError, match=f"^{field} must") as excinfo:
        make_spec(**{field: value})
    for fragment in fragments:
        assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    "values", [{"width": 16, "height": 16}, {"width": 1920, "height": 1080}, {"seconds": 20, "fps": 30}, {"index": 3}]
)
def test_boundary_values_are_accepted(values: dict[str, Any]) -> None:
    spec = make_spec(**values)
    assert all(getattr(spec, name) == value for name, value in values.items())


def test_spec_defaults_frozen_and_hashable() -> None:
    spec = make_spec()
    assert (spec.seconds, spec.fps, spec.frames) == (1.0, 8, 8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.fps = 12  # type: ignore[misc]
    assert {spec: 1}[make_spec()] == 1
    assert [f.name for f in dataclasses.fields(VideoSpec)] == list(SPEC_FIELDS)


# --- cache -----------------------------------------------------------------------------------------------------------


def test_cache_renders_once_and_bounds_its_size() -> None:
    a, b = make_spec(), make_spec(index=1)
    size_a = len(render_video(a))
    cache = VideoCache(max_bytes=size_a + 10)  # room for one video
    first = cache.get(a)
    assert first == render_video(a)
    assert cache.get(make_spec()) is first
    cache.get(b)
    assert len(cache) == 1
    assert cache.size_bytes <= size_a + 10
    assert cache.get(a) is not first  # evicted by b, rendered again...
    assert cache.get(a) == first  # ...to the same bytes
