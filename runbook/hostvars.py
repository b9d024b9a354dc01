"""Host vars as runbook reads them: one declared schema per var, one reader that names the
file, line and field of every mistake.

A host's vars are merged from ``defaults.vars``, ``roles.<role>.vars``, its own ``vars`` and
``-e`` (``runbook.inventory``), and the loader remembers where each was set. Every var runbook
itself reads is declared once, in the module that documents it, as a ``HostVar``: its name,
its shape in words, its default, and the function that turns the YAML value into a typed
one. ``HostVars`` is one host's vars -- a read-only mapping, as templates see them -- that
also knows where each came from; ``HostVars.read(VAR)`` is the one way a declared var is
read, so every mistake reads the same way::

    inventory/acme.yml:14: vars.hung_rules[1].action: must be kill or report

Because all reading goes through the declarations, ``runbook check`` can read, for every
targeted host and before any host is contacted, exactly the vars the playbook's actions
will read (``runbook.playbook.hostvars``), and can tell a misspelt var from a user's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from runbook.errors import ConfigError
from runbook.inventory.model import Host, VarOrigin
from runbook.units import parse_duration
from runbook.yamlsource import SourceMap

T = TypeVar("T")

#: where a ``-e key=value`` var is said to come from (it has no file)
EXTRA_VARS = "-e/--extra-var"


@dataclass(frozen=True)
class Located:
    """A value from the inventory and where it stands: file, line and field (``vars.x.y``).

    The typed accessors (``mapping``, ``items``, ``duration``, ...) return the value or raise
    a ConfigError at this place; ``member`` and ``items`` step inside, each part at its own
    line where YAML gave it one."""

    value: Any
    file: str | None
    line: int | None
    field: str

    def error(self, message: str, key: Any = None) -> ConfigError:
        """A ConfigError here, or at ``key`` of this mapping (its own line)."""
        where = self if key is None else self.member(key)
        return ConfigError(message, file=where.file, line=where.line, field=where.field)

    def member(self, key: Any) -> Located:
        """``value[key]`` (None when absent), at the line of its key."""
        value = self.value.get(key) if isinstance(self.value, Mapping) else None
        if isinstance(self.value, SourceMap) and key in self.value:
            return Located(value, self.value.file, self.value.line_of(key), f"{self.field}.{key}")
        return Located(value, self.file, self.line, f"{self.field}.{key}")

    def members(self) -> Iterator[tuple[Any, Located]]:
        """(key, located value) of a mapping, in order."""
        for key in self.mapping():
            yield key, self.member(key)

    def items(self, what: str = "a list") -> list[Located]:
        """The entries of a list, each at its own line when it is a mapping."""
        if not isinstance(self.value, (list, tuple)):
            raise self.error(f"must be {what}, not {_kind(self.value)}")
        found = []
        for index, item in enumerate(self.value):
            line = item.line if isinstance(item, SourceMap) else self.line
            file = item.file if isinstance(item, SourceMap) else self.file
            found.append(Located(item, file, line, f"{self.field}[{index}]"))
        return found

    def strings(self, what: str = "a list of strings") -> list[Located]:
        """A non-empty string or a list of them, each entry located."""
        entries = [self] if isinstance(self.value, str) else self.items(what)
        for entry in entries:
            if not isinstance(entry.value, str) or not entry.value:
                raise entry.error(f"must be {what}, not {_kind(entry.value)}")
        return entries

    def mapping(self, what: str = "a mapping") -> Mapping[Any, Any]:
        """The value as a mapping."""
        if not isinstance(self.value, Mapping):
            raise self.error(f"must be {what}, not {_kind(self.value)}")
        return self.value

    def keys_among(self, allowed: Collection[str]) -> None:
        """Refuse a key of this mapping that is not one of ``allowed``, at its line."""
        for key in self.mapping():
            if key not in allowed:
                raise self.error(f"unknown key (expected one of: {', '.join(sorted(allowed))})", key)

    def text(self) -> str:
        """A scalar as text (``8080`` -> "8080"); a list, mapping or boolean is refused."""
        if isinstance(self.value, (Mapping, list, tuple, bool)) or self.value is None:
            raise self.error(f"must be a string, not {_kind(self.value)}")
        return str(self.value)

    def flag(self) -> bool:
        """true or false."""
        if not isinstance(self.value, bool):
            raise self.error(f"must be true or false, not {self.value!r}")
        return self.value

    def count(self, minimum: int = 0) -> int:
        """A whole number of at least ``minimum``."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"must be a whole number >= {minimum}, not {value!r}")
        return value

    def duration(self, *, zero: bool = False) -> float:
        """Seconds, from ``runbook.units.parse_duration`` ("30s", "1h30m", 90); more than 0
        unless ``zero`` allows it."""
        try:
            seconds = parse_duration(self.value)
        except ValueError as exc:
            raise self.error(str(exc)) from None
        if seconds < 0 or (seconds == 0 and not zero):
            raise self.error("must be more than 0" if not zero else "must not be negative")
        return seconds

    def pattern(self) -> str:
        """A regular expression (compiled once to find mistakes)."""
        text = self.text()
        try:
            re.compile(text)
        except re.error as exc:
            raise self.error(f"not a regular expression: {exc}") from None
        return text

    def patterns(self) -> list[str]:
        """A regular expression or a list of them."""
        return [item.pattern() for item in self.strings("a list of regular expressions")]


