"""The ``flux-mock`` command. Options are generated from `Settings`, so flag, env var and keyword never drift."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mock_server.config.settings import ENV_PREFIX, Settings
from mock_server.contract.errors import MockServerError, SettingsError
from mock_server.run.options import cli_values, click_options
from mock_server.version import __version__


def settings_options(
    *, only: tuple[str, ...] | None = None, defaults: dict[str, Any] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One option per `Settings` field (or per field named in `only`), with its ``FLUX_MOCK_*`` variable in the help.

    ``serve`` takes them all; the kit's ``proxy`` and ``drift`` take the ones they need, so a setting is declared once.
    `defaults` shows a command's own defaults (pass the same to ``Settings.from_cli``).
    """
    return click_options(Settings, only=only, defaults=defaults, env_prefix=ENV_PREFIX)


class _PluginGroup(click.Group):
    """A group that also offers commands registered under the ``flux_mock.commands`` entry-point group.

    The contract kit adds ``check`` and ``verify`` this way, so mock_server never imports contracts.
    """

    def _plugins(self) -> dict[str, Any]:
        from importlib.metadata import entry_points  # ~30 ms: only for a command that is not built in

        return {ep.name: ep for ep in entry_points(group="flux_mock.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``; a plugin's line is read from its source, so listing imports nothing."""
        plugins = self._plugins()
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)  # as click's
        rows = []
        for name in names:
            command = super().get_command(ctx, name)
            if command is not None:
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=limit)))
            elif name in plugins:
                rows.append((name, _short_help(plugins[name].value, limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self._plugins():
            loaded = self._plugins()[cmd_name].load()
            command = loaded if isinstance(loaded, click.Command) else None
        return command


def _short_help(target: str, limit: int) -> str:
    """The first sentence of the docstring of `target` ("package.module:function"), read without importing it."""
    module, _, name = target.partition(":")
    try:
        spec = importlib.util.find_spec(module)
        source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                doc = ast.get_docstring(node) or ""
                return click.Command(name, help=doc).get_short_help_str(limit)  # as click shortens it
    except (ImportError, OSError, SyntaxError, ValueError):
        pass
    return ""


@click.group(cls=_PluginGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flux-mock")
@click.pass_context
def main(ctx: click.Context) -> None:
    """flux-mock: an offline twin of ImaginePro's Flux image API, plus a contract-testing kit.

    Without a command it runs `serve` with its defaults.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@main.command()
@settings_options()
def serve(**values: Any) -> None:
    """Serve the mock API (uvicorn) until Ctrl+C.

    Every option can also be set as a FLUX_MOCK_<NAME> environment variable.
    """
    from mock_server.run.server import run

    try:
        settings = Settings.from_cli(cli_values(Settings, values, env_prefix=ENV_PREFIX))
    except SettingsError as exc:  # a value no flag or variable may have: a usage error, as click's own (exit 2)
        raise click.UsageError(str(exc)) from None
    _check_recordings(settings)
    try:
        status = run(settings, echo=lambda text: click.echo(text, err=True))
    except (MockServerError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if status:
        raise SystemExit(status)


def _check_recordings(settings: Settings) -> None:
    """A --replay or --pace-from file that cannot be read: a usage error naming the flag (exit 2), like a bad value."""
    given = [("--replay", settings.replay)] if settings.replay else []
    checked = [*given, *(("--pace-from", p) for p in settings.pace_from)]
    if not checked:
        return  # the HAR reader is not imported at all (start-up)
    from mock_server.domain.records.har import HarError, read_recording

    for flag, path in checked:
        try:
            read_recording(path)
        except HarError as exc:
            raise click.UsageError(f"{flag} {path}: {exc}") from None
