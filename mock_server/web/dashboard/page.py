"""The dashboard's HTML, rendered on the server: the page frame, one view, and the control forms.

The first answer carries the current rows (`FirstPaint`, rendered by `rows`), so the page shows the jobs,
requests, webhooks and health at once, before (or without) its event stream; the stream then only updates
them (``static/app.js``). With ``--admin-token`` a page requested without the token is a shell that carries no
state ("Waiting for data…") and asks for the token; its rows arrive over the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mock_server.domain.scenarios.registry import catalogue
from mock_server.web.dashboard.views import STATUSES, JobFilter

VIEWS = {"jobs": "Jobs", "requests": "Requests", "webhooks": "Webhooks", "health": "Health"}


def _e(text: object) -> str:
    return escape(str(text), quote=True)


WAITING = "Waiting for data…"


@dataclass(frozen=True, slots=True)
class FirstPaint:
    """The rows the first answer carries, as HTML fragments (`rows`); empty ones keep the shell's text."""

    clock: str = ""
    armed: str = ""
    jobs: str = ""
    jobs_count: str = ""
    requests: str = ""
    webhooks: str = ""
    health: str = ""
    job_summary: str = ""
    timeline: str = ""
    images: str = ""


def _table(body_id: str, caption: str, columns: list[str], body: str = "") -> str:
    heads = "".join(f'<th scope="col">{_e(c)}</th>' for c in columns)
    body = body or f'<tr><td colspan="{len(columns)}" class="empty">{WAITING}</td></tr>'
    return (
        f'<div class="scroll"><table><caption>{_e(caption)}</caption><thead><tr>{heads}</tr></thead>'
        f'<tbody id="{body_id}">{body}</tbody></table></div>'
    )


# Keys are shown masked (`mask_key`: ``sk-li…Qz``, ``sk…st`` for short ones); the filter takes either form.
KEY_PLACEHOLDER = "sk-test or sk…st"
JOB_COLUMNS = ["messageId", "Status", "Progress", "Kind", "Account", "Scenario", "Age", "Deadline in"]
REQUEST_COLUMNS = ["#", "Time", "Request", "Status", "Operation", "messageId", "Account", "Tags", "ms"]
WEBHOOK_COLUMNS = ["#", "Time", "messageId", "Event", "Attempt", "Outcome", "Status", "Latency", "Next retry", "Answer"]


