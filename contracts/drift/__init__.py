"""``flux-mock drift``: a recording judged on its own, compared with the mock (`replay`) or an older one
(`baseline`)."""
