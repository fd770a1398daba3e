"""What a finished job's result files are: their names and their bytes, by the job's media.

- ``image``: n images of the job's own drawing, or, for an upscale, quadrant i of the grid it came from;
- ``grid``: one real 2x2 composite;
- ``cutout``: a PNG with an alpha channel (remove-bg);
- ``video``: n small MP4 files;
- ``text``: no files (the Message carries ``content``).

Names follow the real CDN: ``<messageId>.<ext>`` for the first, ``<messageId>-<i>.<ext>`` for the others.
"""

from __future__ import annotations

from mock_server.domain.jobs import Job
from mock_server.domain.media.images import CONTENT_TYPES, ImageCache, ImageSpec
from mock_server.domain.media.video import CONTENT_TYPE as VIDEO_TYPE
from mock_server.domain.media.video import VideoCache, VideoSpec


def extension(job: Job) -> str:
    """The file extension of the job's results."""
    return "mp4" if job.media == "video" else job.fmt


def count(job: Job) -> int:
    """How many result files the job has (0 for text results)."""
    if job.media == "text":
        return 0
    return 1 if job.media in ("grid", "cutout") else job.n


def names(job: Job) -> list[str]:
    """The file names of the job's results, in order."""
    ext = extension(job)
    return [f"{job.message_id}.{ext}" if i == 0 else f"{job.message_id}-{i}.{ext}" for i in range(count(job))]


def render(job: Job, index: int, seed: int, cache: ImageCache, videos: VideoCache) -> tuple[bytes, str]:
    """The bytes and Content-Type of result `index` (0-based) of a DONE job."""
    if job.media == "video":
        return videos.get(VideoSpec(seed, job.message_id, index, job.width, job.height)), VIDEO_TYPE
    source, drawn = job.art if job.art is not None else (job.message_id, index)
    style = "grid" if job.media == "grid" else "cutout" if job.media == "cutout" else "plain"
    spec = ImageSpec(seed, source, drawn, job.width, job.height, job.fmt, job.quality, style=style)  # type: ignore[arg-type]
    return cache.get(spec), CONTENT_TYPES[job.fmt]
