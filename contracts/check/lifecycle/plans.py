"""Which jobs ``flux-mock check`` creates: one per job kind of the spec, most valuable first.

1. ``imagine n=2`` (n, ref, size and format set; ``webhookOverride`` when a receiver runs), ``imagine defaults``
   (only a prompt and the timeout) and ``upscale x2`` (the first image of job 1): Flux, the core, which may use
   any room in the ``--max-jobs`` budget;
2. then one job for each other kind with a create operation (``x-mock-kind: create:<kind>``), in the spec's
   order, on the kind's first operation: its smallest documented request example, else a minimal valid body,
   with ``ref`` and ``timeout`` when the body takes them. These run only while the budget keeps `SPARE` jobs
   for the probes (all of them on loopback, where there is no cap).

Follow-up kinds act on an earlier job's result, so they run once that job is DONE: a button presses a button
the Midjourney grid offers (U1 when offered), a video extend extends result 0 of the video job.

The Midjourney grid is made non-square (``--ar 3:2`` unless its prompt sets one), so its upscales offer Make
Square. A second grid, ``--v 5`` (started next to the first, claimed from the budget last), leads through U1 to a
v5 upscale: the only stage that offers Upscale (2x)/(4x), and through them Redo Upscale (facts §3.4); it is kept
to those buttons (`only_upscalers`), every other button being pressed on the first grid's chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.core import rules
from contracts.core.schema import contract

SPARE = 2  # budgeted jobs the extra kinds leave for the probes (a server that wrongly accepts a bad body)


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """How the jobs are run.

    Attributes:
        seed: tags prompts and refs so a run's jobs can be found in the server's logs.
        job_timeout: the ``timeout`` sent with the jobs; polling gives up after it plus `grace`.
        poll_interval: seconds between polls.
        grace: extra seconds allowed past the job's timeout before "never finished" is reported.
        webhook_wait: seconds to wait for the webhook once the job is final.
    """

    seed: int
    job_timeout: int = 120
    poll_interval: float = 1.0
    grace: float = 15.0
    webhook_wait: float = 10.0


Prepare = Callable[["JobPlan", dict[str, Any]], str | None]


@dataclass
class JobPlan:
    """One job to create and follow.

    Attributes:
        after: the plan whose DONE message this one needs (a follow-up); `prepare` completes the body from it
            and returns why the job cannot run (None when it can).
        core: a Flux job, which may use any room in the budget.
        origin: the messageId a follow-up acts on (what its ``originatingMessageId`` must name).
        only_upscalers: a job of the ``--v 5`` chain: on its messages the run presses only the upscale buttons
            (and the U1 that leads to them), not every button again, and re-checks no refusal.
    """

    name: str
    operation_id: str
    body: dict[str, Any]
    kind: str
    n: int | None = None
    ref: str | None = None
    webhook: bool = False
    core: bool = False
    after: str | None = None
    prepare: Prepare | None = None
    origin: str | None = None
    only_upscalers: bool = False
    message_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)  # the final body, once known


def _use_image(plan: JobPlan, source: dict[str, Any]) -> str | None:
    uri = source.get("uri")
    if not isinstance(uri, str):
        return "no imagine job reached DONE to give an image to upscale"
    plan.body["image"] = uri
    return None


def _press_a_button(plan: JobPlan, source: dict[str, Any]) -> str | None:
    offered = [b for b in source.get("buttons") or [] if isinstance(b, str)]
    pressable = [b for b in offered if b not in ("Cancel Job", "Vary (Region)")]
    if not pressable:
        return "the Midjourney job it needs offered no button to press"
    plan.body.update(messageId=source.get("messageId"), button="U1" if "U1" in pressable else pressable[0])
    plan.origin = source.get("messageId")
    return None


def _extend_a_result(plan: JobPlan, source: dict[str, Any]) -> str | None:
    results = source.get("results")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        return "the video job it needs listed no results to extend"
    plan.body.update(messageId=source.get("messageId"), index=results[0].get("index", 0))
    plan.origin = source.get("messageId")
    return None


# Follow-up kinds: the kind whose DONE result they need, and how they use it.
FOLLOW_UPS: dict[str, tuple[str, Prepare]] = {
    "upscale": ("imagine", _use_image),
    "button": ("mj-imagine", _press_a_button),
    "video-extend": ("video", _extend_a_result),
}


def _non_square(body: dict[str, Any]) -> dict[str, Any]:
    """The imagine body with ``--ar 3:2`` added unless its prompt sets a ratio: the smallest documented example has
    none, so its grid is square and no upscale of it would offer Make Square."""
    prompt = str(body.get("prompt", ""))
    if "--ar " in prompt or "--aspect " in prompt:
        return body
    return {**body, "prompt": f"{prompt} --ar 3:2"}


def _v5_chain(plans: list[JobPlan]) -> list[JobPlan]:
    """The ``--v 5`` grid and the U1 on it (see the module docstring), copied from the first grid and button plans;
    none when the contract has no Midjourney imagine or no button."""
    grid = next((p for p in plans if p.kind == "mj-imagine"), None)
    button = next((p for p in plans if p.kind == "button"), None)
    if grid is None or button is None:
        return []
    name = f"{grid.name} --v 5"
    body = {**grid.body, "prompt": f"{grid.body.get('prompt', '')} --v 5"}
    return [
        JobPlan(name, grid.operation_id, body, grid.kind, ref=grid.ref, only_upscalers=True),
        JobPlan(
            f"{button.name} --v 5",
            button.operation_id,
            dict(button.body),
            button.kind,
            ref=button.ref,
            after=name,
            prepare=_press_a_button,
            only_upscalers=True,
        ),
    ]


def _kind_body(operation_id: str, tag: str, settings: LifecycleSettings) -> dict[str, Any]:
    examples: list[dict[str, Any]] = rules.documented_examples(operation_id)
    body: dict[str, Any] = rules.minimal_body(operation_id)
    if examples:
        smallest: dict[str, Any] = min(examples, key=len)
        body = dict(smallest)
    props = (contract().operation(operation_id).request_schema or {}).get("properties", {})
    if "ref" in props:
        body["ref"] = tag
    if "timeout" in props:
        body["timeout"] = settings.job_timeout
    return body


def job_plans(settings: LifecycleSettings, webhook_url: str | None) -> list[JobPlan]:
    """The jobs a check run creates, most valuable first: Flux, then one per other job kind of the spec."""
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
    plans = [
        JobPlan(
            "imagine n=2", "fluxImagine", first, "imagine", n=2, ref=tag, webhook=webhook_url is not None, core=True
        ),
        JobPlan(
            "imagine defaults",
            "fluxImagine",
            {"prompt": f"a lighthouse at dusk ({tag})", "timeout": settings.job_timeout},
            "imagine",
            n=1,
            core=True,
        ),
        JobPlan(
            "upscale x2",
            "fluxUpscale",
            {"image": "", "scale": 2, "ref": tag},
            "upscale",
            ref=tag,
            core=True,
            after="imagine n=2",
            prepare=_use_image,
        ),
    ]
    covered = {plan.kind for plan in plans}
    for op in contract().by_role("create"):
        kind = op.job_kind or ""
        if kind in covered:
            continue
        covered.add(kind)
        body = _kind_body(op.operation_id, tag, settings)
        if kind == "mj-imagine":
            body = _non_square(body)
        needs = FOLLOW_UPS.get(kind)
        after = next((p.name for p in plans if needs is not None and p.kind == needs[0]), None)
        plans.append(
            JobPlan(
                kind,
                op.operation_id,
                body,
                kind,
                ref=body.get("ref"),
                after=after,
                prepare=needs[1] if needs is not None else None,
            )
        )
    grid, *button = _v5_chain(plans)
    if not button:
        return plans
    # Its grid starts next to the first (the chain is the run's deepest: four stages of queued jobs, so started
    # last it ends last, seconds after the rest); the budget claims it last all the same (`only_upscalers`).
    at = next(i for i, p in enumerate(plans) if p.kind == "mj-imagine") + 1
    return [*plans[:at], grid, *plans[at:], *button]
