"""Wire shapes: the Message JSON (also the webhook payload) and timestamps."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict

from mock_server.domain import results
from mock_server.domain.lifecycle import JobStatus, Snapshot

if TYPE_CHECKING:
    from mock_server.config.settings import Settings
    from mock_server.domain.clock import Clock
    from mock_server.domain.jobs import Job


class RenderContext(Protocol):
    """What rendering a Message needs from a server (`Services` has both)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def image_path(self) -> str:
        """Where images are served (the spec's ``x-mock-downloads``)."""
        ...


class MessageBody(TypedDict):
    """The progress endpoint's body, as the real API sends it for Flux."""

    messageId: str
    prompt: NotRequired[str]
    status: str
    progress: int
    uri: NotRequired[str]
    images: NotRequired[list[str]]
    error: NotRequired[str]
    ref: NotRequired[str | None]
    createdAt: str
    updatedAt: str


class CreateBody(TypedDict):
    success: bool
    messageId: str
    createdAt: str


def create_body(message_id: str, created_at: str) -> bytes:
    """A create's answer, ``{"success":true,"messageId":...,"createdAt":...}`` (a `CreateBody`), as JSON bytes.

    Written by hand on the hottest path: an id is hex digits and dashes and a timestamp ASCII digits and
    punctuation, so neither needs escaping; building the dict and encoding it cost ~3 µs per create.
    """
    return b'{"success":true,"messageId":"%s","createdAt":"%s"}' % (message_id.encode(), created_at.encode())


@functools.lru_cache(maxsize=1024)
def _whole_second(whole: int) -> str:
    # Responses within one second share this prefix; caching it saves ~3 µs per timestamp on the hot path.
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def format_timestamp(epoch: float, style: str = "ms-z") -> str:
    """ISO 8601 UTC: ``2023-08-01T14:03:01.817Z`` (docs) or ``2026-02-22T07:43:37+00:00`` (real capture).

    Same text as ``datetime.isoformat`` (microseconds rounded half-even, then truncated to milliseconds).
    """
    whole = math.floor(epoch)
    micro = round((epoch - whole) * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    if style == "offset":
        return _whole_second(whole) + "+00:00"
    return _whole_second(whole) + _MILLIS[micro // 1000]


# ".000Z" to ".999Z": formatting the milliseconds afresh cost every create and poll more than all the rest of this.
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))


def message_body(
    *,
    message_id: str,
    prompt: str | None,
    ref: str | None,
    created_at: float,
    snap: Snapshot,
    images: list[str],
    timestamp_format: str,
    extra: dict[str, Any] | None = None,
) -> MessageBody:
    """Build the Message JSON for one instant: keys appear only where the real API sends them.

    `extra` holds the keys of other job kinds (buttons, originatingMessageId, content, videoUrl, results).
    """
    body: MessageBody = {
        "messageId": message_id,
        "status": snap.status.value,
        "progress": snap.progress,
        "createdAt": "",
        "updatedAt": "",
    }
    if prompt is not None:
        body["prompt"] = prompt
    if snap.status is JobStatus.DONE and images:
        body["uri"] = images[0]
        body["images"] = images
    if snap.status is JobStatus.FAIL:
        body["error"] = snap.error or "Generation failed"
    if ref is not None:
        body["ref"] = ref
    if extra:
        body.update(extra)  # type: ignore[typeddict-item]
    body["createdAt"] = format_timestamp(created_at, timestamp_format)
    body["updatedAt"] = format_timestamp(snap.updated_at, timestamp_format)
    return body


def render_message(svc: RenderContext, job: Job, now: float | None = None) -> dict[str, Any]:
    """The Message JSON for `job` at `now` (default: the clock's now).

    The one renderer of a Message: GET progress and the webhook payload both come from here, so a webhook body
    is byte-for-byte what GET returns at the same instant.
    """
    snap = job.snapshot(svc.clock.now() if now is None else now)
    done = snap.status is JobStatus.DONE
    urls = image_urls(svc, job) if done else []
    extra: dict[str, Any] = {}
    if job.media == "video":
        if urls:
            extra["videoUrl"] = urls[0]
            extra["results"] = [{"url": url, "index": i} for i, url in enumerate(urls)]
        urls = []
    if done and job.buttons:
        extra["buttons"] = list(job.buttons)
    if done and job.content is not None:
        extra["content"] = list(job.content)
    if job.origin is not None:
        extra["originatingMessageId"] = job.origin
    body = message_body(
        message_id=job.message_id,
        prompt=job.prompt,
        ref=job.ref,
        created_at=job.plan.created_at,
        snap=snap,
        images=urls,
        timestamp_format=svc.settings.timestamp_format,
        extra=extra,
    )
    if snap.status is JobStatus.QUEUED and job.timing is not None and job.timing.queued_status:
        body["status"] = job.timing.queued_status  # status-variant: outside the contract's enum on purpose
    return dict(body)


def image_urls(svc: RenderContext, job: Job) -> list[str]:
    """Where the job's result files are served: on the mock itself, named like the real CDN's."""
    base = f"{svc.settings.base_url}{svc.image_path}/"
    return [base + name for name in results.names(job)]
