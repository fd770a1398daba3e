"""The dashboard's rows as HTML, rendered on the server for the first paint.

The page's first answer carries the current rows (jobs, requests, webhooks, health, one job), built here from
the same view dicts the event stream sends (`views`); ``static/app.js`` then redraws them from the stream with
the same markup (the same ``data-*`` attributes and classes), so a page that never connects still shows what
the mock held when it was served.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import quote

from mock_server.domain.messages import format_timestamp

DASH = "\u2013"  # what an empty cell shows, as app.js does


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _seconds(value: float | None) -> str:
    return DASH if value is None else f"{float(value):.1f} s"


def _clock(epoch: float) -> str:
    # What app.js's clockTime shows: HH:MM:SS.mmm, UTC.
    return format_timestamp(epoch, "ms-z")[11:23]


def _short(message_id: str | None) -> str:
    return message_id[:8] + "…" if message_id else DASH


def _job_link(base: str, message_id: str, text: str) -> str:
    return f'<a href="{base}/ui/jobs/{quote(message_id, safe="")}" class="id">{_e(text)}</a>'


def empty(columns: int, text: str = "Nothing yet.") -> str:
    """The one row a table shows when it has none."""
    return f'<tr><td colspan="{columns}" class="empty">{_e(text)}</td></tr>'


def _status(status: str, progress: int) -> str:
    return (
        f'<td><span class="status s-{_e(status)}">{_e(status)}</span></td>'
        f'<td><progress max="100" value="{progress}" aria-label="{progress} %"></progress> {progress} %</td>'
    )


def job_rows(base: str, view: dict[str, Any]) -> str:
    """The jobs table's body (8 columns) from `views.jobs_view`."""
    rows = []
    for job in view["rows"]:
        scenario = (job["scenario"] or "") + (" (forced)" if job["forced"] else "")
        rows.append(
            f'<tr data-id="{_e(job["messageId"])}" data-status="{_e(job["status"])}" '
            f'data-progress="{job["progress"]}"><td>{_job_link(base, job["messageId"], job["messageId"])}</td>'
            f"{_status(job['status'], job['progress'])}<td>{_e(job['kind'])}</td>"
            f'<td class="id">{_e(job["account"] or DASH)}</td><td>{_e(scenario)}</td>'
            f"<td>{_seconds(job['age'])}</td><td>{_seconds(job['deadlineIn'])}</td></tr>"
        )
    return "".join(rows) or empty(8)


def jobs_count(view: dict[str, Any]) -> str:
    """The line above the jobs table: how many are shown of how many."""
    shown = len(view["rows"])
    more = f" (the newest {view['limit']} that match)" if shown == view["limit"] else ""
    return f"{shown} shown of {view['total']} job(s){more}"


def request_rows(base: str, entries: Iterable[dict[str, Any]]) -> str:
    """Request-journal rows (9 columns), newest first as given, each violation on a detail row."""
    rows = []
    for e in entries:
        bad = bool(e["violations"])
        target = f"{e['method']} {e['path']}" + (f"?{e['query']}" if e["query"] else "")
        status_class = ' class="bad"' if e["status"] >= 400 or e["status"] == 0 else ""
        job = _job_link(base, e["messageId"], _short(e["messageId"])) if e["messageId"] else DASH
        violation = ' class="violation"'
        rows.append(
            f'<tr{violation if bad else ""} data-seq="{e["seq"]}"><td>{e["seq"]}</td>'
            f'<td>{_clock(e["at"])}</td><td class="id">{_e(target)}</td><td{status_class}>{e["status"]}</td>'
            f"<td>{_e(e['operationId'] or DASH)}</td><td>{job}</td>"
            f'<td class="id">{_e(e["account"] or DASH)}</td><td>{_e(", ".join(e["tags"]))}</td>'
            f"<td>{e['durationMs']}</td></tr>"
        )
        if bad:
            items = "".join(
                f"<li><code>{_e(v.get('pointer') or '(root)')}</code> {_e(v['message'])}"
                + (f" (value: {_e(_json(v['value']))})" if "value" in v else "")
                + f" Hint: {_e(v.get('hint', ''))}</li>"
                for v in e["violations"]
            )
            rows.append(f'<tr class="detail"><td colspan="9"><ul>{items}</ul></td></tr>')
    return "".join(rows) or empty(9)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def webhook_answer(a: dict[str, Any]) -> str:
    """What a webhook attempt's last column says: the error, or the receiver's status and answer."""
    if a["error"]:
        return str(a["error"])
    if a["status"] and a["status"] >= 300:
        return f"{a['status']}: {a['response'] or ''}"
    return str(a["response"] or "") or DASH


