"""What was seen, kept bounded: `log` (`BoundedLog`), `journal` (the request journal) and `har` (HAR 1.2)."""
