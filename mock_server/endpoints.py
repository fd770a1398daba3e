"""Thin HTTP handlers: parse the request, call the job store, serialise the answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .credits import cost
from .images import CONTENT_TYPES, ImageSpec
from .jobs import Job, Timing
from .lifecycle import JobStatus
from .messages import CreateBody, format_timestamp, message_body
from .problems import HttpError, from_violations
from .selection import admit
from .services import Services
from .validation import normalise

JSON = "application/json"
IMAGE_PATH = "/storage/v1/object/public/cdn"
_IMAGE_NAME = re.compile(r"^(?P<id>[0-9a-f-]{36})(?:-(?P<index>[0-9]))?\.(?P<ext>png|webp|jpg)$")
_BODY_EXCERPT = 4096


def json_response(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """orjson-encoded JSON answer (the hot path: several times faster than json.dumps)."""
    return Response(orjson.dumps(content), status_code=status, headers=headers, media_type=JSON)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def read_json_body(request: Request, limit: int) -> Any:
    """The parsed JSON body, or an HttpError saying exactly what is wrong with it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"Request body is {declared} bytes; the limit is {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"Request body is over the {limit}-byte limit.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    request.state.body_text = raw[:_BODY_EXCERPT].decode("utf-8", "replace")
    if not raw.strip():
        raise HttpError(400, 'Request body is missing; send a JSON object such as {"prompt": "a red fox"}.')
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != JSON and not (media.startswith("application/") and media.endswith("+json")):
        sent = media or "no Content-Type"
        raise HttpError(415, f"Content-Type must be application/json (got {sent}); send the body as JSON.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"Request body is not valid JSON: {exc}.") from None


async def create_job(request: Request, operation_id: str) -> Response:
    svc = services(request)
    request.state.operation_id = operation_id
    body = await read_json_body(request, svc.settings.max_body_bytes)
    validator = svc.validator(operation_id)
    problems = validator.violations(body)
    if problems:
        raise from_violations(problems)
    fields = _job_fields(operation_id, body, validator.schema)
    # Scenarios shape the job (and strip [mock:...] from the prompt); credits are charged only for valid creates.
    fields, timing = admit(svc.scenarios, request.scope, fields, Timing(duration=svc.settings.job_seconds))
    svc.credits.charge(request.state.account, cost(str(fields["kind"]), int(fields.get("n", 1))))
    job = svc.store.submit(account=request.state.account, timing=timing, **fields)
    request.state.message_id = job.message_id
    created: CreateBody = {
        "success": True,
        "messageId": job.message_id,
        "createdAt": format_timestamp(job.plan.created_at, svc.settings.timestamp_format),
    }
    return json_response(created)


def _job_fields(operation_id: str, raw: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    body = normalise(raw, schema)
    common = {"ref": body.get("ref"), "webhook_url": body.get("webhookOverride")}
    if operation_id == "fluxUpscale":
        side = 512 * int(
            body["scale"]
        )  # the source is never fetched; the result has the scaled size of a 512 px square
        return {"kind": "upscale", "timeout": 900, "width": side, "height": side, **common}
    return {
        "kind": "imagine",
        "prompt": body["prompt"],
        "timeout": int(body["timeout"]),
        "n": int(body["n"]),
        "width": int(body["width"]),
        "height": int(body["height"]),
        "fmt": body["output_format"],
        "quality": int(body["output_quality"]),
        **common,
    }


async def imagine(request: Request) -> Response:
    """POST /api/v1/flux/imagine."""
    return await create_job(request, "fluxImagine")


async def upscale(request: Request) -> Response:
    """POST /api/v1/flux/upscale."""
    return await create_job(request, "fluxUpscale")


def render_message(svc: Services, job: Job, now: float | None = None) -> dict[str, Any]:
    """The Message JSON for `job` at `now` (default: the clock's now)."""
    snap = job.snapshot(svc.clock.now() if now is None else now)
    urls = image_urls(svc, job) if snap.status is JobStatus.DONE else []
    body = message_body(
        message_id=job.message_id,
        prompt=job.prompt,
        ref=job.ref,
        created_at=job.plan.created_at,
        snap=snap,
        images=urls,
        timestamp_format=svc.settings.timestamp_format,
    )
    if snap.status is JobStatus.QUEUED and job.timing is not None and job.timing.queued_status:
        body["status"] = job.timing.queued_status  # status-variant: outside the contract's enum on purpose
    return dict(body)


def image_urls(svc: Services, job: Job) -> list[str]:
    """Where the job's images are served: on the mock itself, named like the real CDN's."""
    base = f"{svc.settings.base_url}{IMAGE_PATH}/{job.message_id}"
    return [f"{base}.{job.fmt}" if i == 0 else f"{base}-{i}.{job.fmt}" for i in range(job.n)]


async def fetch_message(request: Request) -> Response:
    """GET /api/v1/message/fetch/{messageId} and its legacy twin."""
    svc = services(request)
    operation_id = "fetchMessage" if request.url.path.startswith("/api/v1/message/") else "fetchMessageLegacy"
    request.state.operation_id = operation_id
    message_id = request.path_params["messageId"]
    problems = svc.validator(f"{operation_id}:messageId").violations(message_id)
    if problems:
        raise from_violations(problems)
    request.state.message_id = message_id
    job = svc.store.find(message_id)
    if job is None or job.account != request.state.account:
        raise HttpError(404, "Message not found")
    return json_response(render_message(svc, job))


async def image(request: Request) -> Response:
    """GET an image of a finished job (the mock's stand-in for the CDN)."""
    svc = services(request)
    match = _IMAGE_NAME.match(request.path_params["name"])
    if match is None:
        raise HttpError(404, "Image not found: the name must be <messageId>[-<index>].<png|webp|jpg>.")
    job = svc.store.find(match["id"])
    index = int(match["index"] or 0)
    request.state.message_id = match["id"]
    if job is None or index >= job.n or match["ext"] != job.fmt:
        raise HttpError(404, "Image not found")
    if job.snapshot(svc.clock.now()).status is not JobStatus.DONE:
        raise HttpError(404, "Image not found: the job is not DONE yet.")
    spec = ImageSpec(svc.settings.seed, job.message_id, index, job.width, job.height, job.fmt, job.quality)  # type: ignore[arg-type]
    data = svc.images.get(spec)
    return Response(data, media_type=CONTENT_TYPES[job.fmt], headers={"Cache-Control": "public, max-age=86400"})