def webhook_rows(base: str, attempts: Iterable[dict[str, Any]]) -> str:
    """Webhook-attempt rows (10 columns), newest first as given."""
    rows = []
    for a in attempts:
        attempt = "not sent" if a["attempt"] is None else a["attempt"]
        link = _job_link(base, a["messageId"], _short(a["messageId"]))
        retry = DASH if a["retryInS"] is None else f"in {_seconds(a['retryInS'])}"
        rows.append(
            f'<tr data-seq="{a["seq"]}" data-outcome="{_e(a["outcome"])}" data-attempt="{_e(a["attempt"] or "")}">'
            f"<td>{a['seq']}</td><td>{_clock(a['at'])}</td><td>{link}</td><td>{_e(a['event'])}</td><td>{_e(attempt)}</td>"
            f'<td class="o-{_e(a["outcome"])}">{_e(a["outcome"])}</td>'
            f"<td>{DASH if a['status'] is None else a['status']}</td><td>{a['latencyMs']} ms</td><td>{retry}</td>"
            f'<td class="wrap">{_e(webhook_answer(a))}</td></tr>'
        )
    return "".join(rows) or empty(10)


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list's items; values are already HTML."""
    return "".join(f"<dt>{_e(name)}</dt><dd>{value}</dd>" for name, value in pairs)


def rate_limit(view: dict[str, Any]) -> str:
    """The health view's rate-limit line: what applies, never an inactive limit that reads as if it applied."""
    windows = ", ".join(f"{n} {w['limit']} per {w['seconds']} s" for n, w in view["windows"].items())
    if view["mode"] == "off":
        return f"off: no limits applied (--rate-limit documented would apply {windows})"
    return f"{view['mode']}: {windows}"


def health_facts(h: dict[str, Any]) -> str:
    """The health view's facts, from `views.health_view`."""
    clock = f"{h['clock']}{', frozen' if h['frozen'] else ', running'}; advanced {h['offset']} s"
    hooks = f"{h['webhookAttempts']} ({h['webhooksPending']} pending, {h['webhooksInFlight']} in flight)"
    keys = "any non-empty key is accepted" if h["anyKey"] else "only --api-key keys"
    pairs = [
        ("Mock time", h["now"]),
        ("Clock", clock),
        ("Seed", h["seed"]),
        ("Jobs", h["jobs"]),
        ("Requests journalled", h["requests"]),
        ("Webhook attempts", hooks),
        ("Armed rules", len(h["armed"])),
        ("API keys", keys),
        ("Rate limit", rate_limit(h["rateLimit"])),
        ("Version", h["version"]),
    ]
    return facts((name, _e(value)) for name, value in pairs)


def armed_items(h: dict[str, Any]) -> str:
    """The armed scenario rules, one ``<li>`` each."""
    items = []
    for r in h["armed"]:
        left = "until cleared" if r["remaining"] is None else f"{r['remaining']} left"
        regex = f" for prompts /{_e(r['prompt_regex'])}/" if r.get("prompt_regex") else ""
        items.append(f"<li><code>{_e(r['scenario'])}</code> {left}{regex} ({_e(r['scope'])})</li>")
    return "".join(items)


def clock_pill(h: dict[str, Any]) -> str:
    """The header's mock-time pill text."""
    return f"{h['now']}{' (frozen)' if h['frozen'] else ''}"


def job_summary(job: dict[str, Any]) -> str:
    """One job's facts, from `views.job_detail`."""
    if job["missing"]:
        return facts(
            [("Status", _e(f"No job has messageId {job['messageId']} (yet). After a reset the ids start again."))]
        )
    status = (
        f'<span id="job-status" data-status="{_e(job["status"])}" data-progress="{job["progress"]}">'
        f'<span class="status s-{_e(job["status"])}">{_e(job["status"])}</span> '
        f'<progress max="100" value="{job["progress"]}" aria-label="{job["progress"]} %"></progress> '
        f"{job['progress']} %</span>"
    )
    pairs = [
        ("Error", job["error"] or DASH),
        ("Kind", job["kind"]),
        ("Account", job["account"] or DASH),
        ("Prompt", job["prompt"] or DASH),
        ("Scenario", job["scenario"] or DASH),
        ("Forced", "yes (Release follows the plan again)" if job["forced"] else "no"),
        ("Images", job["n"]),
        ("Timeout", f"{job['timeout']} s"),
        ("Webhook", job["webhookUrl"] or DASH),
    ]
    return facts([("Status", status), *((n, _e(v)) for n, v in pairs)])


def timeline(job: dict[str, Any]) -> str:
    """One job's plan as ``<li>`` steps."""
    items = []
    for t in job.get("timeline", []):
        past = ' class="past"' if t["in"] is not None and t["in"] <= 0 else ""
        when = "" if t["in"] is None else f"({_seconds(-t['in'])} ago)" if t["in"] <= 0 else f"(in {_seconds(t['in'])})"
        at = _e(t["at"] or "never")
        items.append(f'<li{past}><strong>{_e(t["step"])}</strong> {at} <span class="muted">{when}</span></li>')
    return "".join(items)


def images(job: dict[str, Any]) -> str:
    """One job's image thumbnails, or the note that there are none yet."""
    if not job.get("images"):
        return '<p class="muted">None yet: images appear when the job is DONE.</p>'
    return "".join(
        f'<a href="{_e(url)}"><img src="{_e(url)}" alt="Image {i} of job {_e(job["messageId"])}" loading="lazy"></a>'
        for i, url in enumerate(job["images"], 1)
    )
