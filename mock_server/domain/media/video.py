"""Deterministic placeholder videos for finished mock video jobs (pure domain module, no web framework).

A :class:`VideoSpec` becomes a short MP4 (H.264 ``libx264`` in ``yuv420p`` when PyAV's FFmpeg has it, else
MPEG-4 part 2), ``moov`` before ``mdat`` so a player can start before the download ends. The frames animate
the seeded drawing of :func:`mock_server.domain.media.images.draw` for the same seed/message_id/index: the shapes circle
along a seeded path while the background cross-fades with its mirror image; the last frame leads back into
the first, so the clip loops seamlessly.

Determinism: the frames are converted to YUV by Pillow's integer maths (not swscale, whose SIMD paths may
round differently on other CPUs), x264 runs single-threaded, and codec and muxer run with ``+bitexact`` and
no creation time, so the same spec gives byte-identical MP4 bytes in any process on any machine with the same
PyAV/FFmpeg build. Another FFmpeg or x264 version may encode differently: tests pin the frames' pixels always
and the encoded digest only for the pinned build.

Width and height must be even (yuv420p halves the chroma planes); odd sizes are refused, not rounded, so a
video is always exactly the size asked for.

Cost, measured on the 2-core dev box (median of 5): 512x512, 1 s at 8 fps renders in ~40 ms to ~25-35 KB; a
frame costs ~19 ms at 1280x720 (5 s at 24 fps: ~2.3 s, so keep fps low or cache: :class:`VideoCache`).
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from mock_server.domain.media.images import RenderCache, check_int, check_key, draw

if TYPE_CHECKING:
    import av  # imported where a video is made: PyAV costs ~0.1-0.2 s of every start otherwise
    from PIL import Image  # likewise Pillow (~15 ms)

CONTENT_TYPE: Final = "video/mp4"

VideoCodec = Literal["libx264", "mpeg4"]

_MIN_SIDE: Final = 16
_MAX_SIDE: Final = 1920
_MAX_INDEX: Final = 3
_MAX_SECONDS: Final = 20.0
_MAX_FPS: Final = 30
# Bump when the animation changes on purpose, so every video (and golden digest) changes.
_RENDER_VERSION: Final = "flux-mock-video-v1"
# Limited-range BT.601, what players assume for untagged yuv420p: Y 16..235, Cb/Cr 16..240.
_LUMA_LUT: Final = [16 + round(v * 219 / 255) for v in range(256)]
_CHROMA_LUT: Final = [16 + round(v * 224 / 255) for v in range(256)]


@dataclass(frozen=True, slots=True)
class VideoSpec:
    """What to film: everything that determines the bytes."""

    seed: int  # server-wide seed
    message_id: str  # job id (uuid string)
    index: int  # 0-based video index within the job
    width: int  # pixels, 16..1920, even
    height: int  # pixels, 16..1920, even
    seconds: float = 1.0  # 0 < seconds <= 20
    fps: int = 8  # 1..30

    def __post_init__(self) -> None:
        """Reject out-of-range values with a message naming the field, value and rule."""
        check_key(self.seed, self.message_id)
        check_int("index", self.index, 0, _MAX_INDEX)
        for field, value in (("width", self.width), ("height", self.height)):
            check_int(field, value, _MIN_SIDE, _MAX_SIDE)
            if value % 2:
                raise ValueError(f"{field} must be even for yuv420p video (got {value!r})")
        seconds = self.seconds
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 < seconds <= _MAX_SECONDS:
            raise ValueError(f"seconds must be a number above 0 and at most {_MAX_SECONDS:g} (got {seconds!r})")
        check_int("fps", self.fps, 1, _MAX_FPS)
        if self.frames < 1:
            raise ValueError(f"seconds must last at least one frame at {self.fps} fps (got {seconds!r})")

    @property
    def frames(self) -> int:
        """Number of frames: ``seconds * fps``, rounded to the nearest whole frame."""
        return round(self.seconds * self.fps)


def video_codec() -> VideoCodec:
    """The encoder ``render_video`` uses: ``libx264`` if PyAV's FFmpeg has it, else ``mpeg4``."""
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def frames(spec: VideoSpec) -> Iterator[Image.Image]:
    """The RGB frames of ``spec``'s animation, in order (what the encoder is given)."""
    from PIL import Image, ImageChops

    layers = draw(spec.seed, spec.message_id, spec.index, spec.width, spec.height)
    key = hashlib.sha256(json.dumps([_RENDER_VERSION, spec.seed, spec.message_id, spec.index]).encode()).digest()
    phase = key[0] / 256 * 2 * math.pi
    direction = 1 if key[1] % 2 else -1
    radius = (0.04 + 0.08 * key[2] / 255) * min(spec.width, spec.height)
    background = layers.background
    mirrored = background.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for k in range(spec.frames):
        # Steps of a whole turn / frames: the frame after the last would be frame 0 again, so a looping player
        # shows no repeated frame at the seam.
        angle = phase + direction * 2 * math.pi * k / spec.frames
        dx, dy = round(radius * math.cos(angle)), round(radius * math.sin(angle))
        fade = (1 - math.cos(2 * math.pi * k / spec.frames)) / 4  # 0 .. 0.5 .. 0: a colour shift
        scene = Image.blend(background, mirrored, fade)
        # offset() wraps around, so a shape leaving one edge re-enters at the other instead of vanishing.
        shapes = ImageChops.offset(layers.shapes, dx, dy)
        # Pasting through the shapes' own alpha gives alpha_composite's pixels (the golden digest did not move)
        # but stays in RGB: two fewer full-frame passes, measured ~27 -> ~19 ms a 720p frame.
        scene.paste(shapes, mask=shapes)
        yield scene


