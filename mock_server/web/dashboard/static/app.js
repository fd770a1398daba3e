// flux-mock dashboard: the server renders the current rows into the page (first paint, rows.py); this script
// redraws them from the live feed (Server-Sent Events from /__mock/ui/events), with the same markup, and wires the controls
// to the documented admin API. Hand-written, no build step, no dependencies. Data is only ever put into the
// page as text (textContent), never as HTML.
"use strict";

const base = document.body.dataset.base;
const view = document.body.dataset.view;
const jobId = document.body.dataset.job;
const TOKEN_KEY = "flux-mock-admin-token";
const state = { requests: [], webhooks: [] };
const KEEP = 200; // rows kept per journal view, as the server sends at most

// --- small helpers ------------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);
const seconds = (s) => (s === null || s === undefined ? "–" : `${Number(s).toFixed(1)} s`);
const clockTime = (epoch) => new Date(epoch * 1000).toISOString().slice(11, 23);
const short = (id) => (id ? id.slice(0, 8) + "…" : "–");

function flash(text, isError) {
  const box = $("flash");
  box.textContent = text;
  box.className = "show" + (isError ? " error" : "");
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { box.className = ""; }, isError ? 8000 : 3000);
}

function fill(tbodyId, rows, columns) {
  const body = $(tbodyId);
  if (!body) return;
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: columns, class: "empty", text: "Nothing yet." }))]));
}

// --- the admin token and the admin API ---------------------------------------------------------------------

function headers(json) {
  const sent = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) sent["X-Mock-Admin-Token"] = token;
  if (json) sent["Content-Type"] = "application/json"; // the admin guard refuses other bodies
  return sent;
}

let asking = null;
function askToken() {
  // One dialog at a time; every caller waits for the same answer.
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const dialog = $("token-dialog");
    const form = $("token-form");
    form.addEventListener("submit", () => {
      sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
      asking = null;
      resolve();
    }, { once: true });
    dialog.showModal();
    $("token-input").focus();
  });
  return asking;
}

async function api(method, path, body) {
  // One documented admin route (admin_openapi.yaml); a JSON error's message is shown as it is.
  for (let attempt = 0; attempt < 3; attempt++) {
    const response = await fetch(base + path, {
      method,
      headers: headers(true),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) { await askToken(); continue; }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const message = data && data.message ? [].concat(data.message).join("; ") : response.statusText;
      throw new Error(`${method} ${base}${path}: ${response.status} ${message}`);
    }
    return data;
  }
  throw new Error("The admin token was refused three times; check the --admin-token the server runs with.");
}

async function control(label, method, path, body) {
  try {
    await api(method, path, body);
    flash(label);
  } catch (error) {
    flash(error.message, true);
  }
}

// --- the live feed: SSE over fetch, so the token can go in a header (EventSource cannot send one) -------------

let retryMs = 1000;
async function follow() {
  const query = new URLSearchParams(location.search);
  if (jobId) query.set("job", jobId);
  const live = $("live");
  try {
    const response = await fetch(`${base}/ui/events?${query}`, { headers: headers(false), cache: "no-store" });
    if (response.status === 401) { await askToken(); return follow(); }
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      throw new Error(data && data.message ? data.message : `feed answered ${response.status}`);
    }
    live.textContent = "live";
    live.className = "pill live";
    retryMs = 1000;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    setTimeout(follow, 0); // the server ends a stream every so often; pick up again at once
  } catch (error) {
    live.textContent = "reconnecting…";
    live.className = "pill down";
    live.title = error.message;
    setTimeout(follow, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  }
}

function dispatch(frame) {
  let event = "message";
  let data = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return;
  const handler = HANDLERS[event];
  if (handler) handler(JSON.parse(data));
}

function keep(name, batch) {
  state[name] = batch.reset ? batch.entries.slice() : state[name].concat(batch.entries);
  state[name] = state[name].slice(-KEEP);
}

