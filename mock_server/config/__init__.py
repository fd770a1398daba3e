"""Layer 3, configuration: `settings` (the one frozen `Settings`; its flags and environment variables are
generated from it) and `rules` (the rule of every setting, run on creation)."""
