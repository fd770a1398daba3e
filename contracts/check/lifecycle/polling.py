"""Creating one lifecycle job and following it: every poll path on every poll, fail fast on a schema break.

Every poll fetches the job on each of its progress paths (x-mock-kind ``poll``: the general ones, tagged
``message``, and those sharing a tag with the create operation, e.g. ``/video/mj/fetch`` for video jobs) back to
back, in rotating order, so progress and status are compared across them on every poll: a path lagging behind
another shows as progress or status going back. An answer that breaks the Message schema (a status outside the
enum, say) fails the job at once, with its pointer and value, and stops its polling: the job's timeout is not
waited out. Once the job is final, every path is fetched again and they must agree, the result files are
downloaded (status and Content-Type only), and the webhook payload, if one was expected, must equal the final GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from contracts import checks
from contracts.check.lifecycle.plans import JobPlan, LifecycleSettings
from contracts.core.budget import JobBudget
from contracts.core.calls import Caller, json_or_none
from contracts.core.failures import ContractFailure
from contracts.core.reporting import Outcome
from contracts.core.schema import contract

if TYPE_CHECKING:
    from contracts.check.lifecycle.ledger import Ledger

SUITE = "lifecycle"
FINAL = ("DONE", "FAIL")
GENERAL_POLL_TAG = "message"
CUTOUT_KIND = "remove-bg"  # removeBackground: "the result is a PNG with an alpha channel"


class WebhookInbox(Protocol):
    """A receiver the server can reach: where to send webhooks, and what arrived for a job."""

    @property
    def url(self) -> str:
        """The URL to put in ``webhookOverride``."""
        ...

    def payloads_for(self, message_id: str) -> list[Any]:
        """Every JSON payload received for `message_id`, oldest first."""
        ...


def _tags(operation_id: str) -> set[str]:
    spec = contract()
    op = spec.operation(operation_id)
    return set(spec.document["paths"][op.path][op.method.lower()].get("tags", []))


def poll_operations(operation_id: str | None = None) -> list[tuple[str, str]]:
    """(``GET /path``, path template) of every progress path of a job made by `operation_id`, in document order.

    The general paths (tagged ``message``) serve every job; a kind's own path (``videoFetch``, tagged ``video``)
    serves the jobs of create operations with its tag. None: every poll path.
    """
    tags = _tags(operation_id) if operation_id is not None else None
    found = []
    for op in contract().by_role("poll"):
        own = _tags(op.operation_id)
        if tags is None or GENERAL_POLL_TAG in own or own & tags:
            found.append((f"{op.method} {op.path}", op.path))
    return found


async def create(
    caller: Caller, budget: JobBudget, plan: JobPlan, outcome: Outcome, found: list[ContractFailure], ledger: Ledger
) -> str | None:
    """Send the plan's create request through `ledger` (its budget already reserved) and check the answer; the
    messageId or None.

    A 403 (the account's plan does not allow the endpoint, e.g. DIY-only commands) marks the outcome skipped.
    """
    path = contract().operation(plan.operation_id).path
    operation = f"POST {path}"
    reproduce = caller.curl("POST", path, plan.body)
    created = False
    try:
        response = await ledger.send(plan.operation_id, plan.body, plan.name)
        created = response.is_success
    finally:
        budget.settle(created)
    caller.cost.add(jobs=int(created))
    body = json_or_none(response)
    if response.status_code == 403:
        message = body.get("message") if isinstance(body, dict) else body
        outcome.escalate("skipped", f"needs another plan: the server answered 403 ({message})")
        return None
    if response.status_code != 200:
        found += _refused(response.status_code, body, operation, reproduce)
        return None
    found += [f.with_context(curl=reproduce) for f in _created_ok(body, operation)]
    message_id = body.get("messageId") if isinstance(body, dict) else None
    plan.message_id = message_id if isinstance(message_id, str) else None
    return plan.message_id


async def follow(
    caller: Caller,
    settings: LifecycleSettings,
    plan: JobPlan,
    outcome: Outcome,
    inbox: WebhookInbox | None,
    found: list[ContractFailure],
    *,
    downloads: bool = True,
) -> None:
    """Poll the created job to DONE or FAIL on all its paths and apply every check of its kind (`downloads`: fetch
    its result files too)."""
    message_id = plan.message_id
    if message_id is None:
        return
    path = contract().operation(plan.operation_id).path
    fetches = [(label, t.replace("{messageId}", message_id)) for label, t in poll_operations(plan.operation_id)]
    reproduce = caller.curl("POST", path, plan.body)
    reproduce += "\n# then poll every path back to back, until status is DONE or FAIL:\n"
    reproduce += "\n".join(caller.curl("GET", p) for _, p in fetches)

    def note(failures: list[ContractFailure]) -> None:
        found.extend(f.with_context(curl=reproduce, message_id=f.message_id or message_id) for f in failures)

    history: list[dict[str, Any]] = []
    deadline = caller.timer.now() + settings.job_timeout + settings.grace
    polls = 0
    while True:
        # Every path back to back, the order rotating per poll: a path that lags behind another shows up as progress
        # or status going back within one round, whichever lags.
        turn = polls % len(fetches)
        polls += 1
        step = await _poll_round(caller, [*fetches[turn:], *fetches[:turn]], message_id, history, note)
        if step in ("final", "broken", "lost") or (step == "refused" and polls > 3 and not history):
            break
        if caller.timer.now() > deadline:
            last = history[-1].get("status") if history else "unknown"
            note(
                [
                    ContractFailure(
                        "finishes_within_timeout",
                        f"the job is still {last} {settings.job_timeout + settings.grace:.0f} s after "
                        f"creation; a job must end in DONE or FAIL within its timeout "
                        f"({settings.job_timeout} s)",
                        checks.FETCH,
                        "/status",
                        "DONE or FAIL",
                        last,
                    )
                ]
            )
            break
        await caller.timer.sleep(settings.poll_interval)
    if step == "broken":
        outcome.detail = f"polling stopped after {polls} poll(s): an answer broke the Message schema"
    if step == "final":
        final = await _final(caller, fetches, history, note)
        plan.result = final
        if final.get("status") == "DONE" and downloads:
            note(await _downloads(caller, final))
            if plan.kind == CUTOUT_KIND:
                note(await _cutout(caller, final))
        outcome.detail = f"{final.get('status')} after {polls} polls, messageId {message_id}"
        if plan.webhook and inbox is not None:
            problems = await _webhook(caller, settings, inbox, message_id, final)
            note(problems)
            outcome.detail += "; webhook checked" if problems else "; webhook == final GET"
    note(
        checks.check_history(history, n=plan.n, message_id=message_id, ref=plan.ref, kind=plan.kind, origin=plan.origin)
    )


async def _poll_round(
    caller: Caller,
    fetches: list[tuple[str, str]],
    message_id: str,
    history: list[dict[str, Any]],
    note: Callable[[list[ContractFailure]], None],
) -> str:
    """Fetch the job once on every path, appending the Messages to `history`.

    Returns "running", "final", "refused" (a path answered an error), "lost" (404: stop) or "broken" (an answer
    broke the Message schema: stop).
    """
    final = refused = False
    for operation, path in fetches:
        answer = await caller.send("GET", path)
        message = json_or_none(answer)
        if answer.status_code != 200 or not isinstance(message, dict):
            note(_fetch_failed(answer.status_code, message, message_id))
            if answer.status_code == 404:
                return "lost"
            refused = True
            continue
        broken = checks.matches_schema("Message", message, operation=operation)
        if broken:
            # The answer is not a Message: its status cannot be followed (an unknown status is never final), so
            # waiting for the job's timeout would only delay the verdict. Report it at once and stop this job.
            stop = f"polling of job {message_id} stopped at this answer ({path})"
            note([f.with_context(notes=(*f.notes, stop)) for f in broken])
            return "broken"
        history.append(message)
        final = final or message.get("status") in FINAL
    return "final" if final else ("refused" if refused else "running")


def _refused(status: int, body: Any, operation: str, reproduce: str) -> list[ContractFailure]:
    message = body.get("message") if isinstance(body, dict) else body
    check = "not_a_server_error" if status >= 500 else "valid_request_accepted"
    found = [
        ContractFailure(
            check,
            f"a valid body got {status} instead of 200 (server said: {message!r})",
            operation,
            "",
            200,
            status,
            curl=reproduce,
        )
    ]
    if status >= 400:
        found += [
            f.with_context(curl=reproduce) for f in checks.error_has_nestjs_shape(status, body, operation=operation)
        ]
    return found


def _created_ok(body: Any, operation: str) -> list[ContractFailure]:
    found = checks.matches_schema("CreateResponse", body, operation=operation)
    if isinstance(body, dict):
        found += checks.create_succeeded(body, operation=operation)
    return found


def _fetch_failed(status: int, body: Any, message_id: str) -> list[ContractFailure]:
    if status == 404:
        text = "the job the server just created is not found; fetch must find every messageId it returned"
        check = "fetch_finds_job"
    else:
        text = f"polling the job answered {status}"
        check = "not_a_server_error" if status >= 500 else "fetch_finds_job"
    found = [ContractFailure(check, text, checks.FETCH, "", 200, status, message_id=message_id)]
    if status >= 400:
        found += checks.error_has_nestjs_shape(status, body, operation=checks.FETCH)
    return found


async def _final(
    caller: Caller,
    fetches: list[tuple[str, str]],
    history: list[dict[str, Any]],
    note: Callable[[list[ContractFailure]], None],
) -> dict[str, Any]:
    """Fetch the final message on every path (appended to history) and compare them."""
    bodies = []
    for _, path in fetches:
        answer = await caller.send("GET", path)
        body = json_or_none(answer)
        if answer.status_code == 200 and isinstance(body, dict):
            history.append(body)
            bodies.append(body)
        else:
            note(
                [
                    ContractFailure(
                        "fetch_finds_job",
                        f"fetching a final job answered {answer.status_code}",
                        f"GET {path}",
                        "",
                        200,
                        answer.status_code,
                    )
                ]
            )
    for other in bodies[1:]:
        note(checks.progress_paths_agree(bodies[0], other))
    return bodies[0] if bodies else history[-1]


def _result_urls(final: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(pointer, URL, expected Content-Type prefix) of every result file of a DONE message."""
    found: list[tuple[str, str, str]] = []
    images = final.get("images")
    if isinstance(images, list):
        found += [("/images", u, "image/") for u in images[:4] if isinstance(u, str)]
    results = final.get("results")
    if isinstance(results, list):
        urls = [r.get("url") for r in results[:4] if isinstance(r, dict)]
        found += [("/results", u, "video/") for u in urls if isinstance(u, str)]
    return found


async def _downloads(caller: Caller, final: dict[str, Any]) -> list[ContractFailure]:
    found = []
    for pointer, url, expected in _result_urls(final):
        try:
            status, kind = await caller.peek(url)
        except Exception as exc:  # any transport error is the finding: the URL cannot be downloaded
            status, kind = 0, f"{type(exc).__name__}: {exc}"
        if status != 200 or not kind.startswith(expected):
            found.append(
                ContractFailure(
                    "images_are_fetchable",
                    f"result {url} cannot be downloaded (status {status}, Content-Type {kind!r})",
                    "GET <result URL>",
                    pointer,
                    f"200 with a {expected}* Content-Type",
                    f"{status} {kind}",
                    message_id=final.get("messageId"),
                )
            )
    return found


async def _cutout(caller: Caller, final: dict[str, Any]) -> list[ContractFailure]:
    """A remove-bg result must be a PNG with an alpha channel."""
    uri = final.get("uri")
    if not isinstance(uri, str):
        return []  # done_has_images reports it
    try:
        status, data = await caller.head_bytes(uri)
    except Exception:  # images_are_fetchable reports a download that fails
        return []
    message_id = final.get("messageId")
    return checks.png_has_alpha(data, url=uri, message_id=str(message_id)) if status == 200 else []


async def _webhook(
    caller: Caller, settings: LifecycleSettings, inbox: WebhookInbox, message_id: str, final: dict[str, Any]
) -> list[ContractFailure]:
    waited = 0.0
    while not inbox.payloads_for(message_id) and waited < settings.webhook_wait:
        await caller.timer.sleep(0.1)
        waited += 0.1
    payloads = inbox.payloads_for(message_id)
    if not payloads:
        return [
            ContractFailure(
                "webhook_delivered",
                f"no webhook arrived at webhookOverride within {settings.webhook_wait:g} s of the job ending",
                "POST webhookOverride",
                message_id=message_id,
            )
        ]
    last = payloads[-1]
    return [
        *checks.matches_schema("webhook:messageUpdate", last, operation="POST webhookOverride"),
        *checks.webhook_matches_final(last, final),
    ]
