"""Business days, service hours and time input, against the real holidays package."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from runbook.sla import (
    contract_from_mapping,
    holiday_name,
    in_service_hours,
    is_business_day,
    next_business_day,
    parse_time,
)

BW = contract_from_mapping(None)
BE = contract_from_mapping({"service_hours": {"holidays": "DE-BE"}})
NONE = contract_from_mapping({"service_hours": {"holidays": "none"}})
BERLIN = ZoneInfo("Europe/Berlin")


def test_zoneinfo_has_europe_berlin() -> None:
    # tzdata comes from the system; without it every deadline would be wrong or crash.
    assert datetime(2026, 7, 1, 12, tzinfo=BERLIN).utcoffset().total_seconds() == 7200
    assert datetime(2026, 1, 1, 12, tzinfo=BERLIN).utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(("when", "expected"), [
    # Thu 24 Dec -> Fri 25 Christmas, Sat 26, Sun 27 -> Mon 28 Dec.
    pytest.param(date(2026, 12, 24), date(2026, 12, 28), id="christmas-eve"),
    # Wed 23 Dec -> Thu 24 Dec is a working day.
    pytest.param(date(2026, 12, 23), date(2026, 12, 24), id="dec23"),
    # Thu 31 Dec -> Fri 1 Jan holiday, weekend -> Mon 4 Jan.
    pytest.param(date(2026, 12, 31), date(2027, 1, 4), id="new-years-eve"),
    # Tue 5 Jan 2027 -> Wed 6 Jan Epiphany (BW) -> Thu 7 Jan.
    pytest.param(date(2027, 1, 5), date(2027, 1, 7), id="epiphany"),
    # Wed 1 Apr -> Maundy Thursday 2 Apr is a working day.
    pytest.param(date(2026, 4, 1), date(2026, 4, 2), id="before-maundy-thursday"),
    # Thu 2 Apr -> Good Friday, weekend, Easter Monday -> Tue 7 Apr.
    pytest.param(date(2026, 4, 2), date(2026, 4, 7), id="maundy-thursday"),
    # Wed 3 Jun -> Thu 4 Jun Corpus Christi (BW) -> Fri 5 Jun.
    pytest.param(date(2026, 6, 3), date(2026, 6, 5), id="corpus-christi"),
    # Fri 20 Nov -> Mon 23 Nov.
    pytest.param(date(2026, 11, 20), date(2026, 11, 23), id="friday"),
    # 23:30 UTC on 23 Dec is 00:30 on 24 Dec in Berlin: the local date counts -> Mon 28 Dec.
    pytest.param(datetime(2026, 12, 23, 23, 30, tzinfo=timezone.utc), date(2026, 12, 28),
                 id="local-date-not-utc-date"),
])
def test_next_business_day_bw(when: date, expected: date) -> None:
    assert next_business_day(BW, when) == expected


def test_next_business_day_differs_by_state() -> None:
    # Corpus Christi is a holiday in BW, not in Berlin.
    assert next_business_day(BE, date(2026, 6, 3)) == date(2026, 6, 4)
    # Berlin's Women's Day (8 Mar 2027, a Monday) is no holiday in BW.
    assert next_business_day(BE, date(2027, 3, 5)) == date(2027, 3, 9)
    assert next_business_day(BW, date(2027, 3, 5)) == date(2027, 3, 8)


@pytest.mark.parametrize(("day", "business"), [
    (date(2026, 12, 24), True),   # Christmas Eve: not a public holiday
    (date(2026, 12, 25), False),  # Christmas Day
    (date(2026, 12, 31), True),   # New Year's Eve: not a public holiday
    (date(2027, 1, 1), False),    # New Year
    (date(2027, 1, 6), False),    # Epiphany (BW)
    (date(2026, 6, 4), False),    # Corpus Christi (BW)
    (date(2027, 11, 1), False),   # All Saints (BW), a Monday in 2027
    (date(2026, 4, 2), True),     # Maundy Thursday
    (date(2026, 11, 21), False),  # a Saturday
])
def test_is_business_day_bw(day: date, business: bool) -> None:
    assert is_business_day(BW, day) is business


def test_no_holidays_calendar_keeps_only_weekends() -> None:
    assert is_business_day(NONE, date(2026, 12, 25))
    assert not is_business_day(NONE, date(2026, 12, 26))  # Saturday


def test_holiday_names_in_both_languages() -> None:
    assert holiday_name(BW, date(2026, 4, 3), "de") == "Karfreitag"
    assert holiday_name(BW, date(2026, 4, 3), "en") == "Good Friday"
    assert holiday_name(BW, date(2026, 12, 24)) is None


@pytest.mark.parametrize(("when", "inside"), [
    ("2026-11-25T09:00", True),    # opening time counts
    ("2026-11-25T16:59", True),
    ("2026-11-25T17:00", False),   # closing time does not
    ("2026-11-25T08:59", False),
    ("2026-11-21T10:00", False),   # Saturday
    ("2026-06-04T10:00", False),   # Corpus Christi
    ("2026-12-24T10:00", True),    # Christmas Eve
    ("2026-11-25T08:30Z", True),   # 09:30 in Berlin
])
def test_in_service_hours(when: str, inside: bool) -> None:
    assert in_service_hours(BW, parse_time(when, BW)) is inside


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T02:14", "2026-11-25T02:14:00+01:00"),       # local, winter
    ("2026-07-01 02:14", "2026-07-01T02:14:00+02:00"),       # local, summer; space separator
    ("2026-11-25T01:14Z", "2026-11-25T02:14:00+01:00"),      # UTC, shown in contract time
    ("2026-11-25T02:14:30+00:00", "2026-11-25T03:14:30+01:00"),
    ("2026-10-25T02:30+02:00", "2026-10-25T02:30:00+02:00"),  # repeated hour, offset given
    ("2026-10-25T02:30+01:00", "2026-10-25T02:30:00+01:00"),
    ("2026-11-25", "2026-11-25T00:00:00+01:00"),             # a date means its midnight
])
def test_parse_time(text: str, expected: str) -> None:
    assert parse_time(text, BW).isoformat() == expected


@pytest.mark.parametrize(("text", "message"), [
    ("2026-03-29T02:30", "does not exist in Europe/Berlin"),
    ("2026-10-25T02:30", r"occurs twice in Europe/Berlin .* \+02:00 or \+01:00"),
    ("yesterday", "not an ISO 8601 time"),
    ("", "not an ISO 8601 time"),
    ("2026-13-01T10:00", "not an ISO 8601 time"),
])
def test_parse_time_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_time(text, BW)
