"""Typed, frozen settings built from TOML, with clear errors for unknown keys and bad values.

Stages declare their settings as frozen dataclasses (``billcx.segment.settings.SegmentSettings``,
the plan policy, the render config ...).  :func:`from_mapping` builds any of them from a parsed
TOML table: unknown keys are errors with a did-you-mean suggestion, values are type-checked, nested
dataclasses, tuples and dicts are built recursively.  Stage functions receive the finished object;
they never read files or the environment themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import tomllib
import types
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from billcx.errors import ConfigError, UsageError

T = TypeVar("T")


def suggest(name: str, known: typing.Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or ''."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a ConfigError naming file, line and column."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def from_mapping(cls: type[T], data: Mapping[str, Any], *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, checking keys and types.

    Args:
        cls: a (frozen) dataclass type.
        data: parsed TOML table.
        where: dotted location used in error messages (``"policy.ladders.gentle"``).

    Raises:
        ConfigError: unknown key (with a suggestion), missing required key, or a value of the
            wrong type.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        loc = f"{where}.{key}" if where else key
        if key not in fields:
            raise ConfigError(f"unknown setting '{loc}'{suggest(key, fields)}",
                              hint=f"known settings here: {', '.join(sorted(fields))}")
        kwargs[key] = _coerce(hints[key], value, loc)
    for name, f in fields.items():
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in kwargs and no_default:
            loc = f"{where}.{name}" if where else name
            raise ConfigError(f"missing required setting '{loc}'")
    try:
        return cls(**kwargs)
    except UsageError as exc:  # a settings class checking its own values
        raise ConfigError(f"{where + ': ' if where else ''}{exc.message}", hint=exc.hint) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, loc: str) -> Any:  # noqa: C901 - one branch per type family
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, loc)
            except ConfigError as exc:
                errors.append(exc.message)
        raise ConfigError(errors[-1] if errors else f"'{loc}': bad value {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"'{loc}' must be one of {', '.join(map(repr, args))}, found {value!r}"
                              f"{suggest(str(value), map(str, args))}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"'{loc}' must be a table, found {type(value).__name__}")
        return from_mapping(tp, value, where=loc)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            choices = [str(m.value) for m in tp]
            raise ConfigError(f"'{loc}' must be one of {', '.join(choices)}, found {value!r}"
                              f"{suggest(str(value), choices)}") from None
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"'{loc}' must be an array, found {type(value).__name__}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{loc}[{i}]") for i, v in enumerate(value))
        if origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"'{loc}' must have {len(args)} items, found {len(value)}")
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(_coerce(a, v, f"{loc}[{i}]") for i, (a, v) in pairs)
        inner = args[0] if args else Any
        return [_coerce(inner, v, f"{loc}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"'{loc}' must be a table, found {type(value).__name__}")
        kt, vt = args if args else (Any, Any)
        return {_coerce(kt, k, loc): _coerce(vt, v, f"{loc}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"'{loc}' must be true or false, found {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{loc}' must be an integer, found {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"'{loc}' must be a number, found {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"'{loc}' must be a string, found {value!r}")
        return value
    if tp is dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(f"'{loc}' must be a date (YYYY-MM-DD), found {value!r}")
    if tp is dt.time:
        if isinstance(value, dt.time):
            return value
        if isinstance(value, str):
            try:
                return dt.time.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(f"'{loc}' must be a time (HH:MM), found {value!r}")
    if tp is Path:
        if not isinstance(value, str):
            raise ConfigError(f"'{loc}' must be a path string, found {value!r}")
        return Path(value)
    raise ConfigError(f"'{loc}': cannot read a value of type {_type_name(tp)}")


def to_mapping(obj: Any) -> Any:
    """The inverse of :func:`from_mapping`: plain TOML-able data (for ``init`` commands and reports)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_mapping(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [to_mapping(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): to_mapping(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.time):
        return obj.strftime("%H:%M")
    return obj
