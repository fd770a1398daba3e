"""Hypothesis strategies generated from openapi.yaml (nothing hand-written about the fields).

Valid data comes from **schemathesis' own generator** (``APIOperation.as_strategy()``), which runs
on the current Hypothesis. hypothesis-jsonschema was the other candidate and was rejected: its
last release breaks on Hypothesis >= 6.170.10 (``'many' object has no attribute 'more'``), so it
would pin the whole stack to an old Hypothesis, and even then it ignores ``format: uuid`` and
2020-12 keywords. Schemathesis is already a dependency, honours uuid/uri/date-time, ``multipleOf``
and ``pattern``, and was measured at about 4-5 ms per body on this machine (200 Message bodies in
0.85 s, 200 imagine bodies in 0.9 s) after a one-off ~1 s schema load.

Two schemathesis habits are handled here:

- It ignores the OpenAPI 3.1 ``webhooks`` section, so message and webhook bodies are generated
  from a private copy of the document in which each body schema is exposed as a POST operation.
- Its regex engine is ECMA-262 flavoured: ``\\S`` matches U+001C..U+001F, which Python's ``re`` (and
  so jsonschema and the mock) counts as whitespace. Generated bodies are therefore filtered through
  the contract's jsonschema validator, the same judge the mock uses.

Bodies may hold integral floats for integers (``"n": 2.0``); JSON Schema counts them as integers
and servers must accept them.

Every operation with a request body has both: ``requests("mjBlend")`` gives valid bodies, and
``invalid_requests("mjBlend", rule="urls.maxItems")`` breaks exactly that rule of a valid body and nothing else
(each body is checked; the rules come from `contracts.core.rules`). The Flux names (``imagine_requests``,
``invalid_imagine_requests(rule="n.maximum")``, ...) are these for ``fluxImagine`` and ``fluxUpscale``.
"""

from __future__ import annotations

import copy
import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contracts.core import rules as _rules
from contracts.core.schema import contract, document, schema_pointer, validator_for

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

_BODIES = "/__contracts__/"
IMAGINE = "fluxImagine"
UPSCALE = "fluxUpscale"
TERMINAL = ("DONE", "FAIL")


def _body_schema(name: str, status: str | None) -> dict[str, Any]:
    spec = contract()
    schema: dict[str, Any] = copy.deepcopy(spec.resolve(spec.pointer(schema_pointer(name))))
    if status is not None:
        schema["properties"]["status"] = dict(schema["properties"]["status"], enum=[status])
    return schema


@functools.cache
def _generator() -> Any:
    """A private schemathesis schema: the contract plus one POST per generated body kind."""
    import schemathesis

    raw = document()
    for name in ("Message", "webhook:messageUpdate"):
        for status in (None, *contract().status_enum):
            raw["paths"][_path(name, status)] = {
                "post": {
                    "operationId": f"generate {name} {status}",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _body_schema(name, status)}},
                    },
                    "responses": {"200": {"description": "generated"}},
                }
            }
    config = {"generation": {"database": "none", "with-security-parameters": False}}
    return schemathesis.openapi.from_dict(raw, config=schemathesis.Config.from_dict(config))


def _path(name: str, status: str | None) -> str:
    return f"{_BODIES}{name.replace(':', '-')}/{status or 'any'}"


def _bodies(path: str, method: str, validator_name: str | None) -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    def build() -> SearchStrategy[dict[str, Any]]:
        from schemathesis import GenerationMode

        operation = _generator()[path][method]
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(lambda case: case.body)
        if validator_name is None:
            return strategy  # type: ignore[no-any-return]
        return strategy.filter(validator_for(validator_name).is_valid)  # type: ignore[no-any-return]

    # Deferred: the schemathesis schema is built on first draw, not when a test module is imported.
    return st.deferred(build)


