"""The kit's commands for ``flux-mock``, one module each (`check`, `verify`, `proxy`, `drift`, and `receiver` for
``verify-receiver``), their options generated from the options dataclasses of the engines; `options` holds what
they share (``--junit``)."""
