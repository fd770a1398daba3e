"""The package version, in one place (pyproject.toml's version is kept equal by a test)."""

__version__ = "0.1.0"
