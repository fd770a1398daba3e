"""The lifecycle half of ``flux-mock check``: create real jobs, poll them to DONE or FAIL on both
progress paths, and apply every check of `contracts.checks` to what came back.

Jobs (each costs one job of the budget, in this order of priority):

1. ``imagine n=2``: n, ref, size and format set (and ``webhookOverride`` when a receiver runs);
2. ``imagine defaults``: only a prompt and the timeout, so the defaults (n=1) are checked;
3. ``upscale x2``: the first image of job 1 (or 2), scale 2; it runs after that job is DONE.

Every poll fetches the job on both progress paths (x-mock-kind ``poll``) back to back, in alternating
order, so progress and status are compared across the two on every poll: a path lagging behind the
other shows as progress or status going back. An answer that breaks the Message schema (a status
outside the enum, say) fails the job at once, with its pointer and value, and stops its polling: the
job's timeout is not waited out. Once the job is final, both paths are fetched again and must agree,
the images are downloaded (status and Content-Type only), and the webhook payload, if one was
expected, must equal the final GET body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from . import checks
from .budget import JobBudget
from .calls import Caller, json_or_none
from .failures import ContractFailure
from .reporting import Outcome
from .schema import contract

SUITE = "lifecycle"
FINAL = ("DONE", "FAIL")


class WebhookInbox(Protocol):
    """A receiver the server can reach: where to send webhooks, and what arrived for a job."""

    @property
    def url(self) -> str:
        """The URL to put in ``webhookOverride``."""
        ...

    def payloads_for(self, message_id: str) -> list[Any]:
        """Every JSON payload received for `message_id`, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """How the jobs are run.

    Attributes:
        seed: tags prompts and refs so a run's jobs can be found in the server's logs.
        job_timeout: the ``timeout`` sent with imagine jobs (10..900 s); polling gives up after it plus `grace`.
        poll_interval: seconds between polls.
        grace: extra seconds allowed past the job's timeout before "never finished" is reported.
        webhook_wait: seconds to wait for the webhook once the job is final.
    """

    seed: int
    job_timeout: int = 120
    poll_interval: float = 1.0
    grace: float = 15.0
    webhook_wait: float = 10.0


@dataclass
class JobPlan:
    """One job to create and follow."""

    name: str
    operation_id: str
    body: dict[str, Any]
    n: int | None = None
    ref: str | None = None
    webhook: bool = False
    result: dict[str, Any] = field(default_factory=dict)  # the final body, once known


def job_plans(settings: LifecycleSettings, webhook_url: str | None) -> list[JobPlan]:
    """The jobs a check run creates, most valuable first."""
    tag = f"flux-mock-check-{settings.seed}"
    first = {
        "prompt": f"a red fox in the snow ({tag})",
        "n": 2,
        "ref": tag,
        "timeout": settings.job_timeout,
        "width": 512,
        "height": 512,
        "output_format": "webp",
    }
    if webhook_url:
        first["webhookOverride"] = webhook_url
    return [
        JobPlan("imagine n=2", "fluxImagine", first, n=2, ref=tag, webhook=webhook_url is not None),
        JobPlan(
            "imagine defaults",
            "fluxImagine",
            {"prompt": f"a lighthouse at dusk ({tag})", "timeout": settings.job_timeout},
            n=1,
        ),
        JobPlan("upscale x2", "fluxUpscale", {"image": "", "scale": 2, "ref": tag}, ref=tag),
    ]


def _poll_operations() -> list[tuple[str, str]]:
    """(``GET /path``, path template) of every progress path (x-mock-kind ``poll``), in document order."""
    return [(f"{op.method} {op.path}", op.path) for op in contract().by_role("poll")]


async def run_jobs(
    caller: Caller, budget: JobBudget, settings: LifecycleSettings, *, inbox: WebhookInbox | None = None, count: int = 3
) -> list[Outcome]:
    """Create up to `count` jobs (budget permitting), follow each to the end, and return one outcome per job."""
    plans = job_plans(settings, inbox.url if inbox else None)[:count]
    outcomes = {plan.name: Outcome(SUITE, f"job {plan.name}") for plan in plans}
    imagine = [p for p in plans if p.operation_id == "fluxImagine"]
    upscale = [p for p in plans if p.operation_id == "fluxUpscale"]

    async def imagine_then_upscale() -> None:
        await _follow(caller, budget, settings, imagine[0], outcomes[imagine[0].name], inbox)
        for plan in upscale:
            source = next((p.result.get("uri") for p in imagine if p.result.get("uri")), None)
            if source is None:
                outcomes[plan.name].escalate("skipped", "no imagine job reached DONE to give an image to upscale")
                continue
            plan.body["image"] = source
            await _follow(caller, budget, settings, plan, outcomes[plan.name], inbox)

    tasks: list[Awaitable[None]] = [imagine_then_upscale()] if imagine else []
    tasks += [_follow(caller, budget, settings, plan, outcomes[plan.name], inbox) for plan in imagine[1:]]
    await asyncio.gather(*tasks)
    return list(outcomes.values())


