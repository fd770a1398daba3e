"""Wire shapes: the Message JSON (also the webhook payload) and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NotRequired, TypedDict

from .lifecycle import JobStatus, Snapshot


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


def format_timestamp(epoch: float, style: str = "ms-z") -> str:
    """ISO 8601 UTC: ``2023-08-01T14:03:01.817Z`` (docs) or ``2026-02-22T07:43:37+00:00`` (real capture)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    if style == "offset":
        return moment.isoformat(timespec="seconds")
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_body(
    *,
    message_id: str,
    prompt: str | None,
    ref: str | None,
    created_at: float,
    snap: Snapshot,
    images: list[str],
    timestamp_format: str,
) -> MessageBody:
    """Build the Message JSON for one instant: keys appear only where the real API sends them."""
    body: MessageBody = {
        "messageId": message_id,
        "status": snap.status.value,
        "progress": snap.progress,
        "createdAt": "",
        "updatedAt": "",
    }
    if prompt is not None:
        body["prompt"] = prompt
    if snap.status is JobStatus.DONE:
        body["uri"] = images[0]
        body["images"] = images
    if snap.status is JobStatus.FAIL:
        body["error"] = snap.error or "Generation failed"
    if ref is not None:
        body["ref"] = ref
    body["createdAt"] = format_timestamp(created_at, timestamp_format)
    body["updatedAt"] = format_timestamp(snap.updated_at, timestamp_format)
    return body
