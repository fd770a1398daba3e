"""QA scenarios: `registry` (name → timing change or wire effect), `engine` (which apply to a request),
`armed` (rules armed through the admin API) and `file` (``--scenarios FILE``)."""
