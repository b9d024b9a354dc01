"""Typed params models: each action declares a frozen dataclass, and YAML is checked against it.

Supported field types: str, int, float, bool, ``Duration`` (seconds; "10s", "5m", "1h30m" or a
number), ``ByteSize`` (bytes; "100MiB", "2G", "5GB" or a number; see ``runbook.units``), ``TimeSpec``
(a time as ``logs analyze --since`` takes it), ``list[str]``, ``list[int]``,
``dict[str, Any]``, ``Literal[...]`` and ``X | None``. Values that are Jinja2 templates are
type-checked after rendering, per host.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, NewType, get_args, get_origin

from runbook.templating import is_template
from runbook.units import parse_duration, parse_size

Duration = NewType("Duration", float)
ByteSize = NewType("ByteSize", int)
#: a moment as ``logs analyze --since`` takes it: ISO 8601, "now", "-30m", or shifted
#: ("2026-11-25T02:14:00+01:00-30m"); kept as text, checked before any host is contacted
TimeSpec = NewType("TimeSpec", str)


class ParamError(ValueError):
    """A params value does not fit its model; ``field`` is the dotted name inside params."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def _describe(kind: Any) -> str:
    if kind is Duration:
        return "duration"
    if kind is ByteSize:
        return "size"
    if kind is TimeSpec:
        return "time"
    origin = get_origin(kind)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(kind))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(kind) if a is not type(None)) + " (optional)"
    if origin is list:
        return f"list of {_describe(get_args(kind)[0])}"
    if origin is dict:
        return "mapping"
    return getattr(kind, "__name__", str(kind))


def convert(kind: Any, value: Any, field: str, *, rendered: bool) -> Any:
    """Convert/check one value; template strings pass unchecked until ``rendered``."""
    if not rendered and is_template(value):
        return value
    origin = get_origin(kind)
    try:
        if kind is Any:
            return value
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in get_args(kind):
                return None
            inner = [a for a in get_args(kind) if a is not type(None)]
            return convert(inner[0], value, field, rendered=rendered)
        if origin is Literal:
            if value not in get_args(kind):
                raise ValueError(f"must be one of {', '.join(repr(a) for a in get_args(kind))}, not {value!r}")
            return value
        if origin is list:
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, list):
                raise ValueError(f"must be a list, not {type(value).__name__}")
            (item,) = get_args(kind)
            return tuple(convert(item, v, f"{field}[{i}]", rendered=rendered) for i, v in enumerate(value))
        if origin is dict:
            if not isinstance(value, Mapping):
                raise ValueError(f"must be a mapping, not {type(value).__name__}")
            return dict(value)
        if kind is Duration:
            return parse_duration(value)
        if kind is ByteSize:
            return parse_size(value)
        if kind is TimeSpec:
            return _time_spec(value)
        if kind is bool:
            if isinstance(value, str) and rendered and value.strip().lower() in ("true", "false", "yes", "no"):
                return value.strip().lower() in ("true", "yes")
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, not {value!r}")
            return value
        if kind in (int, float):
            if isinstance(value, bool):
                raise ValueError(f"must be a number, not {value!r}")
            if isinstance(value, str) and rendered:
                value = float(value) if kind is float else int(value)
            if not isinstance(value, (int, float)) or (kind is int and isinstance(value, float)):
                raise ValueError(f"must be {'an integer' if kind is int else 'a number'}, not {value!r}")
            return kind(value)
        if kind is str:
            if isinstance(value, (dict, list)) or value is None:
                raise ValueError(f"must be a string, not {type(value).__name__}")
            return str(value)
    except ParamError:
        raise
    except ValueError as exc:
        raise ParamError(field, str(exc)) from None
    raise ParamError(field, f"unsupported type {kind!r}")


def _time_spec(value: Any) -> str:
    from runbook.analysis.clock import Clock, parse_user_time
    if not isinstance(value, str):
        raise ValueError(f"must be a time (ISO 8601, 'now', e.g. -30m), not {value!r}")
    parse_user_time(value, Clock("UTC"))  # raises ValueError saying what a time looks like
    return value


def build(model: type, raw: Mapping[str, Any] | None, *, rendered: bool) -> Any:
    """Params from YAML: unknown field, missing field and wrong type raise ParamError."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ParamError("params", f"must be a mapping, not {type(raw).__name__}")
    hints = typing.get_type_hints(model)
    fields = {f.name: f for f in dataclasses.fields(model)}
    for key in raw:
        if key not in fields:
            raise ParamError(str(key), f"unknown param (expected one of: {', '.join(fields) or 'none'})")
    values = {}
    for name, f in fields.items():
        if name in raw:
            values[name] = convert(hints[name], raw[name], name, rendered=rendered)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
            raise ParamError(name, "required param is missing")
    if not rendered:
        return values
    return model(**values)


def describe(model: type) -> list[tuple[str, str, str]]:
    """(name, type, default) for `runbook actions`."""
    hints = typing.get_type_hints(model)
    rows = []
    for f in dataclasses.fields(model):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = repr(f.default_factory())  # type: ignore[misc]
        else:
            default = "required"
        rows.append((f.name, _describe(hints[f.name]), default))
    return rows
