"""Layer 2, the pure domain: no web framework, no HTTP client, time only from the injected `Clock`.

`lifecycle` (the job state machine), `jobs`, `operations`, `kinds/` (the job-kind table), `messages` (the one
Message renderer), `validation`, `media/`, `scenarios/`, `records/` (bounded logs, the journal, HAR), `webhooks/`
(what a delivery is) and `stores/` (the `Store` interface and its in-memory form)."""
