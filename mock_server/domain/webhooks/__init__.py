"""What a webhook delivery is, without sending one: `events` (the instants a job's state changes), `retry`,
`signing` (Standard Webhooks), `targets` (the allow-list), `faults`, `journal` (every attempt) and `spool`."""
