"""Reading the contract from an inventory: defaults, shapes, and errors with file:line:field."""

from __future__ import annotations

import textwrap
from datetime import time, timedelta

import pytest

from runbook.errors import ConfigError
from runbook.sla import Contract, contract_from_mapping, parse_reaction_time, parse_time
from runbook.yamlsource import parse_yaml

FILE = "inventory/acme.yml"


def contract_yaml(body: str) -> Contract:
    """The contract of an inventory whose ``customer.contract`` is ``body`` (YAML, 4 spaces in)."""
    text = "customer:\n  name: ACME GmbH\n  language: de\n  contract:\n" + textwrap.indent(
        textwrap.dedent(body), "    ")
    return contract_from_mapping(parse_yaml(text, FILE)["customer"]["contract"], file=FILE)


def test_defaults() -> None:
    contract = contract_from_mapping(None)
    assert contract.timezone.key == "Europe/Berlin"
    hours = contract.service_hours
    assert (hours.days, hours.start, hours.end, hours.holidays) == (
        frozenset(range(5)), time(9), time(17), "DE-BW")
    assert dict(contract.reaction) == {1: timedelta(hours=4), 2: timedelta(hours=8),
                                       3: timedelta(hours=16)}
    assert contract.on_call.mode == "none"
    assert contract_from_mapping({}) == contract


def test_full_example_from_the_issue() -> None:
    contract = contract_yaml("""\
        timezone: Europe/Berlin
        service_hours: {days: mon-fri, from: "09:00", to: "17:00", holidays: DE-BW}
        reaction: {1: 4h, 2: 8h, 3: 16h}
        on_call:
          mode: periods
          periods: [{from: "2026-12-23T17:00", to: "2027-01-02T09:00"}]
          reaction: {1: 1h}
        """)
    (start, end), = contract.on_call.periods
    assert (start.isoformat(), end.isoformat()) == ("2026-12-23T17:00:00+01:00",
                                                    "2027-01-02T09:00:00+01:00")
    assert dict(contract.on_call.reaction) == {1: timedelta(hours=1)}


def test_unquoted_times_survive_yaml_base_60() -> None:
    # YAML 1.1 reads unquoted 17:00 as the integer 1020 (17 * 60); it must still mean 17:00.
    contract = contract_yaml("service_hours: {from: 8:30, to: 17:00}\n")
    assert (contract.service_hours.start, contract.service_hours.end) == (time(8, 30), time(17))


def test_yaml_native_datetimes_and_offsets_in_periods() -> None:
    # With seconds YAML makes a datetime itself; an offset is kept, not replaced by local time.
    contract = contract_yaml("""\
        on_call:
          mode: periods
          reaction: {1: 1h}
          periods:
            - {from: 2026-12-23T17:00:00, to: "2026-12-24T08:00:00Z"}
        """)
    (start, end), = contract.on_call.periods
    assert (start.isoformat(), end.isoformat()) == ("2026-12-23T17:00:00+01:00",
                                                    "2026-12-24T09:00:00+01:00")


@pytest.mark.parametrize(("days", "expected"), [
    ("mon-fri", {0, 1, 2, 3, 4}),
    ("mon,tue,thu", {0, 1, 3}),
    ("Mon-Wed,Fri", {0, 1, 2, 4}),
    ("fri-mon", {4, 5, 6, 0}),        # a range may wrap over the weekend
    ("[sat, sunday]", {5, 6}),        # a YAML list, long names
])
def test_days(days: str, expected: set[int]) -> None:
    assert contract_yaml(f"service_hours:\n  days: {days}\n").service_hours.days == expected


def test_other_holiday_calendars_are_normalised() -> None:
    assert contract_yaml("service_hours: {holidays: de-by}\n").service_hours.holidays == "DE-BY"
    assert contract_yaml("service_hours: {holidays: DE}\n").service_hours.holidays == "DE"
    assert contract_yaml("service_hours: {holidays: None}\n").service_hours.holidays == "none"


