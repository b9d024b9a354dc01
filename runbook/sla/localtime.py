"""Local wall-clock times on real (UTC) time, and the public holiday tables: what a contract is
read with, before there is a contract (``runbook.sla.contract``) to ask.

Every boundary is a local wall-clock time of a timezone ("09:00 in Europe/Berlin"); it is
turned into an aware datetime with zoneinfo and then into UTC, so that all elapsed-time
arithmetic and all comparisons happen on UTC values.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UTC = timezone.utc
NO_HOLIDAYS = "none"


# -- holidays ----------------------------------------------------------------------------------

def normalise_holidays(spec: str) -> str:
    """The canonical form of a holiday calendar name, e.g. ``"de-bw"`` -> ``"DE-BW"``.

    spec: ``"none"``, a country (``"DE"``) or country-subdivision (``"DE-BW"``, ``"AT-9"``)
    as the holidays package knows them. Raises ValueError naming what is supported.
    """
    text = spec.strip()
    if text.lower() == NO_HOLIDAYS:
        return NO_HOLIDAYS
    country, _, subdiv = text.partition("-")
    country = country.upper()
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"unknown holiday country {country!r} (e.g. DE-BW, DE, AT, or none)")
    if not subdiv:
        return country
    # Subdivision codes differ in case between countries ("BW", "Augsburg"); match loosely,
    # store the package's spelling so the snapshot is stable.
    by_lower = {s.lower(): s for s in supported[country]}
    aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    by_lower.update({alias.lower(): code for alias, code in aliases.items()})
    code = by_lower.get(subdiv.lower())
    if code is None:
        choices = ", ".join(supported[country])
        raise ValueError(f"unknown subdivision {subdiv!r} of {country} (one of {choices})")
    return f"{country}-{code}"


@lru_cache(maxsize=512)
def holiday_table(spec: str, year: int, language: str | None = None) -> dict[date, str]:
    """The public holidays of calendar ``spec`` (``normalise_holidays``'s form) in ``year``,
    named in ``language``; cached, since a deadline asks for the same year again and again."""
    if spec == NO_HOLIDAYS:
        return {}
    country, _, subdiv = spec.partition("-")
    table = holidays.country_holidays(country, subdiv=subdiv or None, years=year,
                                      language=language)
    return dict(table.items())


# -- local wall-clock times --------------------------------------------------------------------

def require_aware(when: datetime, what: str = "time") -> datetime:
    """Refuse naive datetimes: without an offset a time means nothing across timezones."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must carry a timezone offset: {when.isoformat()}")
    return when


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time, leniently (for recurring boundaries).

    A time that does not exist (the hour skipped in spring) is read with the offset before
    the change, i.e. it lands one hour later on the new clock; a time that occurs twice (the
    hour repeated in autumn) means its first occurrence. A daily 09:00 never hits either in
    Europe/Berlin, so this only matters for unusual service hours.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime for a local wall-clock time, strictly (for one-off user input).

    Raises ValueError for a time skipped or repeated by a DST change, because a fault
    received "at 02:30" on such a night is ambiguous and only an offset says which.
    """
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    stamp = naive.isoformat(timespec="minutes")
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(f"{stamp} does not exist in {tz.key} (the clocks skip that hour); "
                         "give an offset")
    raise ValueError(f"{stamp} occurs twice in {tz.key} (the clocks go back); give an offset, "
                     f"{_offset(first)} or {_offset(second)}")


def _offset(when: datetime) -> str:
    return when.isoformat()[-6:]


def parse_local(text: str, tz: ZoneInfo) -> datetime:
    """parse_time with a bare timezone (used while the contract itself is being read)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-25T02:14 or "
                         "2026-11-25T02:14+01:00)") from None
    return as_local(parsed, tz)


def as_local(value: datetime | date, tz: ZoneInfo) -> datetime:
    """A datetime or date, naive meaning local to ``tz``, as an aware datetime in ``tz``."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        return localize(value, tz)
    return value.astimezone(tz)
