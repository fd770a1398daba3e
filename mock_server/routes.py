"""The route table, built from the contract's operations.

Each documented operationId maps to one endpoint; a documented operation without a
handler is a start-up error, so the spec and the mock cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from . import endpoints, queries
from .errors import SpecError
from .middleware.auth import BearerAuthMiddleware
from .services import Services
from .spec import Spec

# x-mock-kind role -> endpoint class; each is built once per operation, bound to that app's services. An
# operation whose role has no handler here (or, for operationIds listed in HANDLERS, a handler of its own)
# is a start-up error.
ROLE_HANDLERS: dict[str, Callable[[Services, str], ASGIApp]] = {
    "create": endpoints.CreateJob,
    "poll": endpoints.FetchMessage,
}
HANDLERS: dict[str, Callable[[Services, str], ASGIApp]] = queries.HANDLERS  # operationId -> handler (`read` ones)


def api_routes(spec: Spec, svc: Services) -> list[BaseRoute]:
    """One Starlette route per documented operation, with Bearer auth applied after routing."""
    missing = sorted(op.operation_id for op in spec.operations.values() if _handler(op.operation_id, spec) is None)
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
            handler = _handler(operation_id, spec)
            assert handler is not None  # checked above
            endpoint = handler(svc, operation_id)
            routes.append(Route(path, endpoint, methods=[op.method], middleware=auth, name=operation_id))
    return routes


def _handler(operation_id: str, spec: Spec) -> Callable[[Services, str], ASGIApp] | None:
    return HANDLERS.get(operation_id) or ROLE_HANDLERS.get(spec.operations[operation_id].role)


def image_routes(spec: Spec) -> list[BaseRoute]:
    """Where finished images are downloaded (the mock's stand-in for ImaginePro's CDN; no auth, like a CDN)."""
    return [Route(f"{spec.image_path}/{{name}}", endpoints.image, methods=["GET"], name="image")]