@pytest.mark.parametrize("contract", [
    contract_from_mapping(None),
    contract_from_mapping({
        "timezone": "Europe/Vienna",
        "service_hours": {"days": "mon,wed,fri-sat", "from": "07:30", "to": "18:15",
                          "holidays": "AT-9"},
        "reaction": {1: "30m", 2: "1h30m", 3: "16h"},
        "on_call": {"mode": "periods", "reaction": {1: "15m", 2: "2h"},
                    "periods": [{"from": "2026-12-23T17:00", "to": "2027-01-02T09:00"},
                                {"from": "2026-10-24T20:00", "to": "2026-10-25T04:00"}]},
    }),
], ids=["default", "everything-set"])
def test_json_round_trip(contract: Contract) -> None:
    assert Contract.from_json(contract.to_json()) == contract


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)),
    ("4h", timedelta(hours=4)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    ("90m", timedelta(minutes=90)),
    ("0m", timedelta(0)),
])
def test_parse_reaction_time(text: str, expected: timedelta) -> None:
    assert parse_reaction_time(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("2d", "days are ambiguous in service hours"),
    ("4", "not a duration"),
    ("", "not a duration"),
    ("h", "not a duration"),
    ("4 hours", "not a duration"),
    ("30m1h", "not a duration"),
    ("-1h", "not a duration"),
    (4, "give a unit"),
])
def test_parse_reaction_time_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_reaction_time(text)


# Each body starts on line 5 of the inventory (customer, name, language, contract come first).
BAD_CONTRACTS = [
    pytest.param("reaction: {1: 4 hours, 2: 8h, 3: 16h}\n",
                 "inventory/acme.yml:5: contract.reaction.1: not a duration: '4 hours' "
                 "(e.g. 30m, 4h, 1h30m)", id="bad-duration"),
    pytest.param("reaction: {1: 2d, 2: 8h, 3: 16h}\n",
                 "inventory/acme.yml:5: contract.reaction.1: days are ambiguous in service "
                 "hours: '2d' (write hours, e.g. 16h)", id="duration-in-days"),
    pytest.param("reaction: {1: 0m, 2: 8h, 3: 16h}\n",
                 "inventory/acme.yml:5: contract.reaction.1: reaction time must be positive",
                 id="zero-reaction"),
    pytest.param("reaction:\n  1: 4h\n  4: 8h\n",
                 "inventory/acme.yml:7: contract.reaction.4: unknown category 4 "
                 "(categories are 1, 2, 3)", id="category-4"),
    pytest.param("reaction:\n  1: 4h\n  '1': 2h\n  2: 8h\n  3: 16h\n",
                 "inventory/acme.yml:7: contract.reaction.1: category 1 given twice",
                 id="category-twice"),
    pytest.param("reaction: {1: 4h, 2: 8h}\n",
                 "inventory/acme.yml:5: contract.reaction: missing category 3 "
                 "(a contract names all three)", id="category-missing"),
    pytest.param("timezone: Europe/Berlin\nreactions: {1: 4h}\n",
                 "inventory/acme.yml:6: contract.reactions: unknown key 'reactions' "
                 "(allowed: timezone, service_hours, reaction, on_call)", id="unknown-key"),
    pytest.param("service_hours:\n  days: mon-fri\n  until: '18:00'\n",
                 "inventory/acme.yml:7: contract.service_hours.until: unknown key 'until' "
                 "(allowed: days, from, to, holidays)", id="unknown-service-hours-key"),
    pytest.param("timezone: Europe/Berlinn\n",
                 "inventory/acme.yml:5: contract.timezone: unknown timezone 'Europe/Berlinn' "
                 "(an IANA name like Europe/Berlin)", id="bad-timezone"),
    pytest.param("service_hours: {days: mon-fry}\n",
                 "inventory/acme.yml:5: contract.service_hours.days: unknown day 'fry' "
                 "(mon, tue, wed, thu, fri, sat, sun)", id="bad-days"),
    pytest.param("service_hours:\n  from: '17:00'\n  to: '09:00'\n",
                 "inventory/acme.yml:7: contract.service_hours.to: 'to' (09:00) must be after "
                 "'from' (17:00) on the same day", id="to-before-from"),
    pytest.param("service_hours: {from: '9 Uhr'}\n",
                 "inventory/acme.yml:5: contract.service_hours.from: not a time of day: "
                 "'9 Uhr' (HH:MM, 00:00 to 23:59)", id="bad-time-of-day"),
    pytest.param("service_hours: {holidays: DE-XX}\n",
                 "inventory/acme.yml:5: contract.service_hours.holidays: unknown subdivision "
                 "'XX' of DE (one of BB, BE, BW, BY, HB, HE, HH, MV, NI, NW, RP, SH, SL, SN, ST, "
                 "TH, Augsburg)", id="bad-holidays"),
    pytest.param("service_hours: {days: mon,tue,thu}\n",
                 "inventory/acme.yml:5: contract.service_hours.days: stray key 'tue': quote a "
                 'list of days inside {...}, e.g. days: "mon,tue,thu"', id="unquoted-day-list"),
    pytest.param("on_call:\n  mode: sometimes\n",
                 "inventory/acme.yml:6: contract.on_call.mode: unknown mode 'sometimes' "
                 "(none, permanent, periods)", id="bad-mode"),
    pytest.param("on_call:\n  mode: permanent\n",
                 "inventory/acme.yml:6: contract.on_call.reaction: mode permanent needs a "
                 "reaction, e.g. {1: 1h}", id="on-call-without-reaction"),
    pytest.param("on_call:\n  mode: periods\n  reaction: {1: 1h}\n",
                 "inventory/acme.yml:6: contract.on_call.periods: mode periods needs at least "
                 "one period", id="periods-without-periods"),
    pytest.param("on_call:\n  mode: permanent\n  reaction: {1: 1h}\n"
                 "  periods: [{from: '2026-12-23T17:00', to: '2027-01-02T09:00'}]\n",
                 "inventory/acme.yml:8: contract.on_call.periods: periods are only read with "
                 "mode periods (mode is permanent)", id="periods-with-permanent"),
    pytest.param("on_call:\n  mode: periods\n  reaction: {1: 1h}\n  periods:\n"
                 "    - {from: '2026-12-23T17:00', to: '2027-01-02T09:00'}\n"
                 "    - from: '2027-01-02T09:00'\n      to: '2026-12-23T17:00'\n",
                 "inventory/acme.yml:11: contract.on_call.periods[1].to: ends "
                 "(2026-12-23T17:00:00+01:00) before it starts (2027-01-02T09:00:00+01:00)",
                 id="period-end-before-start"),
    pytest.param("on_call:\n  mode: periods\n  reaction: {1: 1h}\n  periods:\n"
                 "    - from: '2026-10-25T02:30'\n      to: '2026-10-26T09:00'\n",
                 "inventory/acme.yml:9: contract.on_call.periods[0].from: 2026-10-25T02:30 "
                 "occurs twice in Europe/Berlin (the clocks go back); give an offset, +02:00 "
                 "or +01:00", id="period-in-repeated-hour"),
    pytest.param("on_call:\n  mode: periods\n  reaction: {1: 1h}\n  periods:\n"
                 "    - from: '2026-12-23T17:00'\n",
                 "inventory/acme.yml:9: contract.on_call.periods[0].to: 'to' is missing",
                 id="period-without-end"),
    pytest.param("on_call:\n  mode: permanent\n  reaction: {yes: 1h}\n",
                 "inventory/acme.yml:7: contract.on_call.reaction.True: unknown category True "
                 "(categories are 1, 2, 3)", id="yaml-yes-is-not-category-1"),
]


