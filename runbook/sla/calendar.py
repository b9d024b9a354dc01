"""Business days, public holidays and service hours of a contract, on real (UTC) time.

Every boundary is a local wall-clock time of the contract's timezone ("09:00 in
Europe/Berlin"); it is turned into an aware datetime with zoneinfo and then into UTC, so that
all elapsed-time arithmetic and all comparisons happen on UTC values. Python compares and
subtracts two datetimes that share one tzinfo by their wall clocks, ignoring DST, which is
wrong for the night the clocks go back; UTC has no such nights.

Holidays come from the ``holidays`` package (``"DE-BW"`` = Germany, Baden-Wuerttemberg), only
its default "public" category: days like 24 and 31 December are working days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from runbook.sla.contract import Contract

UTC = timezone.utc
NO_HOLIDAYS = "none"
# The holidays package names its languages by locale; reports speak "de" and "en".
_HOLIDAY_LANGUAGES = {"de": "de", "en": "en_US"}


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
def _holiday_table(spec: str, year: int, language: str | None = None) -> dict[date, str]:
    if spec == NO_HOLIDAYS:
        return {}
    country, _, subdiv = spec.partition("-")
    table = holidays.country_holidays(country, subdiv=subdiv or None, years=year,
                                      language=language)
    return dict(table.items())


def is_holiday(contract: Contract, day: date) -> bool:
    """Whether ``day`` is a public holiday of the contract's holiday calendar."""
    return day in _holiday_table(contract.service_hours.holidays, day.year)


def holiday_name(contract: Contract, day: date, language: str = "de") -> str | None:
    """The holiday's name ("Karfreitag" / "Good Friday"), or None on an ordinary day.

    language: "de" or "en". Always passed on: without it the package picks its language
    from the process locale, so a report would change with the shell it was made in.
    """
    lang = _HOLIDAY_LANGUAGES.get(language, language)
    return _holiday_table(contract.service_hours.holidays, day.year, lang).get(day)


def is_business_day(contract: Contract, day: date) -> bool:
    """A service day of the week (service_hours.days) that is not a public holiday."""
    return day.weekday() in contract.service_hours.days and not is_holiday(contract, day)


def _local_date(contract: Contract, when: datetime | date) -> date:
    if isinstance(when, datetime):
        return require_aware(when, "when").astimezone(contract.timezone).date()
    return when


def next_business_day(contract: Contract, when: datetime | date) -> date:
    """The first business day strictly after the local date of ``when``."""
    day = _local_date(contract, when)
    # A contract always has at least one service day and no calendar has a holiday on every
    # such day for long, so this ends; the bound only turns a broken calendar into an error.
    for _ in range(3 * 366):
        day += timedelta(days=1)
        if is_business_day(contract, day):
            return day
    raise ValueError(f"no business day within three years after {day}")


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


def parse_time(text: str, contract: Contract) -> datetime:
    """An aware datetime from ISO 8601 text, in the contract's timezone.

    text: e.g. ``2026-11-25T02:14``, ``2026-11-25 02:14:30+01:00`` or ``...Z``. Without an
    offset the time is local to the contract (an ambiguous or skipped DST time is refused).
    A date alone means its midnight. Raises ValueError on anything else.
    """
    return parse_local(text, contract.timezone)


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


# -- service hours -----------------------------------------------------------------------------

def service_window(contract: Contract, day: date) -> tuple[datetime, datetime] | None:
    """The UTC start and end of the service hours on ``day``, or None if it is no business day."""
    if not is_business_day(contract, day):
        return None
    hours = contract.service_hours
    start = wall_clock(day, hours.start, contract.timezone)
    end = wall_clock(day, hours.end, contract.timezone)
    # Both ends inside one DST change can collapse the window; then there is none that day.
    return (start, end) if end > start else None


def service_windows(contract: Contract, after: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Service-hours windows (UTC, in order, endless) that end after the instant ``after``."""
    after = require_aware(after).astimezone(UTC)
    # Start a day early: the local date of ``after`` may differ from its UTC date.
    day = after.astimezone(contract.timezone).date() - timedelta(days=1)
    idle = 0
    while True:
        window = service_window(contract, day)
        if window is not None and window[1] > after:
            idle = 0
            yield window
        else:
            idle += 1
            # A contract built by hand with no service days would loop forever.
            if idle > 3 * 366:
                raise ValueError(f"no service hours within three years after {day}")
        day += timedelta(days=1)


def in_service_hours(contract: Contract, when: datetime) -> bool:
    """Whether the instant ``when`` lies in the service hours (start inclusive, end exclusive)."""
    instant = require_aware(when, "when").astimezone(UTC)
    day = instant.astimezone(contract.timezone).date()
    window = service_window(contract, day)
    return window is not None and window[0] <= instant < window[1]