@functools.cache
def _request_bodies(operation_id: str) -> SearchStrategy[dict[str, Any]]:
    from jsonschema import Draft202012Validator

    op = contract().operation(operation_id)
    if op.request_schema is None:
        raise ValueError(f"Operation {operation_id!r} has no JSON request body.")
    check = Draft202012Validator(op.request_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return _bodies(op.path, op.method, None).filter(check.is_valid)


def requests(operation_id: str) -> SearchStrategy[dict[str, Any]]:
    """Valid request bodies of any operation that takes one (``mjImagine``, ``videoGenerate``, ``promptCheck``...).

    Example:
        @given(body=requests("mjDescribe"))
        def test_accepted(body): assert client.post("/api/v1/nova/describe", json=body).status_code == 200

    Raises:
        ValueError: at once if the operation does not exist or takes no JSON body, naming those that do.
    """
    _check_operation(operation_id)
    return _request_bodies(operation_id)


def invalid_requests(operation_id: str, rule: str | None = None) -> SearchStrategy[dict[str, Any]]:
    """Bodies of `operation_id` that break exactly one named rule (any of its rules when `rule` is None).

    Rules are named ``<field>.<keyword>`` and derived from the spec (``urls.minItems``, ``index.maximum``,
    ``button.enum``, ``mask.required``, ``additionalProperties`` ...); `rule_names(operation_id)` lists them.

    Raises:
        ValueError: at once (not when drawing) for an unknown operation or rule, naming the closest rule and
            listing every valid one.
    """
    _check_operation(operation_id)
    return _invalid(operation_id, rule)


def rule_names(operation_id: str) -> tuple[str, ...]:
    """The rule names `invalid_requests(operation_id, rule=...)` accepts, in spec order."""
    _check_operation(operation_id)
    return tuple(_rules.rules(operation_id))


def _check_operation(operation_id: str) -> None:
    bodies = _rules.body_operations()
    if operation_id not in bodies:
        import difflib

        close = difflib.get_close_matches(operation_id, bodies, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Operation {operation_id!r} takes no JSON request body in openapi.yaml.{hint} "
            f"Operations with a body: {', '.join(bodies)}."
        )


def imagine_requests() -> SearchStrategy[dict[str, Any]]:
    """Valid ``POST /api/v1/flux/imagine`` bodies, as the contract allows them.

    Example:
        @given(body=imagine_requests())
        def test_accepted(body): assert client.post("/api/v1/flux/imagine", json=body).status_code == 200
    """
    return _request_bodies(IMAGINE)


def upscale_requests() -> SearchStrategy[dict[str, Any]]:
    """Valid ``POST /api/v1/flux/upscale`` bodies."""
    return _request_bodies(UPSCALE)


def _invalid(operation_id: str, rule: str | None) -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    table = _rules.rules(operation_id)
    chosen = [_rules.rule(operation_id, rule)] if rule is not None else list(table.values())
    return st.one_of(*(_breaking(operation_id, r) for r in chosen))


def _breaking(operation_id: str, rule: _rules.Rule) -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    base = _request_bodies(operation_id)
    if rule.keyword == "required":
        generated = base.map(lambda body: {k: v for k, v in body.items() if k != rule.field})
    elif rule.field is None:  # additionalProperties: add one unknown key
        generated = st.builds(lambda body, key, value: {**body, key: value}, base, rule.values(), st.integers())
    else:
        generated = st.builds(lambda body, value: {**body, str(rule.field): value}, base, rule.values())
    exactly_this = st.one_of(st.just(rule.example), generated)
    return exactly_this.filter(lambda body: _rules.broken_rules(operation_id, body) == {rule.name})


def invalid_imagine_requests(rule: str | None = None) -> SearchStrategy[dict[str, Any]]:
    """Imagine bodies that break exactly one named rule (any rule when `rule` is None).

    Rules are named ``<field>.<keyword>`` and derived from the spec: ``n.maximum`` (n > 4),
    ``timeout.minimum`` / ``timeout.maximum`` (outside the Timeout range), ``width.multipleOf`` (not divisible
    by 8), ``prompt.required`` (missing prompt), ``n.type`` (wrong type), ``additionalProperties``
    (unknown key) and so on; `imagine_rule_names()` lists them all.

    Raises:
        ValueError: at once (not when drawing) if `rule` is not a rule of the imagine body,
            naming the closest rule and listing every valid one.
    """
    return _invalid(IMAGINE, rule)


def invalid_upscale_requests(rule: str | None = None) -> SearchStrategy[dict[str, Any]]:
    """Upscale bodies that break exactly one named rule (``scale.maximum``, ``image.required``, ...)."""
    return _invalid(UPSCALE, rule)


def imagine_rule_names() -> tuple[str, ...]:
    """The rule names `invalid_imagine_requests` accepts, in spec order."""
    return tuple(_rules.rules(IMAGINE))


def _check_status(status: str | None) -> None:
    allowed = contract().status_enum
    if status is not None and status not in allowed:
        raise ValueError(f"Unknown status {status!r}; the contract's statuses are: {', '.join(allowed)}.")


def messages(status: str | None = None, *, coherent: bool = True) -> SearchStrategy[dict[str, Any]]:
    """Message bodies (``GET /api/v1/message/fetch/{messageId}``), valid per the spec.

    Args:
        status: only this status (``QUEUED``, ``PROCESSING``, ``DONE``, ``FAIL``); None for any.
        coherent: also obey the rules beyond the schema that `contracts.checks` enforces (DONE
            has progress 100, ``images`` and ``uri == images[0]``; FAIL has an ``error``; no result
            keys before the end; ``updatedAt >= createdAt``). False gives any schema-valid body,
            which is what a robust client must survive.

    Bodies may carry unknown keys: the Message schema allows them, and clients must ignore them.
    """
    _check_status(status)
    strategy = _bodies(_path("Message", status), "POST", "Message")
    return strategy.map(make_coherent) if coherent else strategy


def webhook_payloads(status: str | None = None, *, coherent: bool = True) -> SearchStrategy[dict[str, Any]]:
    """Webhook bodies, generated from the OpenAPI 3.1 ``webhooks.messageUpdate`` section.

    Same arguments as `messages`; the contract says the payload is the Message body.
    """
    _check_status(status)
    strategy = _bodies(_path("webhook:messageUpdate", status), "POST", "webhook:messageUpdate")
    return strategy.map(make_coherent) if coherent else strategy


def make_coherent(body: dict[str, Any]) -> dict[str, Any]:
    """Repair a schema-valid message so it also passes the rules of `contracts.checks`."""
    from contracts.checks import parse_timestamp

    out = dict(body)
    status = out["status"]
    if status == "DONE":
        images = out.get("images") or [f"https://cdn.imaginepro.ai/storage/v1/object/public/cdn/{out['messageId']}.png"]
        out.update(progress=100, images=list(images), uri=images[0])
        out.pop("error", None)
    else:
        out.pop("uri", None)
        out.pop("images", None)
        if status == "FAIL":
            error = out.get("error")
            out["error"] = error if isinstance(error, str) and error.strip() else "Generation failed"
        else:
            out.pop("error", None)
            out["progress"] = 0 if status == "QUEUED" else min(out["progress"], 99)
    created, updated = parse_timestamp(out["createdAt"]), parse_timestamp(out["updatedAt"])
    if created is None or updated is None:
        out["createdAt"] = out["updatedAt"] = "2026-02-22T07:43:37+00:00"
    elif _later(created, updated):
        out["createdAt"], out["updatedAt"] = out["updatedAt"], out["createdAt"]
    return out


def _later(first: datetime, second: datetime) -> bool:
    return first > second