@pytest.mark.parametrize(("body", "message"), BAD_CONTRACTS)
def test_bad_contract_names_file_line_and_field(body: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        contract_yaml(body)
    assert str(caught.value) == message
    assert caught.value.file == FILE


def test_contract_that_is_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^inv.yml: contract: must be a mapping, not str$"):
        contract_from_mapping("4h", file="inv.yml")  # type: ignore[arg-type]


def test_plain_dict_errors_name_the_file_without_a_line() -> None:
    with pytest.raises(ConfigError) as caught:
        contract_from_mapping({"timezone": "Mars/Olympus"}, file="snapshot.json")
    assert str(caught.value) == ("snapshot.json: contract.timezone: unknown timezone "
                                 "'Mars/Olympus' (an IANA name like Europe/Berlin)")


def test_period_times_are_local_unless_an_offset_is_given() -> None:
    contract = contract_yaml("""\
        timezone: Europe/London
        service_hours: {holidays: none}
        on_call:
          mode: periods
          reaction: {1: 1h}
          periods:
            - {from: "2026-12-23T17:00", to: "2026-12-24T09:00+01:00"}
        """)
    (start, end), = contract.on_call.periods
    assert start == parse_time("2026-12-23T17:00Z", contract)  # London = UTC in winter
    assert end.isoformat() == "2026-12-24T08:00:00+00:00"
