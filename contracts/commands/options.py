"""What every kit command shares: the report options (``--junit``) and the one report writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from mock_server import click_options, option

F = TypeVar("F", bound=Callable[..., Any])
HELP = {"help_option_names": ["-h", "--help"]}


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Where a command writes its machine-readable report, besides the text it prints."""

    junit: Path | None = field(default=None, metadata=option("Also write a JUnit XML report here.", metavar="FILE.xml"))


def report_options(func: F) -> F:
    """Add ``--junit`` (declared once, in `ReportOptions`)."""
    return click_options(ReportOptions)(func)


def report_target(junit: str | None) -> Path | None:
    """The ``--junit`` path, checked before the run (nothing spent yet): its folder is made and it is writable."""
    if junit is None:
        return None
    path = Path(junit)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror or exc}.", param_hint="--junit") from None
    return path


def write_report(path: Path | None, render: Callable[[], str]) -> None:
    """Write the JUnit report (when asked for) and say where; a write that fails is a clear error, not a trace."""
    if path is None:
        return
    try:
        path.write_text(render(), encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write the JUnit report {path}: {exc.strerror or exc}.") from None
    click.echo(f"JUnit report written to {path}")
