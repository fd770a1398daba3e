"""Options declared once, on the field of an options dataclass: help, flag, metavar, choices, range, environment.

Every command of ``flux-mock`` (``serve`` from `Settings`, the kit's ``check``, ``verify``, ``proxy``, ``drift``
from their own options dataclasses) generates its flags from these declarations (`mock_server.run.options`), so
a flag, its help, its environment variable and the keyword never drift apart. Parsing text (a flag's or a
variable's value) happens here, with the same words everywhere: a preset such as ``realistic`` for
``--job-seconds`` works on every command that has the option.

Example:
    @dataclass(frozen=True)
    class Options:
        rate: float = field(default=1.0, metadata=option("Requests per second.", metavar="N", minimum=0))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.contract.errors import SettingsError, did_you_mean

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Option:
    """How one field appears on a command line.

    Attributes:
        help: one sentence or two; the generated help adds the environment variable and the default.
        metavar: the placeholder shown in help, e.g. ``SECONDS``.
        choices: the only values accepted (a did-you-mean names the closest otherwise).
        flag: the flag when it is not ``--`` + the field name with dashes (a repeatable flag is singular).
        short: a one-letter alias such as ``-v``.
        env: an environment variable the command line reads for this option (besides any prefix's).
        separator: the field is a list given in one value, split on this (``a,b,c``); without it a list field
            is a repeatable flag.
        presets: words that stand for values, e.g. ``("realistic", 12.0)``.
        minimum: the smallest value accepted; with `above`, values must be greater.
        maximum: the largest value accepted.
        above: `minimum` itself is refused.
        required: the command line must give it.
        cli: False for a field no command line sets (set by code only).
        needs: the field of the option this one only makes sense with (``redact`` needs ``record``): giving it
            without that one is a usage error naming both flags.
    """

    help: str
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    flag: str | None = None
    short: str | None = None
    env: str | None = None
    separator: str | None = None
    presets: tuple[tuple[str, Any], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    above: bool = False
    required: bool = False
    cli: bool = True
    needs: str | None = None


def option(help: str, **details: Any) -> Mapping[str, Option]:
    """Field metadata declaring an option: ``field(default=..., metadata=option("help", metavar="N"))``."""
    return {"option": Option(help, **details)}


def option_of(spec: dataclasses.Field[Any]) -> Option | None:
    """The option a field declares, if any."""
    found = spec.metadata.get("option")
    return found if isinstance(found, Option) else None


def declared(cls: type, only: tuple[str, ...] | None = None) -> list[dataclasses.Field[Any]]:
    """The fields of `cls` that declare a command-line option, in declaration order (or those named in `only`)."""
    chosen = [f for f in dataclasses.fields(cls) if (o := option_of(f)) is not None and o.cli]
    if only is not None:
        unknown = sorted(set(only) - {f.name for f in chosen})
        if unknown:
            raise ValueError(f"{cls.__name__} declares no option {unknown}")
        chosen = [f for f in chosen if f.name in only]
    return chosen


def flag_name(spec: dataclasses.Field[Any]) -> str:
    """The one naming rule: the declared flag, else ``--`` and the field name with dashes."""
    declared_option = option_of(spec)
    if declared_option is not None and declared_option.flag:
        return declared_option.flag
    return "--" + spec.name.replace("_", "-")


def env_name(spec: dataclasses.Field[Any], prefix: str | None) -> str | None:
    """The environment variable of a field: the declared one, else `prefix` and the field name in capitals."""
    declared_option = option_of(spec)
    if declared_option is not None and declared_option.env:
        return declared_option.env
    return None if prefix is None else prefix + spec.name.upper()


def field_named(cls: type, name: str) -> dataclasses.Field[Any]:
    """One field of an options dataclass, by name."""
    fields: Mapping[str, dataclasses.Field[Any]] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return fields[name]


def annotation(spec: dataclasses.Field[Any]) -> str:
    """The field's annotation as text, without ``| None`` (annotations are strings under PEP 563)."""
    return str(spec.type).removesuffix(" | None")


def is_list(spec: dataclasses.Field[Any]) -> bool:
    """Whether the field holds several values (a tuple, a frozenset or a mapping)."""
    return annotation(spec).startswith(("tuple", "frozenset", "Mapping", "dict"))


def parse_text(spec: dataclasses.Field[Any], raw: str, *, source: str) -> Any:
    """Parse one value given as text (a flag's or a variable's), naming `source` when it does not parse."""
    declared_option = option_of(spec) or Option(help="")
    kind = annotation(spec)
    presets = dict(declared_option.presets)
    if raw in presets:
        return presets[raw]
    if is_list(spec) and not kind.startswith(("Mapping", "dict")):
        parts = tuple(p.strip() for p in raw.split(declared_option.separator or ",") if p.strip())
        for part in parts:
            _check_choice(declared_option, part, source)
        return frozenset(parts) if kind.startswith("frozenset") else parts
    value = _scalar(kind, raw, source, presets)
    _check_choice(declared_option, raw, source)
    _check_range(declared_option, value, source)
    return value


def check_value(spec: dataclasses.Field[Any], value: Any, *, source: str) -> None:
    """Hold a value given as a keyword (not text) to the declared choices and range."""
    declared_option = option_of(spec)
    if declared_option is None or value is None:
        return
    if isinstance(value, str):
        _check_choice(declared_option, value, source)
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_range(declared_option, value, source)


_SCALARS: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "Path": Path}


def _scalar(kind: str, raw: str, source: str, presets: Mapping[str, Any]) -> Any:
    if kind == "bool":
        word = raw.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise SettingsError(
                f"{source} has value {raw!r}; use one of {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}."
            )
        return word in TRUE_WORDS
    convert = _SCALARS.get(kind)
    if convert is None:
        return raw
    try:
        return convert(raw)
    except ValueError:
        words = f" or one of {', '.join(presets)}" if presets else ""
        example = "a whole number" if kind == "int" else "a number"
        raise SettingsError(f"{source} has value {raw!r}, which is not {example}{words}.") from None


def _check_choice(declared_option: Option, value: str, source: str) -> None:
    if declared_option.choices and value not in declared_option.choices:
        raise SettingsError(
            f"{source} has value {value!r}; use one of {', '.join(declared_option.choices)}."
            f"{did_you_mean(value, declared_option.choices)}"
        )


def _check_range(declared_option: Option, value: float, source: str) -> None:
    low, high = declared_option.minimum, declared_option.maximum
    too_low = low is not None and (value <= low if declared_option.above else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        if low is not None and high is not None:
            wanted = (
                f"greater than {low:g} and at most {high:g}" if declared_option.above else f"from {low:g} to {high:g}"
            )
        elif low is not None:
            wanted = f"greater than {low:g}" if declared_option.above else f"at least {low:g}"
        else:
            wanted = f"at most {high:g}"
        raise SettingsError(f"{source} has value {value!r}; it must be {wanted}.")
