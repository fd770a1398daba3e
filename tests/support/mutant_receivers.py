"""Webhook receivers for verify-receiver's tests: a good one, and mutants that each break one rule.

`GoodReceiver` honours the contract: it verifies with the `standardwebhooks` library (when it has a secret),
refuses a body that is not a Message with 400, deduplicates on the delivery id, keeps a job's final state
(later progress events are acknowledged and ignored) and answers at once. Each mutant overrides one step.
`MUTANTS` maps a mutant's name to its class and to the scenarios it must fail; `good_wsgi` is the same good
receiver as a plain WSGI app.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STATUSES = ("QUEUED", "PROCESSING", "DONE", "FAIL")
FLUX_KEYS = {"messageId", "prompt", "status", "progress", "uri", "images", "error", "ref", "createdAt", "updatedAt"}


def message_problem(message: Any) -> str | None:
    """Why a body is not a Message this receiver can use, or None."""
    if not isinstance(message, dict):
        return "not a JSON object"
    if not isinstance(message.get("messageId"), str):
        return "messageId missing"
    if message.get("status") not in STATUSES:
        return f"status {message.get('status')!r} is not one of {STATUSES}"
    progress = message.get("progress")
    if isinstance(progress, bool) or not isinstance(progress, int):
        return f"progress {progress!r} is not an integer"
    if not isinstance(message.get("updatedAt"), str):
        return "updatedAt missing"
    return None


class GoodReceiver:
    """POST /hook: verify, validate, deduplicate, keep final states, answer 2xx at once."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.seen: set[str] = set()
        self.finished: set[str] = set()
        self.app = Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        refused = self.authenticate(body, headers)
        if refused is not None:
            return JSONResponse({"error": refused}, 401)
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        problem = self.validate(message)
        if problem is not None:
            return await self.invalid(problem)
        delivery = headers.get("webhook-id") or headers.get("x-mock-delivery-id") or ""
        if delivery in self.seen:
            return await self.repeated(delivery)
        self.seen.add(delivery)
        return await self.handle(message)

    def authenticate(self, body: bytes, headers: dict[str, str]) -> str | None:
        if self.secret is None:
            return None
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return str(exc)
        return None

    def validate(self, message: Any) -> str | None:
        return message_problem(message)

    async def invalid(self, problem: str) -> Response:
        return JSONResponse({"error": problem}, 400)

    async def repeated(self, delivery: str) -> Response:
        return JSONResponse({"duplicate": delivery}, 200)

    async def handle(self, message: dict[str, Any]) -> Response:
        job = message["messageId"]
        if job in self.finished:
            return JSONResponse({"ignored": "the job already finished"}, 200)
        if message["status"] in ("DONE", "FAIL"):
            self.finished.add(job)
        return JSONResponse({"ok": True}, 200)


# --- mutants: each breaks one rule -------------------------------------------------------------------------------


class NeverChecksSignatures(GoodReceiver):
    def authenticate(self, body: bytes, headers: dict[str, str]) -> str | None:
        return None


class AcceptsMissingSignature(GoodReceiver):
    def authenticate(self, body: bytes, headers: dict[str, str]) -> str | None:
        if "webhook-signature" not in headers:
            return None  # "unsigned: must be an old sender"
        return super().authenticate(body, headers)


class AcceptsStaleTimestamps(GoodReceiver):
    """Checks the HMAC by hand and forgets the timestamp tolerance (replays of old deliveries pass)."""

    def authenticate(self, body: bytes, headers: dict[str, str]) -> str | None:
        assert self.secret is not None
        try:
            moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
            expected = Webhook(self.secret).sign(headers["webhook-id"], moment, body)
        except (KeyError, ValueError):
            return "missing headers"
        given = headers.get("webhook-signature", "").split(" ")
        return None if any(hmac.compare_digest(expected, s) for s in given) else "bad signature"


class DuplicateIs500(GoodReceiver):
    async def repeated(self, delivery: str) -> Response:
        return JSONResponse({"error": f"integrity error: {delivery} already stored"}, 500)


class ProgressAfterFinalIs500(GoodReceiver):
    async def handle(self, message: dict[str, Any]) -> Response:
        if message["messageId"] in self.finished:
            return JSONResponse({"error": "cannot move a finished job back to PROCESSING"}, 500)
        return await super().handle(message)


