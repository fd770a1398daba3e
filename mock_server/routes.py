"""The route table, built from the contract's operations.

Each documented operationId maps to one endpoint; a documented operation without a
handler is a start-up error, so the spec and the mock cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from . import endpoints
from .errors import SpecError
from .middleware import BearerAuthMiddleware
from .services import Services
from .spec import Spec

# operationId -> endpoint class; each is built once per app, bound to that app's services.
HANDLERS: dict[str, Callable[[Services, str], ASGIApp]] = {
    "fluxImagine": endpoints.CreateJob,
    "fluxUpscale": endpoints.CreateJob,
    "fetchMessage": endpoints.FetchMessage,
    "fetchMessageLegacy": endpoints.FetchMessage,
}


def api_routes(spec: Spec, svc: Services) -> list[BaseRoute]:
    """One Starlette route per documented operation, with Bearer auth applied after routing."""
    missing = sorted(set(spec.operations) - set(HANDLERS))
    if missing:
        raise SpecError(f"openapi.yaml documents operations the mock does not implement: {', '.join(missing)}.")
    auth = [Middleware(BearerAuthMiddleware, keys=svc.settings.api_keys)]
    by_path: dict[str, list[str]] = {}
    for op in spec.operations.values():
        by_path.setdefault(op.path, []).append(op.operation_id)
    routes: list[BaseRoute] = []
    for path, operation_ids in by_path.items():
        for operation_id in operation_ids:
            op = spec.operations[operation_id]
            endpoint = HANDLERS[operation_id](svc, operation_id)
            routes.append(Route(path, endpoint, methods=[op.method], middleware=auth, name=operation_id))
    return routes


def image_routes() -> list[BaseRoute]:
    """Where finished images are downloaded (the mock's stand-in for ImaginePro's CDN; no auth, like a CDN)."""
    return [Route(f"{endpoints.IMAGE_PATH}/{{name}}", endpoints.image, methods=["GET"], name="image")]
