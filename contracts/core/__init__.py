"""The kit's base: `schema` (loaders, validators), `failures`, `rules` (request rules from the spec), `reporting`
(summary, JUnit), `budget` and `calls` (the ``--max-jobs`` guard)."""
