"""The benchmark's reference point: a bare Starlette hello-world on the mock's two hot paths.

Nothing here reads, parses or validates the request; the answers are constant, small JSON
objects shaped like the mock's. Whatever the mock does on top of routing + JSON encoding is
what the ratio in bench/run.py measures.

    python -m uvicorn bench.baseline_app:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MESSAGE_ID = "e3e70682-c209-4cac-a29f-6fbed82c07cd"
CREATED_AT = "2026-01-01T00:00:00.000Z"


async def imagine(request: Request) -> JSONResponse:
    """POST /api/v1/flux/imagine: hello-world, the body is not read."""
    return JSONResponse({"success": True, "messageId": MESSAGE_ID, "createdAt": CREATED_AT})


async def fetch(request: Request) -> JSONResponse:
    """GET /api/v1/message/fetch/{messageId}: hello-world, a constant PROCESSING message."""
    return JSONResponse(
        {
            "messageId": request.path_params["messageId"],
            "status": "PROCESSING",
            "progress": 42,
            "createdAt": CREATED_AT,
            "updatedAt": CREATED_AT,
        }
    )


app = Starlette(
    routes=[
        Route("/api/v1/flux/imagine", imagine, methods=["POST"]),
        Route("/api/v1/nova/imagine", imagine, methods=["POST"]),
        Route("/api/v1/nova/button", imagine, methods=["POST"]),
        Route("/api/v1/message/fetch/{messageId}", fetch, methods=["GET"]),
    ]
)
