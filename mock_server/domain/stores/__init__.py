"""Where state lives: `base` (the `Store` interface, all state that must be one across workers), `memory`
(`MemoryStore`, the default), and the Redis store's pure half: `records` (jobs as JSON) and `scripts` (Lua)."""
