"""``flux-mock check``: holds a server to the contract. `run` (the engine), `lifecycle/` (real jobs polled to
the end), `probes` (one bad body per rule), `fuzzing` (schemathesis phases), `auth_mode`."""
