"""`FastLane`: a create or a poll goes straight to its route when no layer between would do anything.

With no scenario armed or defaulted, no poll fault ever given, no ``X-Mock-Scenario``/``Prefer`` header, a key
the mock accepts and (for a create) a body within ``--max-body-bytes`` holding no ``[mock:...]`` directive, the
scenario selection, the wire faults and the router's walk each hand the request on untouched; crossing them
cost a create about a fifth of its CPU (bench/profile_mock.py). The lane asks the router's own `find`, so it
picks the route the walk would, and calls that route's endpoint for the method itself: it has already checked the
key the route's auth would, so it notes the account as auth does, and renders an `HttpError` with the app's own
handlers (`HandledErrors.answer`), without crossing the auth and error layers. Whatever it is unsure of takes
the whole walk; `tests/mock_server/web/middleware/test_fastlane.py` sends the same requests both ways and
compares answers and journals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.domain.scenarios.engine import ScenarioEngine, may_hold_directive
from mock_server.web.bodies import read_body
from mock_server.web.endpoints import HEADERS, CreateJob, FetchMessage
from mock_server.web.middleware.auth import KeyPolicy, bearer_of
from mock_server.web.middleware.exceptions import HandledErrors
from mock_server.web.routes import IndexedRouter, methods_of


class FastLane:
    """Hand a hot request (a create or a poll of the contract) to its route directly when nothing can apply."""

    def __init__(
        self,
        app: ASGIApp,
        router: IndexedRouter,
        engine: ScenarioEngine,
        accepts: KeyPolicy,
        max_body: int,
        handlers: Mapping[Any, Any],
    ) -> None:
        self.app = app
        self.router = router
        self.engine = engine
        self.accepts = accepts
        self.max_body = max_body
        self.enabled = True  # tests turn it off to compare with the whole walk
        self.errors = HandledErrors(app, handlers=dict(handlers))  # only its `answer` is used
        # id(route) -> the endpoint for each method its lane takes (a create's has a body to look into first).
        self.lanes: dict[int, dict[str, CreateJob | FetchMessage]] = {}
        for route in router.routes:
            hot = {m: e for m, e in methods_of(route).items() if isinstance(e, CreateJob | FetchMessage)}
            if hot:
                self.lanes[id(route)] = hot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        engine = self.engine
        if not self.enabled or scope["type"] != "http" or not engine.idle or engine.poll_faults_used:
            await self.app(scope, receive, send)
            return
        found = self.router.find(scope)
        lane = None if found is None else self.lanes.get(id(found[0]))
        endpoint = None if lane is None else lane.get(scope["method"])
        if found is None or endpoint is None or not self._plain(scope, dict(scope["headers"])):
            await self.app(scope, receive, send)
            return
        if type(endpoint) is CreateJob:
            receive, raw = await read_body(receive, self.max_body)
            if raw is None or may_hold_directive(raw):  # over the limit, or a directive: the layers decide
                await self.app(scope, receive, send)
                return
        route, child_scope = found
        scope.setdefault("router", self.router)
        scope["route"] = route
        scope.update(child_scope)
        state = scope["state"]  # `_plain` made it
        state["account"] = state["bearer"]  # what the route's auth notes for a key it accepts
        try:
            await endpoint(scope, receive, send)
        except Exception as exc:
            await self.errors.answer(scope, receive, send, exc)

    def _plain(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        """No scenario header, a key auth accepts (noted as ``state["bearer"]``), a declared length within the
        limit. `headers` is the request's as a dict, which the endpoint reuses (`HEADERS`): a header sent twice
        makes it shorter than the list, and such a request takes the walk, whose layers read the list."""
        if len(headers) != len(scope["headers"]) or b"x-mock-scenario" in headers or b"prefer" in headers:
            return False
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            return False
        token = bearer_of(headers.get(b"authorization"))
        scope.setdefault("state", {})["bearer"] = token
        scope[HEADERS] = headers
        return self.accepts(token)
