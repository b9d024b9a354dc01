"""Business days, public holidays and service hours of a contract, on real (UTC) time.

Every boundary is a local wall-clock time of the contract's timezone ("09:00 in
Europe/Berlin"); it is turned into an aware datetime (``runbook.sla.localtime``) and then into
UTC, so that all elapsed-time arithmetic and all comparisons happen on UTC values. Python compares and
subtracts two datetimes that share one tzinfo by their wall clocks, ignoring DST, which is
wrong for the night the clocks go back; UTC has no such nights.

Holidays come from the ``holidays`` package (``"DE-BW"`` = Germany, Baden-Wuerttemberg), only
its default "public" category: days like 24 and 31 December are working days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from runbook.sla.contract import Contract
from runbook.sla.localtime import UTC, holiday_table, parse_local, require_aware, wall_clock

# The holidays package names its languages by locale; reports speak "de" and "en".
_HOLIDAY_LANGUAGES = {"de": "de", "en": "en_US"}


def is_holiday(contract: Contract, day: date) -> bool:
    """Whether ``day`` is a public holiday of the contract's holiday calendar."""
    return day in holiday_table(contract.service_hours.holidays, day.year)


def holiday_name(contract: Contract, day: date, language: str = "de") -> str | None:
    """The holiday's name ("Karfreitag" / "Good Friday"), or None on an ordinary day.

    language: "de" or "en". Always passed on: without it the package picks its language
    from the process locale, so a report would change with the shell it was made in.
    """
    lang = _HOLIDAY_LANGUAGES.get(language, language)
    return holiday_table(contract.service_hours.holidays, day.year, lang).get(day)


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


def parse_time(text: str, contract: Contract) -> datetime:
    """An aware datetime from ISO 8601 text, in the contract's timezone.

    text: e.g. ``2026-11-25T02:14``, ``2026-11-25 02:14:30+01:00`` or ``...Z``. Without an
    offset the time is local to the contract (an ambiguous or skipped DST time is refused).
    A date alone means its midnight. Raises ValueError on anything else.
    """
    return parse_local(text, contract.timezone)


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
