"""Click options generated from an options dataclass's declarations (`mock_server.config.options`).

One generator for every command: ``serve`` (from `Settings`), and the kit's ``check``, ``verify``, ``proxy`` and
``drift`` (from their own dataclasses, through the public `click_options` and `cli_values`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from mock_server.config.options import (
    Option,
    annotation,
    declared,
    env_name,
    field_named,
    flag_name,
    is_list,
    option_of,
    parse_text,
)
from mock_server.contract.errors import SettingsError, did_you_mean

F = TypeVar("F", bound=Callable[..., Any])


def click_options(
    cls: type,
    *,
    only: tuple[str, ...] | None = None,
    defaults: Mapping[str, Any] | None = None,
    env_prefix: str | None = None,
) -> Callable[[F], F]:
    """A decorator adding one click option per declared field of `cls` (or per field named in `only`).

    Values reach the command as text (or a tuple of texts for a repeatable flag, or None when not given); turn them
    into keywords with `cli_values`, which parses them the way environment variables are parsed. `defaults`
    shows a command's own defaults in the help; `env_prefix` names the variables the help mentions (``FLUX_MOCK_``
    for `Settings`, read by ``Settings.from_env``). A variable an option declares itself (``env=``) is read here.
    """

    def decorate(func: F) -> F:
        for spec in reversed(declared(cls, only)):
            func = _option(spec, defaults or {}, env_prefix)(func)
        return func

    return decorate


def cli_values(
    cls: type, values: Mapping[str, Any], *, env_prefix: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Keywords for `cls` from what click gave: flags not given are left out; text is parsed and checked.

    An option declared with ``needs=`` must come with the option it needs (its flag, or its environment variable
    under `env_prefix`, read from `environ`, default ``os.environ``).

    Raises:
        click.UsageError: naming the flag, for a value that does not parse or an option given without the one it
            needs (exit 2).
    """
    found: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == ():
            continue
        spec = field_named(cls, name)
        try:
            found[name] = _parsed(spec, value)
        except SettingsError as exc:
            raise click.UsageError(str(exc)) from None
    _check_needs(cls, found, env_prefix, os.environ if environ is None else environ)
    return found


def _check_needs(cls: type, found: Mapping[str, Any], env_prefix: str | None, environ: Mapping[str, str]) -> None:
    for name in found:
        spec = field_named(cls, name)
        needs = (option_of(spec) or Option("")).needs
        if needs is None or needs in found:
            continue
        needed = field_named(cls, needs)
        env = env_name(needed, env_prefix)
        if env is not None and environ.get(env):
            continue
        via = f" (or {env})" if env else ""
        raise click.UsageError(
            f"{flag_name(spec)} only applies with {flag_name(needed)}{via}, which was not given: add "
            f"{flag_name(needed)}, or drop {flag_name(spec)} (it would be ignored)."
        )


def _parsed(spec: dataclasses.Field[Any], value: Any) -> Any:
    source = flag_name(spec)
    if isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        items = tuple(parse_text(spec, item, source=source) if not is_list(spec) else item for item in value)
        return frozenset(items) if annotation(spec).startswith("frozenset") else items
    return parse_text(spec, value, source=source)


def _option(spec: dataclasses.Field[Any], defaults: Mapping[str, Any], env_prefix: str | None) -> Callable[[F], F]:
    declared_option = option_of(spec)
    assert declared_option is not None  # declared() keeps only fields with an option
    flag = flag_name(spec)
    env = env_name(spec, env_prefix)
    default = defaults.get(spec.name, _default(spec))
    help_text = f"{declared_option.help} [{_bracket(env, default, declared_option)}]"
    names = [f"{flag}/--no-{flag[2:]}" if annotation(spec) == "bool" else flag]
    if declared_option.short:
        names.insert(0, declared_option.short)
    # A list in one value (a,b) is checked item by item when parsed; click.Choice would judge the whole text.
    listed = declared_option.separator is not None
    kind: Any = _Choice(declared_option.choices) if declared_option.choices and not listed else str
    details: dict[str, Any] = {"default": None, "metavar": declared_option.metavar, "help": help_text}
    if annotation(spec) == "bool":
        details.pop("metavar")
        kind = bool
    if declared_option.env:
        details["envvar"] = declared_option.env
    multiple = is_list(spec) and declared_option.separator is None
    return click.option(*names, spec.name, type=kind, multiple=multiple, required=declared_option.required, **details)


class _Choice(click.Choice):  # type: ignore[type-arg]
    """click's choice, whose refusal also says which choice was probably meant."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            raise click.BadParameter(f"{exc.message}{hint}", ctx=ctx, param=param) from None


def _default(spec: dataclasses.Field[Any]) -> Any:
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return None


def _bracket(env: str | None, default: Any, declared_option: Option) -> str:
    if isinstance(default, frozenset):  # shown in the order of the choices, so help reads the same every time
        shown = ",".join(
            sorted(
                default,
                key=lambda v: (
                    v not in declared_option.choices,
                    declared_option.choices.index(v) if v in declared_option.choices else 0,
                    v,
                ),
            )
        )
    elif isinstance(default, tuple | list):
        shown = ",".join(default)
    elif isinstance(default, Mapping):
        shown = ",".join(f"{k}={v}" for k, v in default.items())
    elif isinstance(default, bool):
        shown = "on" if default else "off"
    else:
        shown = default
    parts = [f"env: {env}"] if env else []
    if not declared_option.required:  # click itself says [required]
        parts.append(f"default: {shown if shown not in (None, '') else 'none'}")
    return "; ".join(parts)
