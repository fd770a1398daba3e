"""Deliberately broken servers: flux-mock with one contract bug each, to prove `flux-mock check` catches it.

Each mutant wraps `create_app` in a small ASGI layer that rewrites requests or responses, so the
bug is exactly one behaviour and everything else stays faithful. `expected` names the checks
that should catch it; the kill test asserts at least one of them fired.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server import Clock, Settings, create_app

API_KEY = "sk-mutant"
CREDITS = 1_000_000  # a finite balance, so account-info shows what each job is charged
FETCH_PREFIXES = ("/api/v1/message/fetch/", "/api/v1/midjourney/message/", "/api/v1/video/mj/fetch/")


@dataclass(frozen=True)
class Reply:
    """What a request rule returns to answer the request itself: the wrapped app never sees it."""

    status: int
    body: Any


@dataclass
class Call:
    """What a rewrite rule sees of one request."""

    method: str
    path: str
    state: dict[str, Any]  # per-mutant memory (e.g. how often a job was polled)
    body: Any = None  # the parsed JSON request body, for POSTs
    reply: Reply | None = None  # set when a request rule answered the request itself

    @property
    def is_button(self) -> bool:
        return self.method == "POST" and self.path.endswith("/button") and isinstance(self.body, dict)

    @property
    def is_image(self) -> bool:
        return self.method == "GET" and self.path.startswith("/storage/")

    @property
    def is_fetch(self) -> bool:
        return self.method == "GET" and self.path.startswith(FETCH_PREFIXES)

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.path.startswith("/api/v1/flux/")

    @property
    def is_legacy(self) -> bool:
        return self.path.startswith(FETCH_PREFIXES[1])


RequestRule = Callable[[Call, Any], Any]
ResponseRule = Callable[[Call, int, Any], tuple[int, Any]]
HeaderRule = Callable[[Call, list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]


class Rewrite:
    """ASGI wrapper: rewrite JSON request bodies, headers and JSON responses of the wrapped app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        request: RequestRule | None = None,
        response: ResponseRule | None = None,
        headers: HeaderRule | None = None,
    ) -> None:
        self.app, self.request, self.response, self.headers = app, request, response, headers
        self.state: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        call = Call(scope["method"], scope["path"], self.state)
        scope = dict(scope)
        if self.headers is not None:
            scope["headers"] = self.headers(call, list(scope["headers"]))
        if scope["method"] == "POST":
            receive, scope = await self._rewrite_request(call, scope, receive)
        if call.reply is not None:
            raw = json.dumps(call.reply.body).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
            await send({"type": "http.response.start", "status": call.reply.status, "headers": headers})
            await send({"type": "http.response.body", "body": raw})
            return
        if self.response is None:
            await self.app(scope, receive, send)
            return
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_rewritten(call, started, b"".join(chunks), send)

        await self.app(scope, receive, capture)

    async def _rewrite_request(self, call: Call, scope: Scope, receive: Receive) -> tuple[Receive, Scope]:
        raw, more = b"", True
        while more:
            message = await receive()
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            call.body = json.loads(raw)
        except ValueError:
            call.body = None  # not JSON: passed on untouched, the mock answers as usual
        else:
            if self.request is not None:
                changed = self.request(call, call.body)
                if isinstance(changed, Reply):
                    call.reply = changed
                else:
                    raw = json.dumps(changed).encode()
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", str(len(raw)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        return replay, scope

    async def _send_rewritten(self, call: Call, started: dict[str, Any], raw: bytes, send: Send) -> None:
        assert self.response is not None
        status = started["status"]
        headers = [(k, v) for k, v in started.get("headers", []) if k != b"content-length"]
        is_json = any(k == b"content-type" and v.startswith(b"application/json") for k, v in headers)
        status, body = self.response(call, status, json.loads(raw) if is_json else raw)
        if isinstance(body, bytes):
            raw = body  # a rewritten download (or the same bytes)
        else:
            raw = json.dumps(body).encode()
            headers = [(k, v) for k, v in headers if k != b"content-type"] + [(b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})


