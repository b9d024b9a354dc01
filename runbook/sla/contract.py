"""The customer's contract: service hours, reaction times per fault category, on-call.

Read from ``customer.contract`` of an inventory (every key optional)::

    contract:
      timezone: Europe/Berlin                  # any IANA zone
      service_hours: {days: mon-fri, from: "09:00", to: "17:00", holidays: DE-BW}
      reaction: {1: 4h, 2: 8h, 3: 16h}         # counted in service hours
      on_call:
        mode: none                             # none | permanent | periods
        periods: [{from: "2026-12-23T17:00", to: "2027-01-02T09:00"}]   # mode periods only
        reaction: {1: 1h}                      # counted in service hours plus on-call time

- ``days``: names (mon..sun or monday..sunday), lists ``mon,tue,thu`` and ranges ``mon-fri``
  (a range may wrap: ``fri-mon``), or a YAML list of those.
- ``from``/``to``: ``HH:MM`` local time, ``to`` after ``from`` on the same day. Unquoted
  ``17:00`` is read by YAML 1.1 as the number 1020 (base 60); it is taken back as 17:00.
- ``holidays``: ``DE-BW`` (country-subdivision as the holidays package knows them), a country
  alone (``DE``: nationwide holidays only) or ``none``.
- durations (see parse_reaction_time): ``30m``, ``4h``, ``1h30m``; no days, since "a day" of
  service hours is ambiguous (8 hours? 24?).
- ``reaction``, when given, names all three categories: a contract that is silent about one
  must not get a promise invented by a default. Absent, it is {1: 4h, 2: 8h, 3: 16h}.
- period times are local to the contract unless they carry an offset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runbook import units
from runbook.errors import ConfigError
from runbook.sla.localtime import as_local, normalise_holidays, parse_local
from runbook.yamlsource import SourceMap

CATEGORIES = (1, 2, 3)
ON_CALL_MODES = ("none", "permanent", "periods")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION = re.compile(r"\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?\s*")
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


def _frozen(mapping: Mapping[int, timedelta]) -> Mapping[int, timedelta]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class ServiceHours:
    """When the provider works normally.

    days: weekdays as date.weekday() numbers (Monday = 0); start, end: local wall-clock
    times, start < end; holidays: the holiday calendar ("DE-BW", "DE", "none").
    """

    days: frozenset[int]
    start: time
    end: time
    holidays: str


@dataclass(frozen=True)
class OnCall:
    """Time covered beyond service hours, and its faster reaction times.

    mode: "none", "permanent" (all the time) or "periods"; periods: (start, end) aware
    datetimes in the contract's timezone; reaction: category -> reaction time.
    """

    mode: str
    periods: tuple[tuple[datetime, datetime], ...] = ()
    reaction: Mapping[int, timedelta] = field(default_factory=lambda: MappingProxyType({}))

    def applies_to(self, category: int) -> bool:
        """Whether an on-call deadline exists for ``category`` (mode not none, a reaction)."""
        return self.mode != "none" and category in self.reaction


@dataclass(frozen=True)
class Contract:
    """The SLA part of a customer's contract.

    timezone: where the service hours are local; service_hours: see ServiceHours;
    reaction: category -> reaction time counted in service hours; on_call: see OnCall.
    """

    timezone: ZoneInfo
    service_hours: ServiceHours
    reaction: Mapping[int, timedelta]
    on_call: OnCall

    def to_json(self) -> dict[str, Any]:
        """The contract as plain JSON in the inventory's own shape (a snapshot for incidents)."""
        hours = self.service_hours
        return {
            "timezone": self.timezone.key,
            "service_hours": {"days": format_days(hours.days), "from": hours.start.strftime("%H:%M"),
                              "to": hours.end.strftime("%H:%M"), "holidays": hours.holidays},
            "reaction": {str(c): format_duration(d) for c, d in self.reaction.items()},
            "on_call": {
                "mode": self.on_call.mode,
                "periods": [{"from": a.isoformat(), "to": b.isoformat()}
                            for a, b in self.on_call.periods],
                "reaction": {str(c): format_duration(d) for c, d in self.on_call.reaction.items()},
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, file: str = "<snapshot>") -> Contract:
        """The inverse of to_json, validated like an inventory contract."""
        return contract_from_mapping(data, file=file)


DEFAULT_TIMEZONE = "Europe/Berlin"
DEFAULT_REACTION: Mapping[int, timedelta] = _frozen(
    {1: timedelta(hours=4), 2: timedelta(hours=8), 3: timedelta(hours=16)})


def default_contract() -> Contract:
    """Mon-Fri 09:00-17:00 Europe/Berlin with BW holidays, 4h/8h/16h, no on-call."""
    return contract_from_mapping(None)


# -- durations and days ------------------------------------------------------------------------

def parse_reaction_time(text: str) -> timedelta:
    """A reaction time: whole hours and/or minutes, ``30m``, ``4h``, ``1h30m`` (``1h 30m`` too).

    The value is ``runbook.units.parse_duration``'s; a contract only narrows the spelling:
    a unit is required, and days (``2d``) are refused on purpose: reaction times count service
    hours, where a "day" could mean 8 or 24 hours. Raises ValueError on anything else; ``0m``
    is zero.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a duration: {text!r} (give a unit, e.g. 4h or 30m)")
    match = _DURATION.fullmatch(text)
    if not match or (match["h"] is None and match["m"] is None):
        if re.fullmatch(r"\s*\d+\s*d\s*", text):
            raise ValueError(f"days are ambiguous in service hours: {text!r} (write hours, "
                             "e.g. 16h)")
        raise ValueError(f"not a duration: {text!r} (e.g. 30m, 4h, 1h30m)")
    return timedelta(seconds=units.parse_duration(text))


def format_duration(value: timedelta) -> str:
    """The inverse of parse_reaction_time: ``1h30m``, ``4h``, ``45m`` (whole minutes)."""
    minutes = int(value.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h{rest}m"
    return f"{hours}h" if hours else f"{rest}m"


def _day_number(name: str) -> int:
    key = name.strip().lower()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in _LONG_DAY_NAMES:
        return _LONG_DAY_NAMES.index(key)
    raise ValueError(f"unknown day {name.strip()!r} (mon, tue, wed, thu, fri, sat, sun)")


def parse_days(value: str | list[str]) -> frozenset[int]:
    """Weekday numbers from ``mon-fri``, ``mon,tue,thu``, ``fri-mon`` or a list of those."""
    items = value if isinstance(value, list) else [value]
    days: set[int] = set()
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"not a day: {item!r}")
        for part in item.split(","):
            first, dash, last = part.partition("-")
            start = _day_number(first)
            stop = _day_number(last) if dash else start
            days.update((start + i) % 7 for i in range((stop - start) % 7 + 1))
    if not days:
        raise ValueError("no days given")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """``mon-fri``, ``mon,wed,fri``: runs of three or more days as ranges."""
    parts: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{DAY_NAMES[ordered[i]]}-{DAY_NAMES[ordered[j]]}")
        else:
            parts.extend(DAY_NAMES[k] for k in ordered[i:j + 1])
        i = j + 1
    return ",".join(parts)


def parse_clock(value: str | int) -> time:
    """``HH:MM`` as a time; an int is YAML 1.1's base-60 reading of unquoted ``17:00``."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    match = _HHMM.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"not a time of day: {value!r} (HH:MM, 00:00 to 23:59)")
    return time(int(match[1]), int(match[2]))


# -- reading a contract ------------------------------------------------------------------------

class _Reader:
    """Turns bad input into ConfigError with file, line (when the input is a SourceMap), field."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, message: str, parent: Mapping | None, key: Any, field: str) -> ConfigError:
        if isinstance(parent, SourceMap):
            return ConfigError(message, file=parent.file or self.file,
                               line=parent.line_of(key) if key is not None else parent.line,
                               field=field)
        return ConfigError(message, file=self.file, field=field)

    def mapping(self, value: Any, parent: Mapping | None, key: Any, field: str,
                allowed: tuple[str, ...]) -> Mapping:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(f"must be a mapping, not {type(value).__name__}", parent, key, field)
        for name in value:
            if name not in allowed:
                raise self.fail(f"unknown key {name!r} (allowed: {', '.join(allowed)})",
                                value, name, f"{field}.{name}")
        return value

    def reactions(self, value: Any, parent: Mapping, key: str, field: str) -> dict[int, timedelta]:
        if not isinstance(value, Mapping):
            raise self.fail("must map categories 1-3 to durations, e.g. {1: 4h}", parent, key,
                            field)
        result: dict[int, timedelta] = {}
        for name, text in value.items():
            category = _category(name)
            where = f"{field}.{name}"
            if category is None:
                raise self.fail(f"unknown category {name!r} (categories are 1, 2, 3)",
                                value, name, where)
            if category in result:  # 1 and "1" are different YAML keys
                raise self.fail(f"category {category} given twice", value, name, where)
            try:
                duration = parse_reaction_time(text)
            except ValueError as exc:
                raise self.fail(str(exc), value, name, where) from None
            if duration <= timedelta(0):
                raise self.fail("reaction time must be positive", value, name, where)
            result[category] = duration
        return result


def _category(name: Any) -> int | None:
    if isinstance(name, bool):
        return None  # YAML reads "yes:" as True, which Python would count as 1
    if isinstance(name, int):
        return name if name in CATEGORIES else None
    if isinstance(name, str) and name.strip().isdigit():
        return _category(int(name.strip()))
    return None


def contract_from_mapping(data: Mapping | None, *, file: str = "<input>") -> Contract:
    """A validated Contract from ``customer.contract`` (None: all defaults).

    data: usually a runbook.yamlsource.SourceMap, so errors carry its file and line; file:
    the name used for plain dicts. Raises ConfigError naming the field, e.g.
    ``inventory/acme.yml:14: contract.reaction.1: not a duration: '4 hours' ...``.
    """
    read = _Reader(file)
    top = read.mapping(data, None, None, "contract",
                       ("timezone", "service_hours", "reaction", "on_call"))
    tz = _timezone(read, top)
    hours = _service_hours(read, top)
    if "reaction" in top:
        reaction = read.reactions(top["reaction"], top, "reaction", "contract.reaction")
        missing = [str(c) for c in CATEGORIES if c not in reaction]
        if missing:
            raise read.fail(f"missing category {', '.join(missing)} (a contract names all three)",
                            top, "reaction", "contract.reaction")
    else:
        reaction = dict(DEFAULT_REACTION)
    return Contract(timezone=tz, service_hours=hours, reaction=_frozen(reaction),
                    on_call=_on_call(read, top, tz))


def _timezone(read: _Reader, top: Mapping) -> ZoneInfo:
    name = top.get("timezone", DEFAULT_TIMEZONE)
    try:
        if not isinstance(name, str):
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise read.fail(f"unknown timezone {name!r} (an IANA name like Europe/Berlin)", top,
                        "timezone", "contract.timezone") from None


def _service_hours(read: _Reader, top: Mapping) -> ServiceHours:
    where = "contract.service_hours"
    value = top.get("service_hours")
    # {days: mon,tue,thu} in a YAML flow mapping splits at the commas into keys "tue", "thu".
    for name in value if isinstance(value, Mapping) else ():
        if isinstance(name, str) and name.strip().lower() in DAY_NAMES + _LONG_DAY_NAMES:
            raise read.fail(f"stray key {name!r}: quote a list of days inside {{...}}, "
                            "e.g. days: \"mon,tue,thu\"", value, name, f"{where}.days")
    raw = read.mapping(value, top, "service_hours", where,
                       ("days", "from", "to", "holidays"))
    values: dict[str, Any] = {}
    for key, default, parse in (("days", "mon-fri", parse_days), ("from", "09:00", parse_clock),
                                ("to", "17:00", parse_clock),
                                ("holidays", "DE-BW", _parse_holidays)):
        try:
            values[key] = parse(raw.get(key, default))
        except ValueError as exc:
            raise read.fail(str(exc), raw, key, f"{where}.{key}") from None
    if values["to"] <= values["from"]:
        raise read.fail(f"'to' ({values['to']:%H:%M}) must be after 'from' "
                        f"({values['from']:%H:%M}) on the same day", raw, "to", f"{where}.to")
    return ServiceHours(days=values["days"], start=values["from"], end=values["to"],
                        holidays=values["holidays"])


def _parse_holidays(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a holiday calendar: {value!r} (e.g. DE-BW or none)")
    return normalise_holidays(value)


def _on_call(read: _Reader, top: Mapping, tz: ZoneInfo) -> OnCall:
    where = "contract.on_call"
    raw = read.mapping(top.get("on_call"), top, "on_call", where, ("mode", "periods", "reaction"))
    mode = raw.get("mode", "none")
    if mode not in ON_CALL_MODES:
        raise read.fail(f"unknown mode {mode!r} (none, permanent, periods)", raw, "mode",
                        f"{where}.mode")
    reaction = (read.reactions(raw["reaction"], raw, "reaction", f"{where}.reaction")
                if raw.get("reaction") is not None else {})
    if mode != "none" and not reaction:
        raise read.fail(f"mode {mode} needs a reaction, e.g. {{1: 1h}}", raw, "mode",
                        f"{where}.reaction")
    periods = _periods(read, raw, tz)
    if periods and mode != "periods":
        raise read.fail(f"periods are only read with mode periods (mode is {mode})", raw,
                        "periods", f"{where}.periods")
    if mode == "periods" and not periods:
        raise read.fail("mode periods needs at least one period", raw, "mode", f"{where}.periods")
    return OnCall(mode=mode, periods=periods, reaction=_frozen(reaction))


def _periods(read: _Reader, raw: Mapping, tz: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
    value = raw.get("periods")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise read.fail("must be a list of {from, to}", raw, "periods", "contract.on_call.periods")
    periods = []
    for i, item in enumerate(value):
        where = f"contract.on_call.periods[{i}]"
        # A list item that is not a mapping has no line of its own; point at the list.
        item = read.mapping(item, raw, "periods", where, ("from", "to"))
        ends = []
        for key in ("from", "to"):
            if item.get(key) is None:
                raise read.fail(f"'{key}' is missing", item, None, f"{where}.{key}")
            try:
                ends.append(_period_time(item[key], tz))
            except ValueError as exc:
                raise read.fail(str(exc), item, key, f"{where}.{key}") from None
        start, end = ends
        # In UTC: a shared tzinfo would compare wall clocks and miss the autumn hour.
        if end.astimezone(timezone.utc) <= start.astimezone(timezone.utc):
            raise read.fail(f"ends ({end.isoformat()}) before it starts ({start.isoformat()})",
                            item, "to", f"{where}.to")
        periods.append((start, end))
    return tuple(periods)


def _period_time(value: Any, tz: ZoneInfo) -> datetime:
    # YAML turns 2026-12-23T17:00:00 into a datetime and 2026-12-23 into a date by itself.
    if isinstance(value, str):
        return parse_local(value, tz)
    if isinstance(value, date):  # datetime is a date too
        return as_local(value, tz)
    raise ValueError(f"not a time: {value!r} (ISO 8601, e.g. 2026-12-23T17:00)")
