"""The ``flux-mock`` command. Options are generated from `Settings`, so flag, env var and keyword never drift."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar, overload

import click

from mock_server.config.settings import ENV_PREFIX, FLAG_NAMES, Settings, field_type, parse_value
from mock_server.contract.errors import MockServerError
from mock_server.version import __version__

_FLAG_NAMES = FLAG_NAMES


F = TypeVar("F", bound=Callable[..., Any])


@overload
def settings_options(func: F) -> F: ...


@overload
def settings_options(
    func: None = None, *, only: tuple[str, ...] | None = None, defaults: dict[str, Any] | None = None
) -> Callable[[F], F]: ...


def settings_options(
    func: Callable[..., Any] | None = None,
    *,
    only: tuple[str, ...] | None = None,
    defaults: dict[str, Any] | None = None,
) -> Any:
    """Add one option per `Settings` field (or per field named in `only`), with its env var named in the help.

    Other commands (``flux-mock proxy``, ``drift``) take the fields they need this way, so a setting is declared
    once, in `Settings`; `defaults` shows a command's own default (pass the same to `settings_from_cli`).
    """
    if func is None:
        return lambda f: settings_options(f, only=only, defaults=defaults)
    chosen = [f for f in dataclasses.fields(Settings) if only is None or f.name in only]
    unknown = set(only or ()) - {f.name for f in chosen}
    if unknown:
        raise ValueError(f"not Settings fields: {sorted(unknown)}")
    for f in reversed(chosen):
        meta = f.metadata
        flag = _FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
        env = ENV_PREFIX + f.name.upper()
        default = f.default if f.default is not dataclasses.MISSING else None
        default = (defaults or {}).get(f.name, default)
        shown = ", ".join(default) if isinstance(default, tuple) else default
        help_text = f"{meta['help']} [env: {env}; default: {shown if shown not in (None, '') else 'none'}]"
        kind: Any = click.Choice(meta["choices"]) if meta.get("choices") else str
        multiple = field_type(f.name).startswith("tuple")
        option = click.option(
            flag, f.name, type=kind, default=None, multiple=multiple, metavar=meta.get("metavar"), help=help_text
        )
        func = option(func)
    return func


def settings_from_cli(values: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> Settings:
    """Defaults (a command's own), then the environment, then the flags that were given on the command line."""
    overrides: dict[str, Any] = {}
    for name, value in (defaults or {}).items():
        if f"{ENV_PREFIX}{name.upper()}" not in os.environ:
            overrides[name] = value
    for name, value in values.items():
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            overrides[name] = tuple(value)
        else:
            flag = _FLAG_NAMES.get(name, "--" + name.replace("_", "-"))
            overrides[name] = parse_value(name, value, source=flag)
    return Settings.from_env(**overrides)


class _PluginGroup(click.Group):
    """A group that also offers commands registered under the ``flux_mock.commands`` entry-point group.

    The contract kit adds ``check`` and ``verify`` this way, so mock_server never imports contracts.
    """

    def _plugins(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group="flux_mock.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self._plugins():
            loaded = self._plugins()[cmd_name].load()
            command = loaded if isinstance(loaded, click.Command) else None
        return command


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
@settings_options
def serve(**values: Any) -> None:
    """Serve the mock API (uvicorn) until Ctrl+C.

    Every option can also be set as a FLUX_MOCK_<NAME> environment variable.
    """
    from mock_server.run.server import run

    try:
        settings = settings_from_cli(values)
        status = run(settings, echo=lambda text: click.echo(text, err=True))
    except (MockServerError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if status:
        raise SystemExit(status)
