"""``flux-mock check`` and ``flux-mock verify`` (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

import click


@click.command()
def check() -> None:
    """Check that a server is faithful to the contract (not built yet)."""
    raise click.ClickException("flux-mock check is not implemented yet.")


@click.command()
def verify() -> None:
    """Verify that a client honours the contract (not built yet)."""
    raise click.ClickException("flux-mock verify is not implemented yet.")
