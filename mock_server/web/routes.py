"""The route table, built from the contract's operations.

Each documented operationId maps to one endpoint; a documented operation without a
handler is a start-up error, so the spec and the mock cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.errors import SpecError
from mock_server.contract.spec import Spec
from mock_server.services.container import Services
from mock_server.web import endpoints, queries
from mock_server.web.middleware.auth import BearerAuthMiddleware

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
        # One route per path, dispatching on the method, so a 405's Allow header lists every documented method.
        endpoints_by_method: dict[str, ASGIApp] = {}
        for operation_id in operation_ids:
            handler = _handler(operation_id, spec)
            assert handler is not None  # checked above
            endpoints_by_method[spec.operations[operation_id].method] = handler(svc, operation_id)
        endpoint = (
            next(iter(endpoints_by_method.values()))
            if len(endpoints_by_method) == 1
            else _ByMethod(endpoints_by_method)
        )
        name = operation_ids[0] if len(operation_ids) == 1 else "+".join(operation_ids)
        routes.append(Route(path, endpoint, methods=list(endpoints_by_method), middleware=auth, name=name))
    return routes


class _ByMethod:
    """The endpoints of one path, chosen by the request's method (the Route has already checked it)."""

    def __init__(self, endpoints: dict[str, ASGIApp]) -> None:
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        await self.endpoints[method](scope, receive, send)


def methods_of(route: BaseRoute) -> dict[str, ASGIApp]:
    """The endpoint an API route runs for each method the contract documents on its path (none for others)."""
    if not isinstance(route, Route) or route.methods is None:
        return {}
    if isinstance(route.endpoint, _ByMethod):
        return dict(route.endpoint.endpoints)
    declared = route.methods - {"HEAD"} if "GET" in route.methods else route.methods
    return {method: route.endpoint for method in declared}


def _handler(operation_id: str, spec: Spec) -> Callable[[Services, str], ASGIApp] | None:
    return HANDLERS.get(operation_id) or ROLE_HANDLERS.get(spec.operations[operation_id].role)


def image_routes(spec: Spec) -> list[BaseRoute]:
    """Where finished images are downloaded (the mock's stand-in for ImaginePro's CDN; no auth, like a CDN)."""
    return [Route(f"{spec.image_path}/{{name}}", endpoints.image, methods=["GET"], name="image")]


class IndexedRouter(Router):
    """Starlette's router, except that a request tries only the routes whose literal prefix its path starts with.

    Starlette matches every route's regex in turn; with ~30 operations a poll paid for a dozen regexes. A route
    whose path does not start with the literal text before its first ``{`` cannot match (fully or partially),
    so trying only those gives the same route. Anything but a full match (405, slash redirects, 404) takes
    Starlette's own walk, so those answers are exactly Starlette's.
    """

    def __init__(self, routes: list[BaseRoute], **kwargs: object) -> None:
        super().__init__(routes, **kwargs)  # type: ignore[arg-type]
        self._exact: dict[str, list[tuple[int, BaseRoute]]] = {}
        self._prefixed: list[tuple[int, str, BaseRoute]] = []
        for index, route in enumerate(self.routes):
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                continue  # a route of another type: the walk below finds it
            if isinstance(route, Mount) or "{" in path:
                self._prefixed.append((index, path.split("{", 1)[0], route))
            else:
                self._exact.setdefault(path, []).append((index, route))
        self._indexed = sum(map(len, self._exact.values())) + len(self._prefixed) == len(self.routes)
        # A literal path only one route can take: matched by the method alone, no regex (the create endpoints).
        self._sole: dict[str, Route] = {
            path: found[0][1]
            for path, found in self._exact.items()
            if len(found) == 1
            and isinstance(found[0][1], Route)
            and not any(path.startswith(prefix) for _, prefix, _ in self._prefixed)
        }

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that may match `path`, in the router's order."""
        found = [(i, r) for i, prefix, r in self._prefixed if path.startswith(prefix)]
        exact = self._exact.get(path)
        if exact:
            found = sorted(exact + found, key=lambda pair: pair[0]) if found else exact
        return [route for _, route in found]

    def find(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route a full match picks and what it adds to the scope; None leaves it to Starlette's walk."""
        if scope["type"] != "http" or not self._indexed or scope.get("root_path"):
            return None
        sole = self._sole.get(scope["path"])
        if sole is not None and (sole.methods is None or scope["method"] in sole.methods):
            # What Route.matches gives for a full match of a literal path.
            return sole, {"endpoint": sole.endpoint, "path_params": dict(scope.get("path_params", {}))}
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
            if match is Match.PARTIAL:
                return None  # a 405, or a later full match: Starlette's walk decides
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route an HTTP request through its candidates; everything else as Starlette does."""
        found = self.find(scope)
        if found is None:
            await super().app(scope, receive, send)
            return
        route, child_scope = found
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)