@dataclass(frozen=True)
class Mutant:
    """One broken server: a name, the bug, the checks expected to catch it, and how to build it."""

    name: str
    bug: str
    expected: frozenset[str]
    request: RequestRule | None = None
    response: ResponseRule | None = None
    headers: HeaderRule | None = None

    def build(self, clock: Clock, job_seconds: float = 3.0, public_url: str | None = None) -> Rewrite:
        base = faithful(clock, job_seconds, public_url)
        rewrite = Rewrite(base, request=self.request, response=self.response, headers=self.headers)
        rewrite.state["clock"] = clock  # for rules that act on time (a lagging path)
        return rewrite


def faithful(clock: Clock, job_seconds: float = 3.0, public_url: str | None = None) -> ASGIApp:
    """The mock itself, with the same settings as the mutants (the control: check must pass)."""
    settings = Settings(
        job_seconds=job_seconds,
        seed=7,
        api_keys=(API_KEY,),
        public_url=public_url,
        credits=CREDITS,
        **dry_webhooks(),
    )
    return create_app(settings, clock=clock)


def dry_webhooks() -> dict[str, Any]:
    """Webhooks recorded, not sent: the mutants run in-process, and check's EchoInbox stands in for delivery."""
    return {"webhook_transport": "record"}


# --- rules -----------------------------------------------------------------------------------------


def _body_rule(change: Callable[[dict[str, Any]], None]) -> RequestRule:
    def rule(call: Call, body: Any) -> Any:
        if call.is_create and isinstance(body, dict):
            body = dict(body)
            change(body)
        return body

    return rule


def _clamp_n(body: dict[str, Any]) -> None:
    if body.get("n") == 5:
        body["n"] = 4


def _round_width(body: dict[str, Any]) -> None:
    width = body.get("width")
    if isinstance(width, int) and not isinstance(width, bool) and 256 <= width <= 1440 and width % 8:
        body["width"] = width - width % 8


def _default_prompt(body: dict[str, Any]) -> None:
    if "image" not in body:
        body.setdefault("prompt", "a default prompt")


def _drop_unknown(body: dict[str, Any]) -> None:
    known = {
        "prompt",
        "ref",
        "webhookOverride",
        "timeout",
        "n",
        "height",
        "width",
        "aspect_ratio",
        "output_format",
        "output_quality",
        "model",
        "disableCdn",
        "image",
        "scale",
    }
    for key in set(body) - known:
        del body[key]


