"""Thin HTTP handlers: parse the request, call the job store, serialise the answer."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.contract.problems import HttpError, Violation, from_violations
from mock_server.domain import results
from mock_server.domain.jobs import Job, Timing
from mock_server.domain.kinds import FollowUp, job_kind
from mock_server.domain.kinds.buttons import CANCELLED
from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.messages import create_body, format_timestamp, render_message
from mock_server.domain.validation import nesting_depth
from mock_server.domain.webhooks.faults import HEADER as WEBHOOK_FAULT_HEADER
from mock_server.services.container import Services
from mock_server.web.answers import send_body
from mock_server.web.bodies import note_body, read_body
from mock_server.web.middleware.auth import CLOSE
from mock_server.web.middleware.selection import admit

JSON = "application/json"
_JSON_BYTES = JSON.encode()
_IMAGE_NAME = re.compile(r"^(?P<id>[0-9a-f-]{36})(?:-(?P<index>[0-9]))?\.(?P<ext>png|webp|jpg|mp4)$")
_WEBHOOK_FAULT_KEY = WEBHOOK_FAULT_HEADER.lower().encode("latin-1")
# The scope key under which the fast lane leaves the request's headers as a dict (it had to build one).
HEADERS = "flux_mock.headers"


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def read_json_body(
    receive: Receive, headers: dict[bytes, bytes], limit: int, state: dict[str, Any], max_depth: int = 32
) -> Any:
    """The parsed JSON body, or an HttpError saying exactly what is wrong with it (size, type, JSON, depth)."""
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        hint = f"Request body is {declared.decode()} bytes; the limit is {limit} bytes (--max-body-bytes)."
        raise HttpError(413, hint, headers=CLOSE)  # refused before reading; the connection is closed, not drained
    _, raw = await read_body(receive, limit)
    if raw is None:
        raise HttpError(413, f"Request body is over the {limit}-byte limit (--max-body-bytes).", headers=CLOSE)
    note_body(state, raw)
    if not raw.strip():
        raise HttpError(400, 'Request body is missing; send a JSON object such as {"prompt": "a red fox"}.')
    sent_type = headers.get(b"content-type", b"")
    if sent_type != _JSON_BYTES:  # the usual header, compared as sent; anything else is parsed
        media = sent_type.decode("latin-1").split(";")[0].strip().lower()
        if media != JSON and not (media.startswith("application/") and media.endswith("+json")):
            sent = media or "no Content-Type"
            raise HttpError(415, f"Content-Type must be application/json (got {sent}); send the body as JSON.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"Request body is not valid JSON: {exc}.") from None
    # Fewer brackets than the limit cannot nest deeper than it: the walk is skipped for every ordinary body.
    deep = raw.count(b"[") + raw.count(b"{") > max_depth and nesting_depth(body, max_depth) > max_depth
    if deep:
        # Checked before validation: jsonschema recurses per level, and no field of the contract nests this deep.
        message = f"Request body nests more than {max_depth} levels deep; the limit is {max_depth} levels."
        hint = "send the documented fields only; none of them nests more than a few levels"
        too_deep = Violation("body", "", "x-mock-max-depth", max_depth, body, message, hint)
        raise HttpError(400, [message], violations=(too_deep,))
    return body


class CreateJob:
    """Every ``x-mock-kind: create:<kind>`` operation, as a plain ASGI app bound to one server's services.

    Plain ASGI rather than a Starlette request/response function: this is the hottest path and the
    Request/Response wrappers cost more than the work itself. Errors are raised as HttpError and rendered
    by the app's exception handler like everywhere else.
    """

    def __init__(self, svc: Services, operation_id: str) -> None:
        self.svc = svc
        self.operation_id = operation_id
        self.validator = svc.validator(operation_id)
        self.kind = job_kind(svc.spec.operation(operation_id).job_kind, f"{svc.spec.source}: {operation_id}")
        self.properties = frozenset(self.validator.schema.get("properties", {}))
        self._timings: dict[float, Timing] = {}  # the plain Timing of each duration: Timing is frozen, so shared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc = self.svc
        state = scope.setdefault("state", {})
        state["operation_id"] = self.operation_id
        headers = scope.get(HEADERS) or dict(scope["headers"])
        body = await read_json_body(receive, headers, svc.settings.max_body_bytes, state, svc.settings.max_json_depth)
        body = camel_keys(body, self.properties)
        problems = self.validator.violations(body)
        if problems:
            raise from_violations(problems)
        fields = self.kind.fields(self.validator.normalise(body))
        if self.kind.follow_up is not None:  # a button, a video extend, a command: it reads an earlier message
            account = state["account"]
            if isinstance(fields.get("target"), str):  # the message it acts on: into the local replica first
                await svc.store.find(fields["target"])
            context = FollowUp(lambda mid: _own(svc, mid, account), svc.clock.now(), svc.settings.plan_type)
            fields = self.kind.follow_up(fields, context)
        if fields.get("action") == "cancel":
            await self._cancel(send, state, str(fields["target"]))
            return
        # A webhook the mock will not send (unknown X-Mock-Webhook fault; an off-list host with
        # --webhook-off-list refuse) is a 400, before credits.
        asked = headers.get(_WEBHOOK_FAULT_KEY)
        fault = None  # no webhook URL and no fault header: nothing to check (the usual create skips a call)
        if asked is not None or fields["webhook_url"] is not None:
            fault = svc.webhooks.check_request(
                fields["webhook_url"], None if asked is None else asked.decode("latin-1")
            )
        # Scenarios shape the job (and strip [mock:...] from the prompt); credits are charged only for valid creates.
        # --pace-from: a recorded job of this kind lends its queue and run time; otherwise --job-seconds.
        duration = svc.settings.job_seconds * self.kind.pace(fields)
        plain = self._timings.get(duration)
        if plain is None:
            plain = self._timings.setdefault(duration, Timing(duration=duration))
        base = svc.pacing.timing(self.kind.name, plain) if svc.pacing.kinds else plain
        fields, timing = admit(svc.scenarios, scope, fields, base)
        if svc.store.charging:  # some key has a balance (`charge` is a no-op otherwise: the cost is not reckoned)
            await svc.store.charge(state["account"], self.kind.cost(fields))
        if fault is not None:
            fields["webhook_fault"] = fault
            state["tags"] = [*state.get("tags", []), f"webhook-fault:{fault}"]
        stored = fields if fields.keys() <= JOB_FIELDS else {k: v for k, v in fields.items() if k in JOB_FIELDS}
        job = await svc.store.submit(state["account"], timing, stored, self.kind.progress_step)
        state["job"] = fields  # the journal leaves the prompt out when it builds its entry (it is in the body)
        state["message_id"] = job.message_id
        created_at = format_timestamp(job.plan.created_at, svc.settings.timestamp_format)
        await send_body(send, 200, create_body(job.message_id, created_at))

    async def _cancel(self, send: Send, state: dict[str, Any], target: str) -> None:
        # Cancel Job makes no job: the target ends as FAIL now (its webhook says so) and the answer names it.
        svc = self.svc
        await svc.store.find(target)  # the follow-up check found it; this puts it in the local replica
        progress = svc.jobs.get(target).snapshot(svc.clock.now()).progress
        await svc.store.job_changed(svc.jobs.force(target, JobStatus.FAIL, progress, CANCELLED))
        state["message_id"] = target
        state["job"] = {"kind": "button", "button": "Cancel Job", "target": target}
        created_at = format_timestamp(svc.clock.now(), svc.settings.timestamp_format)
        await send_body(send, 200, create_body(target, created_at))


def _own(svc: Services, message_id: str, account: str) -> Job | None:
    job = svc.jobs.find(message_id)
    return job if job is not None and job.account == account else None


JOB_FIELDS = frozenset(f.name for f in dataclasses.fields(Job)) - {"message_id", "account", "plan", "timing"}
_SNAKE = re.compile(r"_([a-z0-9])")


def camel_keys(body: Any, properties: frozenset[str]) -> Any:
    """`body` with snake_case keys renamed to the schema's camelCase ones (``message_id`` -> ``messageId``).

    The official Python SDK sends a plain dict's keys unchanged; whether the real API accepts them is unknown,
    so the mock does (x-inferred). A key is renamed only when its camelCase form is a property and not sent too.
    """
    if not isinstance(body, dict):
        return body
    for key in body:  # a loop, not any(generator): this runs on every create
        if "_" in key and key not in properties:
            break
    else:
        return body  # the usual case (Flux's own keys such as output_format are properties): nothing to rename
    renamed: dict[str, Any] = {}
    for key, value in body.items():
        camel = _SNAKE.sub(lambda m: m.group(1).upper(), key) if key not in properties else key
        renamed[camel if camel in properties and camel not in body else key] = value
    return renamed


class FetchMessage:
    """Every ``x-mock-kind: poll`` operation (e.g. GET /api/v1/message/fetch/{messageId} and the legacy path)."""

    def __init__(self, svc: Services, operation_id: str) -> None:
        self.svc = svc
        self.operation_id = operation_id
        self.validator = svc.validator(f"{operation_id}:messageId")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["operation_id"] = self.operation_id
        message_id = scope["path_params"]["messageId"]
        state["message_id"] = message_id
        # A job held here has an id the mock made, so it is valid: the schema check is for ids it does not know.
        job = self.svc.jobs.find(message_id)
        if job is None:
            problems = self.validator.violations(message_id)
            if problems:
                state.pop("message_id")
                raise from_violations(problems)
            job = await self.svc.store.find(message_id)
        if job is None or job.account != state.get("account"):
            raise HttpError(404, "Message not found")
        if job.final_body is not None and job.forced is None:
            await send_body(send, 200, job.final_body)
            return
        now = self.svc.clock.now()
        payload = orjson.dumps(render_message(self.svc, job, now))
        if job.forced is None and now >= job.plan.ends_at:
            job.final_body = payload
        await send_body(send, 200, payload)


async def image(request: Request) -> Response:
    """GET a result file of a finished job: an image or a video (the mock's stand-in for the CDN)."""
    svc = services(request)
    match = _IMAGE_NAME.match(request.path_params["name"])
    if match is None:
        raise HttpError(404, "Image not found: the name must be <messageId>[-<index>].<png|webp|jpg|mp4>.")
    job = await svc.store.find(match["id"])
    index = int(match["index"] or 0)
    request.state.message_id = match["id"]
    if job is None or index >= results.count(job) or match["ext"] != results.extension(job):
        raise HttpError(404, "Image not found")
    if job.snapshot(svc.clock.now()).status is not JobStatus.DONE:
        raise HttpError(404, "Image not found: the job is not DONE yet.")
    data, media_type = results.render(job, index, svc.settings.seed, svc.images, svc.videos)
    return Response(data, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
