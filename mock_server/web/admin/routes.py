"""The ``/__mock`` admin API: thin HTTP wrappers over `MockControl`, behind a guard.

Documented in its own OpenAPI file (``admin_openapi.yaml``, served at ``/__mock/openapi.yaml``) so the
public contract stays exactly the real API's. The guard (`admin_guard.AdminGuard`) admits loopback clients
only, unless ``--admin-token`` is set: then every caller (loopback too) must send the token as
``Authorization: Bearer <token>`` or ``X-Mock-Admin-Token: <token>``; it also checks Host, Origin and
Content-Type.
"""

from __future__ import annotations

import difflib
import math
import os
from importlib import resources
from typing import Any

import orjson
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from mock_server.contract.errors import JobNotFound, MockServerError
from mock_server.contract.problems import HttpError, error_body
from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.domain.jobs import Job
from mock_server.domain.messages import format_timestamp, render_message
from mock_server.domain.numbers import INT64_MAX, sequence_number, whole_number
from mock_server.domain.scenarios.armed import Rule
from mock_server.domain.scenarios.registry import catalogue
from mock_server.services.control import MockControl
from mock_server.version import __version__
from mock_server.web.admin.guard import AdminGuard
from mock_server.web.admin.webhooks import webhook_admin_routes
from mock_server.web.answers import json_response, send_json
from mock_server.web.dashboard import dashboard_routes, is_shell

PREFIX = ADMIN_PREFIX
SPEC_FILE = "admin_openapi.yaml"


def admin_spec_text() -> str:
    """The admin API's OpenAPI document (YAML text)."""
    return (resources.files("mock_server.contract") / SPEC_FILE).read_text(encoding="utf-8")


# --- helpers -------------------------------------------------------------------------------------------------


def _control(request: Request) -> MockControl:
    control: MockControl = request.app.state.control
    return control


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"Request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise HttpError(400, f"Request body must be a JSON object, not {type(body).__name__}.")
    return body


def _iso(epoch: float, request: Request) -> str | None:
    if not math.isfinite(epoch):
        return None
    return format_timestamp(epoch, _control(request).services.settings.timestamp_format)


def _job_summary(request: Request, job: Job, message: dict[str, Any] | None = None) -> dict[str, Any]:
    if message is None:  # the job as given: a page may hold jobs this worker never read
        message = render_message(_control(request).services, job)
    return {
        "messageId": job.message_id,
        "kind": job.kind,
        "account": _control(request).services.shown_key(job.account),
        "prompt": job.prompt,
        "status": message["status"],
        "progress": message["progress"],
        "scenario": job.scenario,
        "forced": job.forced is not None,
        "createdAt": message["createdAt"],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return rule.as_dict()


def _clock(request: Request) -> dict[str, Any]:
    control = _control(request)
    return {
        "now": _iso(control.now, request),
        "epoch": control.now,
        "offset": float(getattr(control.clock, "offset", 0.0)),
        "frozen": control.frozen,
    }


# --- routes --------------------------------------------------------------------------------------------------


async def health(request: Request) -> Response:
    """GET /__mock/health."""
    control = _control(request)
    settings = control.services.settings
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "seed": settings.seed,
            "now": _iso(control.now, request),
            **(await control.services.store.counts()),
            "store": control.services.store.name,
            "worker": {"pid": os.getpid()},
            # Contract tools read this to hold the server to its per-key queue (the real API's limit is not
            # published); `setting` names what changes it.
            "queue": {"concurrency": settings.concurrency, "setting": "--concurrency N (env FLUX_MOCK_CONCURRENCY)"},
            # Contract tools read this: in any-key mode a wrong key is accepted on purpose, so a check that
            # expects 401 for it is meaningless; `setting` names what turns real key checks on.
            "auth": {
                "anyKey": not settings.api_keys,
                "keys": len(settings.api_keys),
                "setting": "--api-key KEY (env FLUX_MOCK_API_KEYS)",
            },
        }
    )


async def admin_openapi(request: Request) -> Response:
    """GET /__mock/openapi.yaml."""
    return Response(admin_spec_text(), media_type="application/yaml")


async def list_jobs(request: Request) -> Response:
    """GET /__mock/jobs[?limit=N&after=SEQ]: one page of jobs, oldest first; ``Link: rel="next"`` names the next."""
    limit = _whole(request, "limit", 100, 1, 1000)
    after = _whole(request, "after", 0, 0, None)
    page = await _control(request).services.store.page(after, limit)
    headers = {"X-Total-Count": str(page.total)}
    if page.after is not None:
        headers["Link"] = f'<{PREFIX}/jobs?limit={limit}&after={page.after}>; rel="next"'
    return json_response([_job_summary(request, job) for job in page.jobs], headers=headers)