async def _follow(
    caller: Caller,
    budget: JobBudget,
    settings: LifecycleSettings,
    plan: JobPlan,
    outcome: Outcome,
    inbox: WebhookInbox | None,
) -> None:
    started = caller.timer.now()
    found: list[ContractFailure] = []
    try:
        await _run(caller, budget, settings, plan, outcome, inbox, found)
    except httpx.HTTPError as exc:  # the server went away or timed out: report it, keep the other jobs going
        outcome.escalate("error", f"{type(exc).__name__}: {exc}")
    finally:
        outcome.seconds = max(0.0, caller.timer.now() - started)
        outcome.fail(found)


async def _run(
    caller: Caller,
    budget: JobBudget,
    settings: LifecycleSettings,
    plan: JobPlan,
    outcome: Outcome,
    inbox: WebhookInbox | None,
    found: list[ContractFailure],
) -> None:
    path = contract().operation(plan.operation_id).path
    create = f"POST {path}"
    reproduce = caller.curl("POST", path, plan.body)
    if not budget.reserve():
        outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
        return
    created = False
    try:
        response = await caller.send("POST", path, json_body=plan.body)
        created = response.is_success
    finally:
        budget.settle(created)
    caller.cost.add(jobs=int(created))
    body = json_or_none(response)
    if response.status_code != 200:
        found += _refused(response.status_code, body, create, reproduce)
        return
    found += [f.with_context(curl=reproduce) for f in _created_ok(body, create)]
    message_id = body.get("messageId") if isinstance(body, dict) else None
    if not isinstance(message_id, str):
        return
    fetches = [(label, template.replace("{messageId}", message_id)) for label, template in _poll_operations()]
    reproduce += "\n# then poll both paths back to back, until status is DONE or FAIL:\n"
    reproduce += "\n".join(caller.curl("GET", p) for _, p in fetches)

    def note(failures: list[ContractFailure]) -> None:
        found.extend(f.with_context(curl=reproduce, message_id=f.message_id or message_id) for f in failures)

    history: list[dict[str, Any]] = []
    deadline = caller.timer.now() + settings.job_timeout + settings.grace
    polls = 0
    while True:
        # Every path back to back, the order rotating per poll: a path that lags behind another shows up as progress
        # or status going back within one round, whichever of the two lags.
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
        if final.get("status") == "DONE":
            note(await _images(caller, final))
        outcome.detail = f"{final.get('status')} after {polls} polls, messageId {message_id}"
        if plan.webhook and inbox is not None:
            problems = await _webhook(caller, settings, inbox, message_id, final)
            note(problems)
            outcome.detail += "; webhook checked" if problems else "; webhook == final GET"
    note(checks.check_history(history, n=plan.n, message_id=message_id, ref=plan.ref))


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
    if isinstance(body, dict) and body.get("success") is not True:
        found.append(
            ContractFailure(
                "create_response_ok",
                "a created job must answer success: true",
                operation,
                "/success",
                True,
                body.get("success"),
            )
        )
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


async def _images(caller: Caller, final: dict[str, Any]) -> list[ContractFailure]:
    found = []
    images = final.get("images")
    urls = [u for u in images if isinstance(u, str)] if isinstance(images, list) else []
    for url in urls[:4]:
        try:
            status, kind = await caller.peek(url)
        except Exception as exc:  # any transport error is the finding: the URL cannot be downloaded
            status, kind = 0, f"{type(exc).__name__}: {exc}"
        if status != 200 or not kind.startswith("image/"):
            found.append(
                ContractFailure(
                    "images_are_fetchable",
                    f"image {url} cannot be downloaded (status {status}, Content-Type {kind!r})",
                    "GET <image URL>",
                    "/images",
                    "200 with an image/* Content-Type",
                    f"{status} {kind}",
                    message_id=final.get("messageId"),
                )
            )
    return found


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