def _options(values: list[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{_e(v)}"{" selected" if v == selected else ""}>{_e(label)}</option>' for v, label in values
    )


JOBS_CAPTION = "Newest jobs first; state computed from each job's plan at the mock's now"


def _jobs(base: str, wanted: JobFilter, first: FirstPaint) -> str:
    statuses = _options([("", "any"), *((s, s) for s in STATUSES)], wanted.status)
    return f"""<h2 id="view-title">Jobs</h2>
<form class="filters" method="get" action="{base}/ui" aria-label="Filter jobs">
  <label>Key <input name="key" value="{_e(wanted.key)}" placeholder="{KEY_PLACEHOLDER}" autocomplete="off"></label>
  <label>Status <select name="status">{statuses}</select></label>
  <label>messageId <input name="messageId" value="{_e(wanted.message_id)}" autocomplete="off"></label>
  <button type="submit">Filter</button> <a href="{base}/ui">Clear</a>
</form>
<p id="jobs-count" class="muted">{_e(first.jobs_count)}</p>
{_table("jobs-body", JOBS_CAPTION, JOB_COLUMNS, first.jobs)}"""


def _job(message_id: str, first: FirstPaint) -> str:
    statuses = _options([(s, s) for s in STATUSES], "FAIL")
    summary = first.job_summary or f"<dt>Status</dt><dd>{WAITING}</dd>"
    hooks = _table("job-webhooks", "Every delivery attempt for this job", WEBHOOK_COLUMNS, first.webhooks)
    images = first.images or '<p class="muted">None yet: images appear when the job is DONE.</p>'
    return f"""<h2 id="view-title">Job <code>{_e(message_id)}</code></h2>
<dl id="job-summary" class="facts">{summary}</dl>
<form id="force-form" class="inline" aria-label="Force this job's status">
  <label>Status <select id="force-status" name="status">{statuses}</select></label>
  <label>Progress <input id="force-progress" name="progress" type="number" min="0" max="100" step="1"></label>
  <label>Error <input id="force-error" name="error" autocomplete="off"></label>
  <button type="submit">Force</button> <button type="button" id="release">Release</button>
</form>
<h3>Timeline</h3><ol id="job-timeline" class="timeline">{first.timeline}</ol>
<h3>Images</h3>
<div id="job-images" class="images">{images}</div>
<h3>Requests</h3>{_table("job-requests", "Every request about this job", REQUEST_COLUMNS, first.requests)}
<h3>Webhook attempts</h3>{hooks}"""


def _view(view: str, base: str, wanted: JobFilter, message_id: str, first: FirstPaint) -> str:
    if view == "job":
        return _job(message_id, first)
    if view == "requests":
        caption = "The request journal, newest first; violations show pointer, value and hint"
        return f'<h2 id="view-title">Requests</h2>{_table("requests-body", caption, REQUEST_COLUMNS, first.requests)}'
    if view == "webhooks":
        caption = "Webhook attempts, newest first; a failed one shows what the receiver answered"
        return f'<h2 id="view-title">Webhooks</h2>{_table("webhooks-body", caption, WEBHOOK_COLUMNS, first.webhooks)}'
    if view == "health":
        health = first.health or f"<dt>Status</dt><dd>{WAITING}</dd>"
        return f'<h2 id="view-title">Health</h2><dl id="health" class="facts">{health}</dl>'
    return _jobs(base, wanted, first)


def _controls(first: FirstPaint) -> str:
    scenarios = _options([(s["name"], f"{s['usage']} ({s['kind']})") for s in catalogue()], "fail")
    return f"""<section aria-labelledby="c-clock"><h2 id="c-clock">Clock</h2>
<form id="advance-form" class="inline">
  <label>Seconds
  <input id="advance-seconds" name="seconds" type="number" min="0" step="any" value="10" required></label>
  <button type="submit">Advance</button>
</form>
<p class="buttons"><button type="button" id="freeze">Freeze</button>
<button type="button" id="unfreeze">Unfreeze</button></p></section>
<section aria-labelledby="c-scenario"><h2 id="c-scenario">Arm a scenario</h2>
<form id="arm-form">
  <label>Scenario <select id="arm-name" name="scenario">{scenarios}</select></label>
  <label>Argument <input id="arm-arg" name="argument" placeholder="e.g. 40 for fail:40" autocomplete="off"></label>
  <label>Count <input id="arm-count" name="count" type="number" min="1" step="1" placeholder="until cleared"></label>
  <label>Prompt regex <input id="arm-regex" name="prompt_regex" autocomplete="off"></label>
  <p class="buttons"><button type="submit">Arm</button>
  <button type="button" id="clear-scenarios">Disarm all</button></p>
</form>
<ul id="armed" class="armed" aria-label="Armed rules">{first.armed}</ul></section>
<section aria-labelledby="c-credits"><h2 id="c-credits">Credits</h2>
<form id="credits-form">
  <label>API key <input id="credits-account" name="account" required autocomplete="off"></label>
  <label>Balance <input id="credits-balance" name="balance" type="number" min="0" step="1" placeholder="unlimited">
  </label>
  <p class="buttons"><button type="submit">Set balance</button></p>
</form></section>
<section aria-labelledby="c-reset"><h2 id="c-reset">Reset</h2>
<p class="buttons"><button type="button" id="reset" class="danger">Reset everything…</button></p></section>"""


def render_page(base: str, view: str, wanted: JobFilter, message_id: str = "", first: FirstPaint | None = None) -> str:
    """The whole page for `view` (a key of `VIEWS`, or ``job`` for one job), under the admin prefix `base`.

    `first` holds the current rows; without it the page is a shell that waits for its event stream.
    """
    first = first or FirstPaint()
    base = _e(base)  # from the server's root_path, never from the client; escaped all the same
    title = f"Job {message_id}" if view == "job" else VIEWS.get(view, "Jobs")
    current = "jobs" if view == "job" else view
    here = ' aria-current="page"'
    links = [(f"{base}/ui" + ("" if name == "jobs" else f"/{name}"), name, label) for name, label in VIEWS.items()]
    nav = "".join(f'<li><a href="{u}"{here if n == current else ""}>{label}</a></li>' for u, n, label in links)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} · flux-mock</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/ui/assets/app.css">
<script src="{base}/ui/assets/app.js" defer></script>
</head>
<body data-base="{base}" data-view="{_e(view)}" data-job="{_e(message_id)}">
<a class="skip" href="#main">Skip to the view</a>
<header>
  <p class="brand"><a href="{base}/ui">flux-mock</a></p>
  <nav aria-label="Views"><ul>{nav}</ul></nav>
  <p class="pills"><span id="clock-now" class="pill">{_e(first.clock or "time …")}</span>
  <span id="live" class="pill" role="status">connecting…</span></p>
</header>
<div class="layout">
<main id="main" tabindex="-1">{_view(view, base, wanted, message_id, first)}</main>
<aside aria-label="Controls">{_controls(first)}</aside>
</div>
<p id="flash" role="status" aria-live="polite"></p>
<dialog id="token-dialog" aria-labelledby="token-title">
<form id="token-form" method="dialog">
  <h2 id="token-title">Admin token</h2>
  <p>This flux-mock runs with <code>--admin-token</code>. It is kept for this tab only (sessionStorage).</p>
  <label>Token <input id="token-input" type="password" required autocomplete="off"></label>
  <p class="buttons"><button type="submit">Use token</button></p>
</form></dialog>
<dialog id="reset-dialog" aria-labelledby="reset-title">
<form method="dialog">
  <h2 id="reset-title">Reset everything?</h2>
  <p>Jobs, the request and webhook journals, armed scenarios, credits and the clock go back to the start.</p>
  <p class="buttons"><button value="cancel" autofocus>Cancel</button>
  <button value="confirm" id="reset-confirm" class="danger">Reset</button></p>
</form></dialog>
<noscript><p>The live views need JavaScript; the admin API works without it: {base}/openapi.yaml</p></noscript>
</body>
</html>
"""