def _whole(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    value, top = whole_number(text), INT64_MAX if high is None else high
    if value is None or not low <= value <= top:
        raise HttpError(
            400, f"{name} has value {text!r}; it must be an integer from {low} to {top}, e.g. ?{name}={default}."
        )
    return value


async def get_job(request: Request) -> Response:
    """GET /__mock/jobs/{messageId}: the job, its plan, what a poll sees now, and its requests."""
    control = _control(request)
    job = await _find(control, request.path_params["messageId"])
    plan = job.plan
    timing = job.timing
    message = render_message(control.services, job)  # one instant for the summary and the message
    detail = _job_summary(request, job, message)
    detail |= {
        "n": job.n,
        "timeout": job.timeout,
        "ref": job.ref,
        "plan": {
            "startsAt": _iso(plan.starts_at, request),
            "endsAt": _iso(plan.ends_at, request),
            "outcome": plan.outcome.value,
            "error": plan.error,
            "progressCap": plan.progress_cap,
        },
        "timing": None
        if timing is None
        else {
            "duration": timing.duration,
            "queuedExtra": timing.queued_extra,
            "failAt": timing.fail_at,
            "stallAt": timing.stall_at,
            "notFoundFor": timing.not_found_for,
            "queuedStatus": timing.queued_status,
            "flakyEvery": timing.flaky_every,
        },
        "message": message,
        "requests": await control.services.store.requests(message_id=job.message_id),
    }
    return json_response(detail)


async def force_job(request: Request) -> Response:
    """POST /__mock/jobs/{messageId}/force {"status": "FAIL", "progress": 40, "error": "..."}."""
    control = _control(request)
    body = await _json(request)
    job = await _find(control, request.path_params["messageId"])
    if "status" not in body:
        raise HttpError(400, 'status is required, e.g. {"status": "FAIL", "progress": 40}.')
    try:
        control.force(job.message_id, body["status"], body.get("progress"), body.get("error"))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    await control.services.store.job_changed(job)
    return json_response(_job_summary(request, job))


async def release_job(request: Request) -> Response:
    """DELETE /__mock/jobs/{messageId}/force: the job follows its plan again."""
    control = _control(request)
    job = control.release((await _find(control, request.path_params["messageId"])).message_id)
    await control.services.store.job_changed(job)
    return json_response(_job_summary(request, job))


async def get_clock(request: Request) -> Response:
    """GET /__mock/clock."""
    return json_response(_clock(request))


async def advance_clock(request: Request) -> Response:
    """POST /__mock/clock/advance {"seconds": N}."""
    body = await _json(request)
    if "seconds" not in body:
        raise HttpError(400, 'seconds is required, e.g. {"seconds": 10}.')
    try:
        _control(request).advance(body["seconds"])
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    await _control(request).services.store.clock_changed()
    return json_response(_clock(request))


async def freeze_clock(request: Request) -> Response:
    """POST /__mock/clock/freeze."""
    _control(request).freeze()
    await _control(request).services.store.clock_changed()
    return json_response(_clock(request))


async def unfreeze_clock(request: Request) -> Response:
    """POST /__mock/clock/unfreeze."""
    _control(request).unfreeze()
    await _control(request).services.store.clock_changed()
    return json_response(_clock(request))


async def list_scenarios(request: Request) -> Response:
    """GET /__mock/scenarios: armed rules, the server default, and every registered scenario."""
    control = _control(request)
    default = control.services.settings.scenario
    armed = [_rule(r) for r in control.armed]
    return json_response({"armed": armed, "default": default, "available": catalogue()})


async def arm_scenario(request: Request) -> Response:
    """POST /__mock/scenarios {"scenario": "fail", "count": 1} or {"scenario": ..., "prompt_regex": "..."}."""
    body = await _json(request)
    unknown = sorted(set(body) - {"scenario", "count", "prompt_regex"})
    if unknown:
        close = difflib.get_close_matches(unknown[0], ["scenario", "count", "prompt_regex"], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise HttpError(400, f"Unknown field {unknown[0]!r}.{hint} Allowed: scenario, count, prompt_regex.")
    if not isinstance(body.get("scenario"), str):
        raise HttpError(400, 'scenario is required, e.g. {"scenario": "fail", "count": 1}.')
    control = _control(request)
    try:
        rule = control.arm(
            body["scenario"],
            count=body.get("count"),
            prompt_regex=body.get("prompt_regex"),
            rule_id=await control.services.store.rule_id(),
        )
    except MockServerError as exc:
        raise HttpError(400, str(exc)) from None
    await _control(request).services.store.rules_changed()
    return json_response(_rule(rule), 201)


async def clear_scenarios(request: Request) -> Response:
    """DELETE /__mock/scenarios."""
    cleared = _control(request).clear_scenarios()
    await _control(request).services.store.rules_changed()
    return json_response({"cleared": cleared})


async def list_requests(request: Request) -> Response:
    """GET /__mock/requests[?messageId=...&since=N]: the request journal, oldest first."""
    since_text = request.query_params.get("since", "0")
    since = sequence_number(since_text)
    if since is None:
        raise HttpError(
            400, f"since has value {since_text!r}; it must be a sequence number (an integer from 0 to {INT64_MAX})."
        )
    store = _control(request).services.store
    return json_response(await store.requests(message_id=request.query_params.get("messageId"), since=since))


async def list_violations(request: Request) -> Response:
    """GET /__mock/violations: every contract violation seen in a request."""
    return json_response(
        [
            {"seq": e.seq, "method": e.method, "path": e.path, "operationId": e.operation_id, **v.as_dict()}
            for e, v in _control(request).violations
        ]
    )


async def get_credits(request: Request) -> Response:
    """GET /__mock/credits."""
    control = _control(request)
    svc = control.services
    balances: dict[str, int | None] = {}
    for key, balance in (await svc.store.balances()).items():
        shown = str(svc.shown_key(key))
        while shown in balances:  # two keys that mask alike stay two entries
            shown += "'"
        balances[shown] = balance
    return json_response({"initial": svc.credits.initial, "balances": balances})


async def set_credits(request: Request) -> Response:
    """POST /__mock/credits {"account": "sk-...", "balance": 12} (null: unlimited)."""
    body = await _json(request)
    account = body.get("account")
    if not isinstance(account, str) or not account:
        raise HttpError(400, 'account is required: the API key, e.g. {"account": "sk-test", "balance": 12}.')
    if "balance" not in body:
        raise HttpError(400, "balance is required: an integer >= 0, or null for unlimited.")
    try:
        _control(request).set_credits(account, body["balance"])
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    await _control(request).services.store.credits_changed(account)
    return await get_credits(request)


async def reset(request: Request) -> Response:
    """POST /__mock/reset: everything back to the initial state."""
    _control(request).reset()
    await _control(request).services.store.reset()
    return json_response({"reset": True})


async def _find(control: MockControl, message_id: str) -> Job:
    await control.services.store.find(message_id)  # a shared store's job: into the local replica
    try:
        return control.job(message_id)
    except JobNotFound:
        raise HttpError(404, f"No job has messageId {message_id!r}; GET /__mock/jobs lists them.") from None


def _webhook_routes() -> list[BaseRoute]:
    # GET /__mock/webhooks: the webhook journal (mock_server/webhooks/routes.py), behind the same guard.
    return webhook_admin_routes()


ROUTES: list[BaseRoute] = [
    Route("/health", health, methods=["GET"]),
    Route("/openapi.yaml", admin_openapi, methods=["GET"]),
    Route("/jobs", list_jobs, methods=["GET"]),
    Route("/jobs/{messageId}", get_job, methods=["GET"]),
    Route("/jobs/{messageId}/force", force_job, methods=["POST"]),
    Route("/jobs/{messageId}/force", release_job, methods=["DELETE"]),
    Route("/clock", get_clock, methods=["GET"]),
    Route("/clock/advance", advance_clock, methods=["POST"]),
    Route("/clock/freeze", freeze_clock, methods=["POST"]),
    Route("/clock/unfreeze", unfreeze_clock, methods=["POST"]),
    Route("/scenarios", list_scenarios, methods=["GET"]),
    Route("/scenarios", arm_scenario, methods=["POST"]),
    Route("/scenarios", clear_scenarios, methods=["DELETE"]),
    Route("/requests", list_requests, methods=["GET"]),
    Route("/violations", list_violations, methods=["GET"]),
    Route("/credits", get_credits, methods=["GET"]),
    Route("/credits", set_credits, methods=["POST"]),
    Route("/reset", reset, methods=["POST"]),
]


def admin_routes() -> list[BaseRoute]:
    """Every admin route, relative to /__mock (the dashboard at /__mock/ui included)."""
    return [*ROUTES, *_webhook_routes(), *dashboard_routes()]


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    path = scope["path"]
    known = sorted({PREFIX + r.path for r in admin_routes() if isinstance(r, Route)})
    message = f"Cannot {scope['method']} {path}"
    close = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
    message += f"; did you mean {close[0]}?" if close else f"; admin routes: {', '.join(known)}"
    await send_json(send, 404, error_body(404, message))


def admin_mount(admin_token: str | None, admin_hosts: tuple[str, ...] = ()) -> Mount:
    """The /__mock mount: the admin routes behind `AdminGuard` (``--admin-token``, ``--admin-host``).

    The dashboard's pages and assets (`is_shell`) hold no state: the guard serves them without the token, so
    the page can ask for it; everything they show comes from guarded routes.
    """
    router = Router(routes=admin_routes(), default=_not_found)
    guard = Middleware(AdminGuard, token=admin_token, hosts=admin_hosts, shell=is_shell)
    return Mount(PREFIX, app=router, middleware=[guard])
