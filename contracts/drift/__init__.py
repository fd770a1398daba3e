"""``flux-mock drift``: a recording compared with the mock (`replay`)."""