@dataclass(frozen=True)
class HostVar(Generic[T]):
    """The schema of one host var that runbook reads.

    name:          the var's name in the inventory (``hung_rules``)
    shape:         what it looks like, in words, for people (``runbook actions`` shows it)
    default:       the value when a host does not set it (or sets it to null), before parsing
    documented_in: the module whose docstring documents it
    parse:         ``(located value, the host's vars) -> typed value``; raises ConfigError at
                   the located place. It may read other vars through the second argument.
    Which actions read it is declared by the actions (``Action.host_vars``).
    """

    name: str
    shape: str
    default: Any
    documented_in: str
    parse: Callable[[Located, HostVars], T]


class HostVars(Mapping[str, Any]):
    """One host's vars as templates see them, knowing where each was set; ``read`` parses a
    declared var from them.

    ``host`` is None for vars that belong to no inventory host (a unit test's mapping): a
    mapping read straight from YAML still knows the lines of its keys."""

    def __init__(self, values: Mapping[str, Any], *, host: Host | None = None,
                 origins: Mapping[str, VarOrigin] | None = None) -> None:
        self._values = values
        self.host = host
        self._origins = dict(origins or {})
        self._read: dict[str, Any] = {}  # a var is parsed once (a health check reads each threshold often)

    @classmethod
    def of(cls, host: Host, values: Mapping[str, Any] | None = None) -> HostVars:
        """``host``'s vars, or ``values`` seen on it (a step's context: its vars plus what
        earlier steps registered); a value is placed where the inventory set it only while
        it is still that value."""
        if values is None:
            values = host.vars
        if isinstance(values, HostVars) and values.host is host:
            return values
        origins = {name: origin for name, origin in host.var_origins.items()
                   if name in values and name in host.vars and values[name] is host.vars[name]}
        return cls(values, host=host, origins=origins)

    @classmethod
    def over(cls, values: Mapping[str, Any]) -> HostVars:
        """``values`` as HostVars (itself when it already is)."""
        return values if isinstance(values, HostVars) else cls(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def located(self, name: str) -> Located:
        """The value of ``name`` (None when unset) and where it was set."""
        value = self._values.get(name)
        field = f"vars.{name}"
        origin = self._origins.get(name)
        if origin is not None:
            return Located(value, origin.file or EXTRA_VARS, origin.line, field)
        if isinstance(self._values, SourceMap) and name in self._values:
            return Located(value, self._values.file, self._values.line_of(name), field)
        if self.host is not None:  # set after loading (a test's Host): the host's entry is the place
            return Located(value, self.host.file or None, self.host.line or None, field)
        return Located(value, None, None, field)

    def source(self, var: HostVar[Any]) -> Located:
        """The value ``var`` is read from: the host's own, else the declared default."""
        located = self.located(var.name)
        return located if located.value is not None else Located(var.default, None, None, located.field)

    def read(self, var: HostVar[T]) -> T:
        """The typed value of ``var`` on this host: its own value, else the declared default.
        Raises ConfigError naming the file, line and field of a mistake."""
        if var.name not in self._read:
            self._read[var.name] = var.parse(self.source(var), self)
        return self._read[var.name]


def did_you_mean(name: str, known: Collection[str]) -> str | None:
    """The declared var ``name`` is most likely a misspelling of, if any is close enough
    (``hung_rule`` -> ``hung_rules``); names far from all of them are the user's own."""
    if name in known:
        return None
    import difflib  # only `runbook check` and `runbook run` look for misspellings, never a sweep

    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.8)
    return lowered[close[0]] if close else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"