def _on_message(change: Callable[[Call, dict[str, Any]], None]) -> ResponseRule:
    """Rewrite 200 fetch answers only."""

    def rule(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.is_fetch and status == 200 and isinstance(body, dict):
            body = dict(body)
            change(call, body)
        return status, body

    return rule


def _progress_backwards(call: Call, body: dict[str, Any]) -> None:
    # Once a poll has shown 30 % or more, the next PROCESSING poll shows 10 % (once per job).
    if body["status"] == "PROCESSING" and body["progress"] >= 30:
        seen = call.state.setdefault(body["messageId"], [])
        if len(seen) == 1:
            body["progress"] = 10
        seen.append(body["progress"])


def _uri_not_first(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE" and "images" in body:
        body["uri"] = body["images"][0] + "?copy=1"


def _done_without_images(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.pop("images", None)


def _one_image(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE" and "images" in body:
        body["images"] = body["images"][:1]


def _done_then_processing(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        seen = call.state[body["messageId"]] = call.state.get(body["messageId"], 0) + 1
        if seen == 2:
            body.update(status="PROCESSING", progress=99)
            for key in ("uri", "images", "buttons", "content", "videoUrl", "results"):
                body.pop(key, None)


def _fail_without_error(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.update(status="FAIL")
        for key in ("uri", "images", "buttons", "content", "videoUrl", "results"):
            body.pop(key, None)


def _never_finishes(call: Call, body: dict[str, Any]) -> None:
    if body["status"] in ("DONE", "FAIL"):
        body.update(status="PROCESSING", progress=99)
        for key in ("uri", "images", "error", "buttons", "content", "videoUrl", "results"):
            body.pop(key, None)


def _updated_before_created(call: Call, body: dict[str, Any]) -> None:
    body["updatedAt"] = "2001-01-01T00:00:00.000Z"


def _legacy_differs(call: Call, body: dict[str, Any]) -> None:
    if call.is_legacy and body["status"] == "DONE" and "uri" in body:
        body["uri"] = body["uri"].replace("http://", "https://")
        body["images"] = [body["uri"], *body["images"][1:]]


def _status_outside_enum(call: Call, body: dict[str, Any]) -> None:
    # Words real servers use instead of the contract's: neither is QUEUED, PROCESSING, DONE or FAIL.
    body["status"] = {"PROCESSING": "processing", "DONE": "COMPLETED"}.get(body["status"], body["status"])


LEGACY_LAG_S = 0.5  # the kill test's poll interval: polls that alternate between the paths cannot see it


def _legacy_lags(call: Call, body: dict[str, Any]) -> None:
    # A lagging replica: while a job runs, the legacy path serves the newest answer the current path gave at least
    # LEGACY_LAG_S ago (the live answer when there is none yet).
    now = call.state["clock"].now()
    seen = call.state.setdefault("current", {}).setdefault(body["messageId"], [])
    if not call.is_legacy:
        seen.append((now, dict(body)))
        return
    old = [answer for at, answer in seen if at <= now - LEGACY_LAG_S]
    if old and body["status"] not in ("DONE", "FAIL"):
        body.clear()
        body.update(old[-1])


def _progress_101(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body["progress"] = 101


def _other_message_id(call: Call, body: dict[str, Any]) -> None:
    mid = body["messageId"]
    body["messageId"] = ("1" if mid[0] == "0" else "0") + mid[1:]


def _drop_ref(call: Call, body: dict[str, Any]) -> None:
    body.pop("ref", None)


def _unparseable_time(call: Call, body: dict[str, Any]) -> None:
    body["createdAt"] = "22/02/2026 07:43"


def _express_errors(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if status >= 400 and isinstance(body, dict):
        return status, {"error": body.get("message"), "status": status}
    return status, body


def _status_code_400(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if status >= 400 and isinstance(body, dict):
        body = dict(body, statusCode=400)
    return status, body


def _crash_on_n2(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_create and status == 200 and isinstance(call.body, dict) and call.body.get("n") == 2:
        return 500, {"message": "Internal server error", "statusCode": 500}
    return status, body


def _missing_message_id(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_create and status == 200 and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "messageId"}
    return status, body


def _fetch_404(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_fetch and status == 200:
        return 404, {"message": "Message not found", "error": "Not Found", "statusCode": 404}
    return status, body


def _any_key_accepted(call: Call, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k != b"authorization"]
    return [*kept, (b"authorization", f"Bearer {API_KEY}".encode())]


def _images_gone(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_image and status == 200:
        return 404, {"message": "Image not found", "error": "Not Found", "statusCode": 404}
    return status, body


def _grid_without_buttons(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE" and "U1" in body.get("buttons", []):
        del body["buttons"]


def _describe_without_content(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.pop("content", None)


def _video_without_results(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.pop("results", None)


def _upscale_without_origin(call: Call, body: dict[str, Any]) -> None:
    body.pop("originatingMessageId", None)


def _press_anything(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # A refused button press (the target is not DONE, or does not offer the button) is answered as a new job.
    if call.method == "POST" and call.path.endswith("/button") and status == 409 and isinstance(call.body, dict):
        return 200, {"success": True, "messageId": call.body["messageId"], "createdAt": "2025-06-15T15:06:40.000Z"}
    return status, body


def _credits_frozen(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # account-info shows the starting balance whatever the jobs were charged.
    if call.path == "/api/v1/subscription/account-info" and status == 200 and isinstance(body, dict):
        body = dict(body, credits=CREDITS)
    return status, body


CREATED_AT = "2025-06-15T15:06:40.000Z"


def _flatten_cutouts(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # Every PNG with alpha is re-encoded without it (JPEG and WebP results are left alone).
    if call.is_image and status == 200 and isinstance(body, bytes) and body[25:26] in (b"\x04", b"\x06"):
        from io import BytesIO

        from PIL import Image

        out = BytesIO()
        Image.open(BytesIO(body)).convert("RGB").save(out, "PNG")
        return status, out.getvalue()
    return status, body


def _cancel_ignored(call: Call, body: Any) -> Any:
    # Cancel Job is answered as documented (200 naming the target) but nothing happens: the job runs on.
    if call.is_button and body.get("button") == "Cancel Job":
        return Reply(200, {"success": True, "messageId": body.get("messageId"), "createdAt": CREATED_AT})
    return body


def _cancel_resets_progress(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "FAIL" and body.get("error") == "Job cancelled":
        body["progress"] = 0


def _cancel_anytime(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # Cancel Job on a job that has ended (DONE, or cancelled already) is answered as if it worked.
    if call.is_button and call.body.get("button") == "Cancel Job" and status == 409:
        return 200, {"success": True, "messageId": call.body["messageId"], "createdAt": CREATED_AT}
    return status, body


def _mask_optional(call: Call, body: Any) -> Any:
    # Vary (Region) without a mask is accepted (the server paints a default mask).
    if call.is_button and body.get("button") == "Vary (Region)" and not body.get("mask"):
        return {**body, "mask": "AAAA"}
    return body


def _refuses_zoom(call: Call, body: Any) -> Any:
    # The upscale offers Zoom Out 1.5x, but pressing it is refused as not offered.
    if call.is_button and body.get("button") == "Zoom Out 1.5x":
        message = "Button 'Zoom Out 1.5x' is not offered by this message."
        return Reply(409, {"message": [message], "error": "Conflict", "statusCode": 409})
    return body


def _refuses_extend_beyond_0(call: Call, body: Any) -> Any:
    if call.method == "POST" and call.path.endswith("/video/mj/extend") and isinstance(body, dict):
        index = body.get("index")
        if isinstance(index, int) and index > 0:
            message = f"Result {body.get('index')} cannot be extended."
            return Reply(409, {"message": [message], "error": "Conflict", "statusCode": 409})
    return body


UPSCALED = ["Upscale (Subtle)", "Upscale (Creative)", "Vary (Subtle)", "Vary (Strong)", "Vary (Region)", "Zoom Out 2x"]


def _variation_is_upscale(call: Call, body: dict[str, Any]) -> None:
    # A grid made by a button (a variation, a reroll, a zoom...) comes back as one upscaled image.
    if body["status"] == "DONE" and body.get("originatingMessageId") and "V1" in body.get("buttons", []):
        body["buttons"] = list(UPSCALED)
        body["images"] = body["images"][:1]


def _origin_not_pressed(call: Call, body: dict[str, Any]) -> None:
    # A grid made by a button names some other message as its origin.
    origin = body.get("originatingMessageId")
    if isinstance(origin, str) and "V1" in body.get("buttons", []):
        body["originatingMessageId"] = ("1" if origin[0] == "0" else "0") + origin[1:]


HISTORY_PATHS = ("/api/v1/nova/images", "/api/v1/midjourney/images")


def _on_history(change: Callable[[list[Any]], list[Any]]) -> ResponseRule:
    def rule(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method == "GET" and call.path in HISTORY_PATHS and status == 200 and isinstance(body, dict):
            body = dict(body, images=change(list(body.get("images", []))))
        return status, body

    return rule


def _oldest_first(images: list[Any]) -> list[Any]:
    return sorted(images, key=lambda image: str(image.get("createdAt")))


def _no_button(images: list[Any]) -> list[Any]:
    return [dict(image, button="") for image in images]


MUTANTS: list[Mutant] = [
    Mutant(
        "accepts-n-5",
        "n=5 is accepted (served as 4)",
        frozenset({"rejection_names_field", "negative_data_rejection"}),
        request=_body_rule(_clamp_n),
    ),
    Mutant(
        "accepts-width-1001",
        "widths not divisible by 8 are accepted (rounded down)",
        frozenset({"rejection_names_field", "negative_data_rejection"}),
        request=_body_rule(_round_width),
    ),
    Mutant(
        "accepts-missing-prompt",
        "a missing prompt gets a default",
        frozenset({"rejection_names_field"}),
        request=_body_rule(_default_prompt),
    ),
    Mutant(
        "accepts-unknown-fields",
        "unknown keys are dropped silently",
        frozenset({"rejection_names_field"}),
        request=_body_rule(_drop_unknown),
    ),
    Mutant(
        "accepts-any-key",
        "requests without credentials are served",
        frozenset({"error_status", "ignored_auth"}),
        headers=_any_key_accepted,
    ),
    Mutant(
        "progress-backwards",
        "progress falls back to 10 once it has shown 30 or more",
        frozenset({"progress_never_decreases"}),
        response=_on_message(_progress_backwards),
    ),
    Mutant(
        "uri-not-first-image", "uri != images[0]", frozenset({"done_has_images"}), response=_on_message(_uri_not_first)
    ),
    Mutant(
        "done-without-images",
        "DONE without images",
        frozenset({"done_has_images"}),
        response=_on_message(_done_without_images),
    ),
    Mutant(
        "wrong-image-count",
        "DONE lists 1 image whatever n was",
        frozenset({"done_has_images"}),
        response=_on_message(_one_image),
    ),
    Mutant(
        "done-then-processing",
        "a DONE job is PROCESSING again on the next poll",
        frozenset({"status_moves_forward"}),
        response=_on_message(_done_then_processing),
    ),
    Mutant(
        "fail-without-error",
        "jobs end in FAIL without an error",
        frozenset({"fail_has_error"}),
        response=_on_message(_fail_without_error),
    ),
    Mutant(
        "never-finishes",
        "jobs stay PROCESSING past their timeout",
        frozenset({"finishes_within_timeout"}),
        response=_on_message(_never_finishes),
    ),
    Mutant(
        "updated-before-created",
        "updatedAt is before createdAt",
        frozenset({"timestamps_are_ordered"}),
        response=_on_message(_updated_before_created),
    ),
    Mutant(
        "unparseable-timestamps",
        "createdAt is not ISO 8601",
        frozenset({"matches_schema", "timestamps_are_ordered"}),
        response=_on_message(_unparseable_time),
    ),
    Mutant(
        "progress-101",
        "DONE reports progress 101",
        frozenset({"matches_schema", "progress_in_range"}),
        response=_on_message(_progress_101),
    ),
    Mutant(
        "legacy-path-differs",
        "the legacy path serves a different uri",
        frozenset({"progress_paths_agree"}),
        response=_on_message(_legacy_differs),
    ),
    Mutant(
        "legacy-path-lags",
        f"while a job runs, the legacy path serves what the current path answered {LEGACY_LAG_S} s earlier",
        frozenset({"progress_never_decreases", "status_moves_forward"}),
        response=_on_message(_legacy_lags),
    ),
    Mutant(
        "status-outside-enum",
        "status is 'processing' / 'COMPLETED' instead of PROCESSING / DONE",
        frozenset({"matches_schema"}),
        response=_on_message(_status_outside_enum),
    ),
    Mutant(
        "wrong-message-id",
        "fetch answers with another messageId",
        frozenset({"message_id_matches"}),
        response=_on_message(_other_message_id),
    ),
    Mutant("ref-dropped", "the ref is not echoed", frozenset({"ref_is_echoed"}), response=_on_message(_drop_ref)),
    Mutant(
        "express-error-shape",
        "errors are {error, status} instead of NestJS",
        frozenset({"error_has_nestjs_shape", "response_schema_conformance"}),
        response=_express_errors,
    ),
    Mutant(
        "status-code-mismatch",
        "error bodies always say statusCode 400",
        frozenset({"error_has_nestjs_shape"}),
        response=_status_code_400,
    ),
    Mutant(
        "500-on-valid-body", "a valid body with n=2 gets 500", frozenset({"not_a_server_error"}), response=_crash_on_n2
    ),
    Mutant(
        "create-without-message-id",
        "the create answer has no messageId",
        frozenset({"matches_schema", "response_schema_conformance"}),
        response=_missing_message_id,
    ),
    Mutant(
        "fetch-404", "fetch answers 404 for jobs it just created", frozenset({"fetch_finds_job"}), response=_fetch_404
    ),
    Mutant(
        "images-404",
        "image URLs of DONE jobs cannot be downloaded",
        frozenset({"images_are_fetchable"}),
        response=_images_gone,
    ),
    Mutant(
        "grid-without-buttons",
        "a DONE Midjourney grid lists no buttons",
        frozenset({"done_has_buttons"}),
        response=_on_message(_grid_without_buttons),
    ),
    Mutant(
        "button-on-unfinished-accepted",
        "a button pressed on a message that is not DONE (or one it does not offer) is accepted",
        frozenset({"button_needs_done_target"}),
        response=_press_anything,
    ),
    Mutant(
        "describe-without-content",
        "a DONE describe (or command) has no content",
        frozenset({"done_has_content"}),
        response=_on_message(_describe_without_content),
    ),
    Mutant(
        "video-without-results",
        "a DONE video job has no results",
        frozenset({"done_has_video"}),
        response=_on_message(_video_without_results),
    ),
    Mutant(
        "upscale-without-origin",
        "a button's (or an extend's) message does not name the message it acted on",
        frozenset({"follow_up_names_origin"}),
        response=_on_message(_upscale_without_origin),
    ),
    Mutant(
        "credits-not-charged",
        "account-info shows the starting credits whatever the jobs cost",
        frozenset({"credits_match_charges"}),
        response=_credits_frozen,
    ),
]

# Servers whose only fault is what a documented action does (Cancel Job, Vary (Region), a button's stage and
# origin, every extend index, the history). `flux-mock check` presses every action, so it kills them; the proxy
# only sees the actions a client happens to take, so they are not in MUTANTS, which the proxy is held to.
ACTION_MUTANTS: list[Mutant] = [
    Mutant(
        "cutout-without-alpha",
        "a remove-bg result is served as an opaque RGB PNG",
        frozenset({"png_has_alpha"}),
        response=_flatten_cutouts,
    ),
    Mutant(
        "cancel-ignored",
        "Cancel Job answers 200 naming the job, but the job runs on to DONE",
        frozenset({"cancel_ends_job"}),
        request=_cancel_ignored,
    ),
    Mutant(
        "cancel-resets-progress",
        "a cancelled job ends FAIL at progress 0, not at the progress it had",
        frozenset({"cancel_ends_job"}),
        response=_on_message(_cancel_resets_progress),
    ),
    Mutant(
        "cancel-after-end-accepted",
        "Cancel Job on a DONE or already cancelled job is answered 200",
        frozenset({"cancel_needs_running_target"}),
        response=_cancel_anytime,
    ),
    Mutant(
        "vary-region-without-mask",
        "Vary (Region) without a mask is accepted",
        frozenset({"vary_region_needs_mask"}),
        request=_mask_optional,
    ),
    Mutant(
        "offered-button-refused",
        "an upscale offers Zoom Out 1.5x but pressing it is refused with 409",
        frozenset({"valid_request_accepted"}),
        request=_refuses_zoom,
    ),
    Mutant(
        "variation-makes-upscale",
        "a variation, reroll, zoom or pan leads to one upscaled image instead of a grid",
        frozenset({"button_leads_to_stage"}),
        response=_on_message(_variation_is_upscale),
    ),
    Mutant(
        "origin-not-the-pressed-message",
        "a grid made by a button names another message in originatingMessageId",
        frozenset({"follow_up_names_origin"}),
        response=_on_message(_origin_not_pressed),
    ),
    Mutant(
        "extend-only-result-0",
        "video extend refuses every result index but 0",
        frozenset({"valid_request_accepted"}),
        request=_refuses_extend_beyond_0,
    ),
    Mutant(
        "history-oldest-first",
        "the history lists jobs oldest first",
        frozenset({"history_lists_jobs"}),
        response=_on_history(_oldest_first),
    ),
    Mutant(
        "history-without-buttons",
        'the history shows every job\'s button as "" (jobs made by a button look like new imagines)',
        frozenset({"history_lists_jobs"}),
        response=_on_history(_no_button),
    ),
]