const HANDLERS = {
  health(h) {
    $("clock-now").textContent = `${h.now}${h.frozen ? " (frozen)" : ""}`;
    const armed = $("armed");
    armed.replaceChildren(...h.armed.map((r) =>
      el("li", {}, el("code", { text: r.scenario }), ` ${r.remaining === null ? "until cleared" : r.remaining + " left"}`,
        r.prompt_regex ? ` for prompts /${r.prompt_regex}/` : "", ` (${r.scope})`)));
    if (view === "health") drawHealth(h);
  },
  jobs(j) {
    if (view !== "jobs") return;
    $("jobs-count").textContent = `${j.rows.length} shown of ${j.total} job(s)` +
      (j.rows.length === j.limit ? ` (the newest ${j.limit} that match)` : "");
    fill("jobs-body", j.rows.map(jobRow), 8);
  },
  job: drawJob,
  requests(batch) {
    keep("requests", batch);
    if (view === "requests") fill("requests-body", requestRows(state.requests.slice().reverse()), 9);
  },
  webhooks(batch) {
    keep("webhooks", batch);
    if (view === "webhooks") fill("webhooks-body", state.webhooks.slice().reverse().map(webhookRow), 10);
  },
  reconnect() {},
};

// --- views ---------------------------------------------------------------------------------------------------

function statusCells(status, progress) {
  return [el("td", {}, el("span", { class: `status s-${status}`, text: status })),
    el("td", {}, el("progress", { max: 100, value: progress, "aria-label": `${progress} %` }), ` ${progress} %`)];
}

function jobRow(job) {
  return el("tr", { "data-id": job.messageId, "data-status": job.status, "data-progress": job.progress },
    el("td", {}, el("a", { href: `${base}/ui/jobs/${encodeURIComponent(job.messageId)}`, class: "id", text: job.messageId })),
    ...statusCells(job.status, job.progress),
    el("td", { text: job.kind }),
    el("td", { class: "id", text: job.account || "–" }),
    el("td", { text: (job.scenario || "") + (job.forced ? " (forced)" : "") }),
    el("td", { text: seconds(job.age) }),
    el("td", { text: seconds(job.deadlineIn) }));
}

function requestRows(entries) {
  const rows = [];
  for (const e of entries) {
    const bad = e.violations.length > 0;
    rows.push(el("tr", { class: bad ? "violation" : null, "data-seq": e.seq },
      el("td", { text: e.seq }), el("td", { text: clockTime(e.at) }),
      el("td", { class: "id", text: `${e.method} ${e.path}${e.query ? "?" + e.query : ""}` }),
      el("td", { class: e.status >= 400 || e.status === 0 ? "bad" : null, text: e.status }),
      el("td", { text: e.operationId || "–" }),
      el("td", {}, e.messageId ? el("a", { href: `${base}/ui/jobs/${encodeURIComponent(e.messageId)}`, class: "id", text: short(e.messageId) }) : "–"),
      el("td", { class: "id", text: e.account || "–" }),
      el("td", { text: e.tags.join(", ") }), el("td", { text: e.durationMs })));
    if (bad) {
      rows.push(el("tr", { class: "detail" }, el("td", { colspan: 9 }, el("ul", {}, ...e.violations.map((v) =>
        el("li", {}, el("code", { text: v.pointer || "(root)" }), ` ${v.message}`,
          "value" in v ? ` (value: ${JSON.stringify(v.value)})` : "", " Hint: ", v.hint))))));
    }
  }
  return rows;
}

function webhookRow(a) {
  const answer = a.error || (a.status && a.status >= 300 ? `${a.status}: ${a.response || ""}` : a.response || "");
  return el("tr", { "data-seq": a.seq, "data-outcome": a.outcome, "data-attempt": a.attempt === null ? "" : a.attempt },
    el("td", { text: a.seq }), el("td", { text: clockTime(a.at) }),
    el("td", {}, el("a", { href: `${base}/ui/jobs/${encodeURIComponent(a.messageId)}`, class: "id", text: short(a.messageId) })),
    el("td", { text: a.event }), el("td", { text: a.attempt === null ? "not sent" : a.attempt }),
    el("td", { class: `o-${a.outcome}`, text: a.outcome }), el("td", { text: a.status === null ? "–" : a.status }),
    el("td", { text: `${a.latencyMs} ms` }), el("td", { text: a.retryInS === null ? "–" : `in ${seconds(a.retryInS)}` }),
    el("td", { class: "wrap", text: answer || "–" }));
}

function facts(target, pairs) {
  target.replaceChildren(...pairs.flatMap(([name, value]) =>
    [el("dt", { text: name }), el("dd", {}, value instanceof Node ? value : String(value))]));
}

