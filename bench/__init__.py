"""Benchmarks for flux-mock (see bench/README.md); not part of the installed package."""
