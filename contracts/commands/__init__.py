"""The kit's commands for ``flux-mock``, one module each (`check`, `verify`, `proxy`, `drift`), their options
generated from the options dataclasses of the engines; `options` holds what they share (``--junit``)."""
