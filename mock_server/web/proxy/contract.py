"""Both directions of a proxied exchange checked against openapi.yaml, with the validators the mock itself uses.

Requests go through the same steps as the mock's endpoints (Bearer header, body size, Content-Type, JSON, depth,
the operation's compiled validator, path parameters); answers through a `SchemaValidator` per documented
response, so a violation reads the same whichever side broke the rule.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import orjson
from starlette.types import Receive

from mock_server.contract.problems import HttpError, Violation
from mock_server.domain.operations import Classified
from mock_server.domain.validation import SchemaValidator
from mock_server.services.container import Services
from mock_server.web.endpoints import read_json_body

RESPONSE = "response"  # the location of a violation in the upstream's answer
_REQUEST_HINT = "fix the request; the upstream may have answered it, but the contract refuses it"


def missing_credentials(sent: str | None) -> Violation:
    """The violation of a request without ``Authorization: Bearer <key>`` (the key itself is never echoed)."""
    shown = None if sent is None else sent.partition(" ")[0] + " ..."
    return Violation(
        "header",
        "/Authorization",
        "bearerAuth",
        "Bearer <api key>",
        shown,
        "Authorization must be 'Bearer <api key>'",
        "send the header Authorization: Bearer sk-...",
    )


async def request_violations(
    svc: Services, op: Classified, scope: MutableMapping[str, Any], receive: Receive
) -> tuple[Any, list[Violation], HttpError | None]:
    """(parsed body, violations, the error the mock would answer) for one API request."""
    state = scope.setdefault("state", {})
    if op.role == "create" and op.operation_id is not None:
        headers = dict(scope["headers"])
        try:
            body = await read_json_body(
                receive, headers, svc.settings.max_body_bytes, state, svc.settings.max_json_depth
            )
        except HttpError as exc:
            found = list(exc.violations) or [
                Violation("body", "", f"http-{exc.status}", None, None, str(exc), _REQUEST_HINT)
            ]
            return None, found, exc
        validator = svc.validator(op.operation_id)
        problems = validator.violations(body)
        if problems:
            return body, problems, None
        return validator.normalise(body), [], None
    if op.role == "poll" and op.operation_id is not None and op.message_id is not None:
        problems = svc.validator(f"{op.operation_id}:messageId").violations(op.message_id)
        return None, problems, None
    return None, [], None


class ResponseValidators:
    """One compiled validator per (operation, documented status), built on first use."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._cache: dict[tuple[str, str], SchemaValidator | None] = {}

    def _validator(self, operation_id: str, status: int) -> SchemaValidator | None:
        responses = self.svc.spec.operation(operation_id).responses
        key = str(status) if str(status) in responses else "default"
        if (operation_id, key) not in self._cache:
            documented = self.svc.spec.resolve(responses.get(key, {}))
            schema = documented.get("content", {}).get("application/json", {}).get("schema")
            self._cache[(operation_id, key)] = (
                None if schema is None else SchemaValidator(schema, location=RESPONSE, name="response")
            )
        return self._cache[(operation_id, key)]

    def violations(self, op: Classified, status: int, content_type: str, raw: bytes) -> tuple[Any, list[Violation]]:
        """(parsed JSON answer or None, its violations) for a documented operation; nothing for other paths."""
        parsed = _json(raw) if "json" in content_type else None
        if op.operation_id is None or op.role in ("download", "other"):
            return parsed, []
        responses = self.svc.spec.operation(op.operation_id).responses
        if str(status) not in responses and "default" not in responses:
            listed = ", ".join(sorted(responses))
            return parsed, [
                Violation(
                    RESPONSE,
                    "",
                    "responses",
                    listed,
                    status,
                    f"status {status} is not a documented answer of {op.operation_id} (documented: {listed})",
                    "the upstream must answer one of the documented statuses",
                )
            ]
        validator = self._validator(op.operation_id, status)
        if validator is None:
            return parsed, []
        if parsed is None:
            shown = raw[:80].decode("utf-8", "replace")
            return parsed, [
                Violation(
                    RESPONSE,
                    "",
                    "content",
                    "application/json",
                    f"{content_type or 'no Content-Type'}: {shown}",
                    f"the {status} answer of {op.operation_id} is not JSON",
                    "the upstream must answer a JSON body",
                )
            ]
        found = validator.violations(parsed)
        return parsed, [_as_response(v, status, op.operation_id) for v in found]


def _as_response(violation: Violation, status: int, operation_id: str) -> Violation:
    # The mock's validators word hints for a client ("send ..."); on an answer it is the upstream that must change.
    return Violation(
        RESPONSE,
        violation.pointer.removeprefix("/response") or violation.pointer,
        violation.rule,
        violation.expected,
        violation.value,
        f"{operation_id} {status} answer: {violation.message}",
        f"the upstream must answer per openapi.yaml ({violation.hint})" if violation.hint else "",
    )


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
