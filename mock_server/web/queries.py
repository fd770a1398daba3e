"""The ``x-mock-kind: read`` operations that are answered at once: history, prompt check and extend, account
info, and the DIY plan's Discord tokens. Thin handlers: validate with the spec's compiled validators, read the
services, answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import HttpError, from_violations
from mock_server.domain import accounts, prompts
from mock_server.domain.jobs import Job
from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.messages import format_timestamp, image_urls
from mock_server.domain.numbers import whole_number
from mock_server.services.container import Services
from mock_server.web.answers import json_response
from mock_server.web.endpoints import read_json_body

DAY_S = 86_400.0
HISTORY_PAGE = 1000  # jobs read from a shared store per round trip
UNLIMITED = 2_147_483_647  # how an unlimited balance shows in account-info (its fields are integers)
Handler = Callable[[Services, str, Request], Awaitable[Response]]


def handler(func: Handler) -> Callable[[Services, str], ASGIApp]:
    """Make a route handler (bound to one server's services and operation) from `func`."""

    def bind(svc: Services, operation_id: str) -> ASGIApp:
        async def endpoint(request: Request) -> Response:
            request.state.operation_id = operation_id
            return await func(svc, operation_id, request)

        return _Bound(request_response(endpoint))

    return bind


class _Bound:
    # An object, not a function: Starlette's Route would wrap a function in request_response a second time.
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _body(svc: Services, operation_id: str, request: Request) -> Any:
    state = request.scope.setdefault("state", {})
    body = await read_json_body(
        request.receive, dict(request.scope["headers"]), svc.settings.max_body_bytes, state, svc.settings.max_json_depth
    )
    problems = svc.validator(operation_id).violations(body)
    if problems:
        raise from_violations(problems)
    return svc.validator(operation_id).normalise(body)


def _query(svc: Services, operation_id: str, request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    number = None if text is None else whole_number(text)
    value: Any = default if text is None else (text if number is None else number)
    problems = svc.validator(f"{operation_id}:{name}").violations(value)
    if problems:
        raise from_violations(problems)
    return int(value)


async def _every_job(svc: Services) -> list[Job]:
    """Every live job: this process's, or with a shared store the whole fleet's (whichever worker answers)."""
    if not svc.store.shared:
        return list(svc.jobs)
    jobs: list[Job] = []
    after: int | None = 0
    while after is not None:
        page = await svc.store.page(after, HISTORY_PAGE)
        jobs += page.jobs
        after = page.after
    return jobs


@handler
async def history(svc: Services, operation_id: str, request: Request) -> Response:
    """GET /api/v1/nova/images: the caller's finished jobs with images from the last 24 h, newest first."""
    page = _query(svc, operation_id, request, "page", 1)
    size = _query(svc, operation_id, request, "size", 10)
    account = request.scope["state"]["account"]
    now = svc.clock.now()
    found = [
        job
        for job in await _every_job(svc)
        if job.account == account
        and job.plan.created_at >= now - DAY_S
        and job.snapshot(now).status is JobStatus.DONE
        and job.media not in ("text", "video")
    ]
    found.sort(key=lambda job: job.plan.created_at, reverse=True)
    shown = found[(page - 1) * size : page * size]
    fmt = svc.settings.timestamp_format
    images = [
        {
            "id": job.message_id,
            "type": job.kind,
            "button": job.button or "",
            "prompt": job.prompt or "",
            "uri": image_urls(svc, job)[0],
            "createdAt": format_timestamp(job.plan.created_at, fmt),
        }
        for job in shown
    ]
    return json_response({"images": images})


@handler
async def prompt_check(svc: Services, operation_id: str, request: Request) -> Response:
    """POST /api/v1/nova/prompt-check: SUCCESS, or FAIL with the banned words or the invalid parameter."""
    body = await _body(svc, operation_id, request)
    problem = prompts.check(str(body["prompt"]), svc.settings.banned_words)
    return json_response({"status": "SUCCESS"} if problem is None else {"status": "FAIL", "message": problem})


@handler
async def prompt_extend(svc: Services, operation_id: str, request: Request) -> Response:
    """POST /api/v1/tools/prompt-extend: a longer prompt, at once (free)."""
    body = await _body(svc, operation_id, request)
    return json_response({"prompt": prompts.extend(str(body["prompt"]))})


@handler
async def account_info(svc: Services, operation_id: str, request: Request) -> Response:
    """GET /api/v1/subscription/account-info: the plan and the balance the credits engine charges."""
    balance = await svc.store.balance(request.scope["state"]["account"])
    settings = svc.settings
    return json_response(
        {
            "type": settings.plan_type,
            "creditsQuota": settings.credits_quota,
            "credits": UNLIMITED if balance is None else balance,
            "creditsExtra": 0,
            "expiredAt": format_timestamp(svc.clock.now() + 30 * DAY_S, "ms-z"),
            "email": settings.account_email,
        }
    )


def _diy(svc: Services) -> None:
    if not accounts.is_diy(svc.settings.plan_type):
        raise HttpError(
            403,
            f"This endpoint needs a DIY plan with a linked Discord account; this account's plan is "
            f"{svc.settings.plan_type} (start flux-mock with --plan-type DIY to use it).",
        )


def _token_id(svc: Services, operation_id: str, request: Request) -> int:
    text = request.path_params["id"]
    number = whole_number(text)
    value: Any = text if number is None else number
    problems = svc.validator(f"{operation_id}:id").violations(value)
    if problems:
        raise from_violations(problems)
    return int(value)


@handler
async def discord_tokens(svc: Services, operation_id: str, request: Request) -> Response:
    """GET /api/v1/discord/tokens."""
    _diy(svc)
    return json_response(svc.tokens.all())


@handler
async def discord_token(svc: Services, operation_id: str, request: Request) -> Response:
    """GET /api/v1/discord/token/{id}: a one-element array, as documented."""
    token_id = _token_id(svc, operation_id, request)
    _diy(svc)
    found = svc.tokens.get(token_id)
    if found is None:
        raise HttpError(404, f"Discord token {token_id} not found")
    return json_response([found])


@handler
async def toggle_discord_token(svc: Services, operation_id: str, request: Request) -> Response:
    """PUT /api/v1/discord/token/{id} {"isActive": bool}: the updated token, as a one-element array."""
    token_id = _token_id(svc, operation_id, request)
    body = await _body(svc, operation_id, request)  # the request is judged first, then the plan (as for commands)
    _diy(svc)
    found = svc.tokens.toggle(token_id, bool(body["isActive"]))
    if found is None:
        raise HttpError(404, f"Discord token {token_id} not found")
    return json_response([found])


HANDLERS: dict[str, Callable[[Services, str], ASGIApp]] = {
    "listImages": history,
    "listImagesLegacy": history,
    "promptCheck": prompt_check,
    "promptExtend": prompt_extend,
    "accountInfo": account_info,
    "listDiscordTokens": discord_tokens,
    "getDiscordToken": discord_token,
    "toggleDiscordToken": toggle_discord_token,
}