def _yuv420p(image: Image.Image) -> av.VideoFrame:
    """Pillow RGB -> a yuv420p frame, with Pillow's integer conversion (see the module docstring for why)."""
    import av
    from PIL import Image

    y, cb, cr = image.convert("YCbCr").split()  # full range BT.601
    planes = (y.point(_LUMA_LUT), cb.reduce(2).point(_CHROMA_LUT), cr.reduce(2).point(_CHROMA_LUT))
    frame = av.VideoFrame(image.width, image.height, "yuv420p")
    for plane, data in zip(frame.planes, planes, strict=True):
        if plane.line_size != data.width:
            # FFmpeg pads rows to its alignment; lay the plane out in a padded canvas of that stride.
            padded = Image.new("L", (plane.line_size, data.height))
            padded.paste(data)
            data = padded
        plane.update(data.tobytes())
    return frame


def encode(spec: VideoSpec, codec: VideoCodec) -> bytes:
    """Encode ``spec``'s frames with ``codec`` (``libx264`` or ``mpeg4``) into an MP4; see :func:`render_video`."""
    # +faststart moves moov before mdat by reopening the output *by name* when it closes, which an in-memory
    # buffer cannot do; so the muxer writes a file in a private temporary directory, read back at once.
    # +bitexact keeps version strings and times out of the file (the name never goes into it).
    container_options = {"movflags": "+faststart", "fflags": "+bitexact"}
    with tempfile.TemporaryDirectory(prefix="flux-mock-video-") as scratch:
        path = Path(scratch) / "video.mp4"
        _mux(spec, codec, str(path), container_options)
        return path.read_bytes()


def _mux(spec: VideoSpec, codec: VideoCodec, path: str, container_options: dict[str, str]) -> None:
    import av

    with av.open(path, mode="w", format="mp4", container_options=container_options) as container:
        options = {"flags": "+bitexact"}
        if codec == "libx264":
            # ultrafast keeps 512x512x8 frames well under 0.1 s; crf 30 keeps it tens of KB; one thread, because
            # x264's threading is the one place it could trade determinism for speed.
            options |= {"preset": "ultrafast", "crf": "30", "threads": "1"}
        else:
            options |= {"threads": "1"}  # its default 200 kbit/s is already tens of KB a second
        stream = container.add_stream(codec, rate=spec.fps, options=options)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, spec.fps)
        stream.codec_context.thread_count = 1
        for k, image in enumerate(frames(spec)):
            frame = _yuv420p(image)
            frame.pts = k
            frame.time_base = Fraction(1, spec.fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))  # flush delayed frames


def render_video(spec: VideoSpec) -> bytes:
    """Deterministic: same spec -> byte-identical MP4 bytes across processes (same PyAV build), ``CONTENT_TYPE``."""
    return encode(spec, video_codec())


class VideoCache(RenderCache[VideoSpec]):
    """Bounded LRU of rendered videos keyed by VideoSpec; thread-safe; get(spec) renders on miss."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        """Create an empty cache holding at most ``max_bytes`` of MP4 data."""
        super().__init__(render_video, max_bytes)