function drawJob(job) {
  const summary = $("job-summary");
  if (job.missing) {
    facts(summary, [["Status", `No job has messageId ${job.messageId} (yet). After a reset the ids start again.`]]);
    return;
  }
  facts(summary, [
    ["Status", el("span", { id: "job-status", "data-status": job.status, "data-progress": job.progress },
      el("span", { class: `status s-${job.status}`, text: job.status }), " ",
      el("progress", { max: 100, value: job.progress, "aria-label": `${job.progress} %` }), ` ${job.progress} %`)],
    ["Error", job.error || "–"], ["Kind", job.kind], ["Account", job.account || "–"], ["Prompt", job.prompt || "–"],
    ["Scenario", job.scenario || "–"], ["Forced", job.forced ? "yes (Release follows the plan again)" : "no"],
    ["Images", job.n], ["Timeout", `${job.timeout} s`], ["Webhook", job.webhookUrl || "–"],
  ]);
  $("job-timeline").replaceChildren(...job.timeline.map((t) =>
    el("li", { class: t.in !== null && t.in <= 0 ? "past" : null }, el("strong", { text: t.step }), " ",
      t.at || "never", " ", el("span", { class: "muted", text: t.in === null ? "" : t.in <= 0 ? `(${seconds(-t.in)} ago)` : `(in ${seconds(t.in)})` }))));
  const images = $("job-images");
  if (job.images.length) {
    images.replaceChildren(...job.images.map((url, i) =>
      el("a", { href: url }, el("img", { src: url, alt: `Image ${i + 1} of job ${job.messageId}`, loading: "lazy" }))));
  }
  fill("job-requests", requestRows(job.requests.slice().reverse()), 9);
  fill("job-webhooks", job.webhooks.slice().reverse().map(webhookRow), 10);
}

function rateLimit(r) {
  // As rows.rate_limit: with the limiter off, the documented windows are what --rate-limit documented would apply.
  const windows = Object.entries(r.windows).map(([name, w]) => `${name} ${w.limit} per ${w.seconds} s`).join(", ");
  return r.mode === "off" ? `off: no limits applied (--rate-limit documented would apply ${windows})` : `${r.mode}: ${windows}`;
}

function drawHealth(h) {
  facts($("health"), [
    ["Mock time", h.now], ["Clock", `${h.clock}${h.frozen ? ", frozen" : ", running"}; advanced ${h.offset} s`],
    ["Seed", h.seed], ["Jobs", h.jobs], ["Requests journalled", h.requests],
    ["Webhook attempts", `${h.webhookAttempts} (${h.webhooksPending} pending, ${h.webhooksInFlight} in flight)`],
    ["Armed rules", h.armed.length], ["API keys", h.anyKey ? "any non-empty key is accepted" : "only --api-key keys"],
    ["Rate limit", rateLimit(h.rateLimit)],
    ["Version", h.version],
  ]);
}

// --- controls: each one documented admin route ---------------------------------------------------------------

function on(id, event, handler) {
  const node = $(id);
  if (node) node.addEventListener(event, (e) => { if (event === "submit") e.preventDefault(); handler(e); });
}

on("advance-form", "submit", () => {
  const value = Number($("advance-seconds").value);
  control(`Clock advanced ${value} s`, "POST", "/clock/advance", { seconds: value });
});
on("freeze", "click", () => control("Clock frozen", "POST", "/clock/freeze"));
on("unfreeze", "click", () => control("Clock running", "POST", "/clock/unfreeze"));
on("arm-form", "submit", () => {
  const arg = $("arm-arg").value.trim();
  const body = { scenario: $("arm-name").value + (arg ? `:${arg}` : "") };
  if ($("arm-count").value) body.count = Number($("arm-count").value);
  if ($("arm-regex").value) body.prompt_regex = $("arm-regex").value;
  control(`Armed ${body.scenario}`, "POST", "/scenarios", body);
});
on("clear-scenarios", "click", () => control("Every rule disarmed", "DELETE", "/scenarios"));
on("credits-form", "submit", () => {
  const balance = $("credits-balance").value;
  const account = $("credits-account").value;
  control(`Balance of ${account} set`, "POST", "/credits", { account, balance: balance === "" ? null : Number(balance) });
});
on("force-form", "submit", () => {
  const body = { status: $("force-status").value };
  if ($("force-progress").value !== "") body.progress = Number($("force-progress").value);
  if ($("force-error").value) body.error = $("force-error").value;
  control(`Forced ${body.status}`, "POST", `/jobs/${encodeURIComponent(jobId)}/force`, body);
});
on("release", "click", () => control("Released: the job follows its plan", "DELETE", `/jobs/${encodeURIComponent(jobId)}/force`));
on("reset", "click", () => {
  const dialog = $("reset-dialog");
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") control("Everything reset", "POST", "/reset");
  }, { once: true });
  dialog.returnValue = "";
  dialog.showModal();
});

follow();
