"""The dashboard's endpoints, relative to ``/__mock`` (routed by `mount`, behind `AdminGuard`).

``GET /ui``, ``/ui/{view}`` and ``/ui/jobs/{messageId}`` are the pages, each carrying its current rows
(`first_paint`); ``/ui/assets/{name}`` the script and stylesheet; ``/ui/events`` the live feed (Server-Sent
Events), which only updates the rows. The pages and assets are the "shell" (`mount.is_shell`): with
``--admin-token`` the guard serves them without the token, but then with no rows (the page asks for the token);
the feed, like every admin route, needs it. Every control on the page calls the documented
admin API (``admin_openapi.yaml``), nothing private.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from mock_server.contract.problems import HttpError
from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.services.control import MockControl
from mock_server.web.admin.guard import SHELL_ONLY
from mock_server.web.dashboard import rows
from mock_server.web.dashboard.page import VIEWS, FirstPaint, render_page
from mock_server.web.dashboard.stream import Feed
from mock_server.web.dashboard.views import (
    ROWS,
    JobFilter,
    health_view,
    job_detail,
    jobs_view,
    request_row,
    webhook_row,
)

ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
# The page loads only its own script and stylesheet; images may come from the mock's base URL, which can be
# another origin (127.0.0.1 vs localhost). No framing: the controls must not be clickjacked.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' http: https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _base(request: Request) -> str:
    # The admin mount's own prefix as the client sees it (``/__mock``, under any ASGI root_path).
    root: str = request.scope.get("root_path", "")
    return root


def _filter(request: Request) -> JobFilter:
    try:
        return JobFilter.from_query(dict(request.query_params))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None


async def first_paint(request: Request, view: str, wanted: JobFilter, message_id: str = "") -> FirstPaint | None:
    """The current rows of `view`, for the page's first answer; None for a shell served without the admin token.

    Everything is read through the store, so with ``--store redis://`` every worker paints the fleet's rows.
    """
    if request.scope.get(SHELL_ONLY):
        return None
    control: MockControl = request.app.state.control
    svc, now, base = control.services, control.now, _base(request)
    store = svc.store
    health = health_view(control, now, await store.counts())
    common = {"clock": rows.clock_pill(health), "armed": rows.armed_items(health)}
    if view == "jobs":
        jobs = await jobs_view(svc, now, wanted)
        return FirstPaint(**common, jobs=rows.job_rows(base, jobs), jobs_count=rows.jobs_count(jobs))
    if view == "requests":
        entries = reversed([request_row(e) for e in await store.tail("requests", ROWS)])
        return FirstPaint(**common, requests=rows.request_rows(base, entries))
    if view == "webhooks":
        attempts = reversed([webhook_row(a) for a in await store.tail("webhooks", ROWS)])
        return FirstPaint(**common, webhooks=rows.webhook_rows(base, attempts))
    if view == "health":
        return FirstPaint(**common, health=rows.health_facts(health))
    requests = (await store.requests(message_id=message_id))[-ROWS:]
    attempts = (await store.webhook_attempts(message_id=message_id))[-ROWS:]
    job = await job_detail(control, message_id, now, requests, attempts)
    if job["missing"]:
        return FirstPaint(**common, job_summary=rows.job_summary(job))
    return FirstPaint(
        **common,
        job_summary=rows.job_summary(job),
        timeline=rows.timeline(job),
        images=rows.images(job),
        requests=rows.request_rows(base, reversed(job["requests"])),
        webhooks=rows.webhook_rows(base, reversed(job["webhooks"])),
    )


async def page(request: Request) -> Response:
    """GET /__mock/ui and /__mock/ui/{view}: a dashboard page (jobs, requests, webhooks or health), rows included."""
    view = request.path_params.get("view", "jobs")
    if view not in VIEWS:
        known = ", ".join(f"{ADMIN_PREFIX}/ui/{v}" for v in VIEWS)
        raise HttpError(404, f"No dashboard view {view!r}; the views are {known} and /__mock/ui/jobs/<messageId>.")
    wanted = _filter(request)
    first = await first_paint(request, view, wanted)
    return HTMLResponse(render_page(_base(request), view, wanted, first=first), headers=_PAGE_HEADERS)


async def job_page(request: Request) -> Response:
    """GET /__mock/ui/jobs/{messageId}: one job's page (a deep link; it says if no such job exists)."""
    message_id = request.path_params["messageId"]
    first = await first_paint(request, "job", JobFilter(), message_id)
    return HTMLResponse(render_page(_base(request), "job", JobFilter(), message_id, first), headers=_PAGE_HEADERS)


async def asset(request: Request) -> Response:
    """GET /__mock/ui/assets/{name}: the page's script or stylesheet, shipped in the package."""
    name = request.path_params["name"]
    if name not in ASSETS:
        raise HttpError(404, f"No dashboard asset {name!r}; there are {', '.join(sorted(ASSETS))}.")
    text = (resources.files("mock_server.web.dashboard") / "static" / name).read_bytes()
    return Response(text, media_type=ASSETS[name], headers={"Cache-Control": "no-cache", **_PAGE_HEADERS})


async def events(request: Request) -> Response:
    """GET /__mock/ui/events[?job=<messageId>&key=&status=&messageId=]: the live feed, as Server-Sent Events."""
    control: MockControl = request.app.state.control
    job = request.query_params.get("job") or None
    feed = Feed(control, _filter(request), job)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(feed.events(), media_type="text/event-stream", headers=headers)
