"""The kit's commands for ``flux-mock``: `kit` (``check``, ``verify``) and `recording` (``proxy``, ``drift``)."""
