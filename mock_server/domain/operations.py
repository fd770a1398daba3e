"""What a request is, read once from the spec's ``x-mock-kind``: the one classification of operations.

Middleware (scenario selection, rate limits, wire faults), the route table, endpoints and credits all
ask `Operations.classify` instead of keeping their own path lists, so a job-creating path added to
openapi.yaml gets job scenarios, the right rate-limit bucket and credits without touching them.

Roles:

- ``create``: starts a job of `job_kind` (``x-mock-kind: create:<kind>``);
- ``poll``: reads one job's Message (``{messageId}`` in the path);
- ``read``: any other documented API operation;
- ``download``: a finished job's image (``info.x-mock-downloads``), served without auth like a CDN;
- ``other``: anything else (undocumented paths, the admin API).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from mock_server.contract.errors import SpecError
from mock_server.contract.spec import Spec

Role = Literal["create", "poll", "read", "download", "other"]
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Classified:
    """One request's place in the contract."""

    role: Role
    operation_id: str | None = None
    job_kind: str | None = None
    message_id: str | None = None  # from the path of a poll

    @property
    def api(self) -> bool:
        """Whether scenarios, faults and rate limits act on it: the API, never downloads or /__mock."""
        return self.role != "download" and self.role != "other"


OTHER = Classified("other")
# An undocumented path under /api/ is still an API request (scenarios and limits apply; it answers 404).
UNDOCUMENTED_API = Classified("read")
DOWNLOAD = Classified("download")


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


class Operations:
    """The spec's operations as a lookup from (method, path) to `Classified`.

    Example:
        ops = Operations(load_spec())
        ops.classify("POST", "/api/v1/flux/imagine")  # Classified(role="create", job_kind="imagine", ...)
    """

    def __init__(self, spec: Spec) -> None:
        self._exact: dict[tuple[str, str], Classified] = {}
        self._templated: list[tuple[str, re.Pattern[str], Classified]] = []
        for op in spec.operations.values():
            role: Role = "create" if op.role == "create" else "poll" if op.role == "poll" else "read"
            found = Classified(role, op.operation_id, op.job_kind)
            if role == "poll" and "{messageId}" not in op.path:
                raise SpecError(f"{op.operation_id} is x-mock-kind poll, so its path must hold {{messageId}}.")
            if "{" in op.path:
                self._templated.append((op.method, _pattern(op.path), found))
            else:
                self._exact[(op.method, op.path)] = found
        self.image_path = spec.image_path
        self._image_prefix = self.image_path + "/"
        self.create_ids = frozenset(op.operation_id for op in spec.by_role("create"))
        self.poll_ids = frozenset(op.operation_id for op in spec.by_role("poll"))

    def classify(self, method: str, path: str) -> Classified:
        """What `method path` is; `OTHER` for paths outside the API."""
        found = self._exact.get((method, path))
        if found is not None:
            return found
        for op_method, pattern, template in self._templated:
            if op_method == method:
                match = pattern.match(path)
                if match is not None:
                    if template.role == "poll":
                        return Classified("poll", template.operation_id, None, match.group("messageId"))
                    return template
        if path.startswith(self._image_prefix):
            return DOWNLOAD
        return UNDOCUMENTED_API if path.startswith("/api/") else OTHER


def of_scope(scope: MutableMapping[str, Any], operations: Operations) -> Classified:
    """The request's classification, worked out once per request and kept in ``scope["state"]["op"]``."""
    state = scope.setdefault("state", {})
    found: Classified | None = state.get("op")
    if found is None:
        found = state["op"] = operations.classify(scope["method"], scope["path"])
    return found


def api_operation(scope: MutableMapping[str, Any], operations: Operations) -> Classified | None:
    """The classification of an HTTP API request; None for what scenarios, faults and limits leave alone."""
    if scope["type"] != "http":
        return None
    found = of_scope(scope, operations)
    return found if found.api else None