class CrashesOnCorrupt(GoodReceiver):
    async def invalid(self, problem: str) -> Response:
        return Response("Internal Server Error", 500)  # what an uncaught KeyError/TypeError looks like


class HangsOnCorrupt(GoodReceiver):
    async def invalid(self, problem: str) -> Response:
        await asyncio.Event().wait()  # stuck, e.g. on a lock a crashed parse never released
        raise AssertionError("unreachable")


class SlowUnderBurst(GoodReceiver):
    """Stores each final result before answering, one at a time, 35 ms each: fine alone, too slow for a burst."""

    def __init__(self, secret: str | None = None) -> None:
        super().__init__(secret)
        self.lock = asyncio.Lock()

    async def handle(self, message: dict[str, Any]) -> Response:
        if message["status"] not in ("DONE", "FAIL"):
            return await super().handle(message)
        async with self.lock:
            await asyncio.sleep(0.035)  # the mutant's behaviour (slow work before answering), not a test wait
            return await super().handle(message)


class AssumesImages(GoodReceiver):
    async def handle(self, message: dict[str, Any]) -> Response:
        if "images" not in message:
            return Response("Internal Server Error", 500)  # message["images"][0] raised KeyError
        return await super().handle(message)


class FluxOnly(GoodReceiver):
    """Validates with a model of the Flux Message that forbids other keys (Midjourney's buttons, video's results)."""

    def validate(self, message: Any) -> str | None:
        problem = super().validate(message)
        extra = set(message) - FLUX_KEYS if problem is None else set()
        return problem or (f"unexpected keys {sorted(extra)}" if extra else None)

    async def invalid(self, problem: str) -> Response:
        return JSONResponse({"detail": problem}, 422)


class DownloadsBeforeAnswering(GoodReceiver):
    """Fetches the image before answering, and fails the delivery when the image cannot be fetched."""

    async def handle(self, message: dict[str, Any]) -> Response:
        if message["status"] == "DONE" and "uri" in message:
            return JSONResponse({"error": f"could not download {message['uri']}"}, 502)
        return await super().handle(message)


SIGNATURE = {"bad-signature", "missing-signature", "tampered-body", "stale-timestamp", "future-timestamp"}
AFTER_FINAL = {"progress-after-final", "early-final"}

# name -> (class, the scenarios it fails, whether its bug needs signed deliveries to show)
MUTANTS: dict[str, tuple[type[GoodReceiver], set[str], bool]] = {
    "never-checks-signatures": (NeverChecksSignatures, SIGNATURE, True),
    "accepts-missing-signature": (AcceptsMissingSignature, {"missing-signature"}, True),
    "accepts-stale-timestamps": (AcceptsStaleTimestamps, {"stale-timestamp", "future-timestamp"}, True),
    "duplicate-is-500": (DuplicateIs500, {"duplicate"}, False),
    "progress-after-final-is-500": (ProgressAfterFinalIs500, AFTER_FINAL, False),
    "crashes-on-corrupt": (CrashesOnCorrupt, {"corrupt"}, False),
    "hangs-on-corrupt": (HangsOnCorrupt, {"corrupt"}, False),
    "slow-under-burst": (SlowUnderBurst, {"burst"}, False),
    "assumes-images": (AssumesImages, {"fail", "video", "progress", *AFTER_FINAL}, False),
    "flux-only": (FluxOnly, {"mj-grid", "video"}, False),
    "downloads-before-answering": (
        DownloadsBeforeAnswering,
        {"done", "mj-grid", "duplicate", "burst", *AFTER_FINAL},
        False,
    ),
}


# --- the good receiver as a WSGI app -----------------------------------------------------------------------------

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def good_wsgi(secret: str | None = None) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The good receiver's rules as a plain WSGI app (what a Flask or Django view would do)."""
    seen: set[str] = set()
    finished: set[str] = set()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}

        def answer(status: str, payload: dict[str, Any]) -> Iterable[bytes]:
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps(payload).encode()]

        if secret is not None:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                return answer("401 Unauthorized", {"error": str(exc)})
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        problem = message_problem(message)
        if problem is not None:
            return answer("400 Bad Request", {"error": problem})
        delivery = headers.get("webhook-id") or headers.get("x-mock-delivery-id") or ""
        if delivery not in seen and message["messageId"] not in finished:
            seen.add(delivery)
            if message["status"] in ("DONE", "FAIL"):
                finished.add(message["messageId"])
        return answer("200 OK", {"ok": True})

    return app
