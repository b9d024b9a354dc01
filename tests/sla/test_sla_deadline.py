"""Reaction deadlines, hand-checked.

Every row carries its hand calculation. Calendar facts used (checked against a wall calendar):
2026: Easter Sunday 5 Apr (Good Friday 3 Apr, Easter Monday 6 Apr), Ascension Thu 14 May,
Whit Monday 25 May, Corpus Christi Thu 4 Jun (BW yes, BE no), 24 Dec Thu, 25 Dec Fri, 31 Dec
Thu, 1 Jan 2027 Fri, Epiphany Wed 6 Jan 2027 (BW yes, BE no), All Saints Mon 1 Nov 2027 (BW).
DST 2026: clocks 02:00 CET -> 03:00 CEST on Sun 29 Mar, 03:00 CEST -> 02:00 CET on Sun 25 Oct.
Default contract: Mon-Fri 09:00-17:00 Europe/Berlin, DE-BW holidays, reaction 1: 4h, 2: 8h,
3: 16h. The holidays come from the real holidays package, not a mock.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from runbook.sla import (
    Contract,
    contract_from_mapping,
    parse_time,
    reaction_deadline,
)

CONTRACTS: dict[str, Contract] = {
    "default": contract_from_mapping(None),
    "berlin-state": contract_from_mapping({"service_hours": {"holidays": "DE-BE"}}),
    "mon-tue-thu-mornings": contract_from_mapping(
        {"service_hours": {"days": "mon,tue,thu", "from": "08:00", "to": "12:00"}}),
    "mon-sat": contract_from_mapping({"service_hours": {"days": "mon-sat"}}),
    # On-call for categories 1 and 2 only; category 3 has no on-call reaction.
    "permanent": contract_from_mapping(
        {"on_call": {"mode": "permanent", "reaction": {1: "1h", 2: "4h"}}}),
    # On-call slower than service hours: the service-hours deadline must win.
    "permanent-slow": contract_from_mapping(
        {"on_call": {"mode": "permanent", "reaction": {1: "8h"}}}),
    "none-with-reaction": contract_from_mapping(
        {"on_call": {"mode": "none", "reaction": {1: "1h"}}}),
    "christmas": contract_from_mapping({"on_call": {
        "mode": "periods", "reaction": {1: "1h"},
        "periods": [{"from": "2026-12-23T17:00", "to": "2027-01-02T09:00"}]}}),
    "spring-dst-weekend": contract_from_mapping({"on_call": {
        "mode": "periods", "reaction": {1: "1h"},
        "periods": [{"from": "2026-03-28T17:00", "to": "2026-03-30T09:00"}]}}),
    # 03:00 on 25 Oct exists once (CET, 02:00 UTC); the period holds the repeated hour.
    "autumn-dst-night": contract_from_mapping({"on_call": {
        "mode": "periods", "reaction": {1: "4h"},
        "periods": [{"from": "2026-10-24T17:00", "to": "2026-10-25T03:00"}]}}),
}


def case(name: str, contract: str, category: int, received: str, deadline: str,
         basis: str = "service-hours", *, service: str | None = None,
         on_call: str | None = None) -> object:
    """One row; ``service`` defaults to ``deadline`` (the usual service-hours-only case)."""
    return pytest.param(contract, category, received, deadline, basis, service or deadline,
                        on_call, id=name)


CASES = [
    # -- service hours only, ordinary weeks -----------------------------------------------
    # Fri 16:30 -> 17:00 uses 0.5h; Sat, Sun closed; Mon 09:00 + 3.5h = 12:30.
    case("friday-1630-cat1", "default", 1, "2026-11-20T16:30", "2026-11-23T12:30:00+01:00"),
    # Mon 10:00 + 4h = 14:00, all inside 09-17.
    case("monday-morning-cat1", "default", 1, "2026-11-23T10:00", "2026-11-23T14:00:00+01:00"),
    # Wed 13:00 + 4h ends exactly at 17:00: the deadline is 17:00, not Thu 09:00.
    case("ends-at-closing", "default", 1, "2026-11-25T13:00", "2026-11-25T17:00:00+01:00"),
    # Received at 17:00 sharp: nothing left today; Thu 09:00 + 4h = 13:00.
    case("received-at-closing", "default", 1, "2026-11-25T17:00", "2026-11-26T13:00:00+01:00"),
    # Received 07:00 before opening: the clock starts 09:00; + 4h = 13:00.
    case("before-opening", "default", 1, "2026-11-25T07:00", "2026-11-25T13:00:00+01:00"),
    # Cat 2 (8h), Tue 10:00: 7h until 17:00, 1h on Wed -> Wed 10:00.
    case("cat2-overnight", "default", 2, "2026-11-24T10:00", "2026-11-25T10:00:00+01:00"),
    # Cat 3 (16h), Fri 09:00: 8h Fri, weekend, 8h Mon -> Mon 17:00.
    case("cat3-over-weekend", "default", 3, "2026-11-20T09:00", "2026-11-23T17:00:00+01:00"),
    # Saturday 11:00: nothing counts until Mon 09:00; + 4h = 13:00.
    case("saturday", "default", 1, "2026-11-21T11:00", "2026-11-23T13:00:00+01:00"),
    # Fri 15:30 UTC is 16:30 CET: same as friday-1630, input in another offset.
    case("received-in-utc", "default", 1, "2026-11-20T15:30Z", "2026-11-23T12:30:00+01:00"),
    # -- holidays -------------------------------------------------------------------------
    # Maundy Thu 2 Apr 16:30: 0.5h; Good Friday 3 Apr, weekend, Easter Monday 6 Apr closed;
    # Tue 7 Apr 09:00 + 3.5h = 12:30 CEST.
    case("maundy-thursday-evening", "default", 1, "2026-04-02T16:30",
         "2026-04-07T12:30:00+02:00"),
    # Maundy Thu 18:00, cat 2: all 8h on Tue 7 Apr -> 17:00.
    case("maundy-thursday-cat2", "default", 2, "2026-04-02T18:00", "2026-04-07T17:00:00+02:00"),
    # Received on Good Friday 10:00 (a holiday): clock starts Tue 7 Apr 09:00 -> 13:00.
    case("on-good-friday", "default", 1, "2026-04-03T10:00", "2026-04-07T13:00:00+02:00"),
    # Received on Whit Monday 25 May 08:00, cat 2: Tue 26 May 09:00 + 8h = 17:00.
    case("on-whit-monday", "default", 2, "2026-05-25T08:00", "2026-05-26T17:00:00+02:00"),
    # Ascension Thu 14 May 10:00: clock starts Fri 15 May 09:00 -> 13:00.
    case("on-ascension", "default", 1, "2026-05-14T10:00", "2026-05-15T13:00:00+02:00"),
    # Wed 3 Jun 16:00: 1h; Thu 4 Jun Corpus Christi (BW) closed; Fri 5 Jun 09:00 + 3h = 12:00.
    case("corpus-christi-bw", "default", 1, "2026-06-03T16:00", "2026-06-05T12:00:00+02:00"),
    # Same fault under Berlin's holidays: 4 Jun is a working day -> Thu 09:00 + 3h = 12:00.
    case("corpus-christi-be", "berlin-state", 1, "2026-06-03T16:00",
         "2026-06-04T12:00:00+02:00"),
    # Wed 23 Dec 16:00: 1h; 24 Dec is a working day: 09:00 + 3h = 12:00 on 24 Dec.
    case("dec23-into-christmas-eve", "default", 1, "2026-12-23T16:00",
         "2026-12-24T12:00:00+01:00"),
    # Thu 24 Dec 16:00: 1h; 25 Dec (Fri, holiday), 26/27 weekend; Mon 28 Dec 09:00 + 3h.
    case("christmas-eve-afternoon", "default", 1, "2026-12-24T16:00",
         "2026-12-28T12:00:00+01:00"),
    # Thu 31 Dec 10:00: New Year's Eve is a working day -> 14:00 the same day.
    case("new-years-eve-morning", "default", 1, "2026-12-31T10:00", "2026-12-31T14:00:00+01:00"),
    # Thu 31 Dec 16:00: 1h; 1 Jan (Fri) holiday, weekend; Mon 4 Jan 09:00 + 3h = 12:00.
    case("new-years-eve-afternoon", "default", 1, "2026-12-31T16:00",
         "2027-01-04T12:00:00+01:00"),
    # Tue 5 Jan 2027 15:00: 2h; Wed 6 Jan Epiphany (BW) closed; Thu 7 Jan 09:00 + 2h = 11:00.
    case("epiphany-bw", "default", 1, "2027-01-05T15:00", "2027-01-07T11:00:00+01:00"),
    # Berlin has no Epiphany: Wed 6 Jan 09:00 + 2h = 11:00.
    case("epiphany-be", "berlin-state", 1, "2027-01-05T15:00", "2027-01-06T11:00:00+01:00"),
    # Fri 29 Oct 2027 16:00: 1h; weekend; Mon 1 Nov All Saints (BW); Tue 2 Nov 09:00 + 3h.
    case("all-saints-bw", "default", 1, "2027-10-29T16:00", "2027-11-02T12:00:00+01:00"),
    # -- other service hours --------------------------------------------------------------
    # Mon, Tue, Thu 08-12; Tue 11:00: 1h; Wed no service; Thu 08:00 + 3h = 11:00.
    case("mon-tue-thu-mornings", "mon-tue-thu-mornings", 1, "2026-11-24T11:00",
         "2026-11-26T11:00:00+01:00"),
    # Mon-Sat; Sat 16:00: 1h; Sun closed; Mon 09:00 + 3h = 12:00.
    case("saturday-service", "mon-sat", 1, "2026-11-21T16:00", "2026-11-23T12:00:00+01:00"),
    # -- DST in service-hours counting ----------------------------------------------------
    # Fri 27 Mar 16:30 CET: 0.5h; Mon 30 Mar 09:00 CEST + 3.5h = 12:30 CEST (local 09:00 kept).
    case("friday-before-spring-dst", "default", 1, "2026-03-27T16:30",
         "2026-03-30T12:30:00+02:00"),
    # Fri 23 Oct 16:30 CEST: 0.5h; Mon 26 Oct 09:00 CET + 3.5h = 12:30 CET.
    case("friday-before-autumn-dst", "default", 1, "2026-10-23T16:30",
         "2026-10-26T12:30:00+01:00"),
    # -- on-call permanent ----------------------------------------------------------------
    # Sat 03:00 + 1h on call = 04:00; service hours alone: Mon 09:00 + 4h = 13:00.
    case("permanent-saturday-night", "permanent", 1, "2026-11-21T03:00",
         "2026-11-21T04:00:00+01:00", "on-call", service="2026-11-23T13:00:00+01:00",
         on_call="2026-11-21T04:00:00+01:00"),
    # Wed 10:00 in service hours: on call 1h -> 11:00 beats 14:00.
    case("permanent-in-service-hours", "permanent", 1, "2026-11-25T10:00",
         "2026-11-25T11:00:00+01:00", "on-call", service="2026-11-25T14:00:00+01:00",
         on_call="2026-11-25T11:00:00+01:00"),
    # Spring DST: 01:30 CET = 00:30 UTC; + 1h = 01:30 UTC = 03:30 CEST (02:xx does not exist).
    # Service hours: Mon 30 Mar 09:00 CEST + 4h = 13:00.
    case("permanent-spring-dst", "permanent", 1, "2026-03-29T01:30",
         "2026-03-29T03:30:00+02:00", "on-call", service="2026-03-30T13:00:00+02:00",
         on_call="2026-03-29T03:30:00+02:00"),
    # Autumn DST: 02:30 CEST (first one) = 00:30 UTC; + 1h = 01:30 UTC = 02:30 CET (second).
    case("permanent-autumn-dst-cat1", "permanent", 1, "2026-10-25T02:30+02:00",
         "2026-10-25T02:30:00+01:00", "on-call", service="2026-10-26T13:00:00+01:00",
         on_call="2026-10-25T02:30:00+01:00"),
    # Autumn DST, cat 2 (4h on call): 01:30 CEST = 23:30 UTC Sat; + 4h = 03:30 UTC = 04:30 CET
    # (wall-clock arithmetic would wrongly say 05:30). Service: Mon 26 Oct 09:00 + 8h = 17:00.
    case("permanent-autumn-dst-cat2", "permanent", 2, "2026-10-25T01:30",
         "2026-10-25T04:30:00+01:00", "on-call", service="2026-10-26T17:00:00+01:00",
         on_call="2026-10-25T04:30:00+01:00"),
    # Cat 3 has no on-call reaction: Sat 10:00, 16h of service = Mon 8h + Tue 8h -> Tue 17:00.
    case("permanent-cat-without-on-call", "permanent", 3, "2026-11-21T10:00",
         "2026-11-24T17:00:00+01:00"),
    # On call 8h from Wed 10:00 = 18:00; service 4h = 14:00: the earlier (service) wins.
    case("permanent-slower-than-service", "permanent-slow", 1, "2026-11-25T10:00",
         "2026-11-25T14:00:00+01:00", service="2026-11-25T14:00:00+01:00",
         on_call="2026-11-25T18:00:00+01:00"),
    # Fri 16:30, on call 8h: 0.5h service then all the weekend is covered: Sat 00:30 < Mon 12:30.
    case("permanent-slow-friday", "permanent-slow", 1, "2026-11-20T16:30",
         "2026-11-21T00:30:00+01:00", "on-call", service="2026-11-23T12:30:00+01:00",
         on_call="2026-11-21T00:30:00+01:00"),
    # -- on-call none ---------------------------------------------------------------------
    # Mode none: the on-call reaction is ignored. Sat 03:00 -> Mon 09:00 + 4h = 13:00.
    case("mode-none", "none-with-reaction", 1, "2026-11-21T03:00", "2026-11-23T13:00:00+01:00"),
    # -- on-call periods (23 Dec 17:00 - 2 Jan 09:00, cat 1: 1h) --------------------------
    # Christmas Day 10:00, inside the period: 11:00. Service: Mon 28 Dec 09:00 + 4h = 13:00.
    case("period-christmas-day", "christmas", 1, "2026-12-25T10:00",
         "2026-12-25T11:00:00+01:00", "on-call", service="2026-12-28T13:00:00+01:00",
         on_call="2026-12-25T11:00:00+01:00"),
    # Straddling the period start: 16:30-17:00 service (0.5h), from 17:00 on call -> 17:30.
    # Service only: 0.5h, then 24 Dec 09:00 + 3.5h = 12:30.
    case("period-straddles-start", "christmas", 1, "2026-12-23T16:30",
         "2026-12-23T17:30:00+01:00", "on-call", service="2026-12-24T12:30:00+01:00",
         on_call="2026-12-23T17:30:00+01:00"),
    # Straddling the period end (Sat 2 Jan 09:00): 08:30-09:00 on call (0.5h); the rest of the
    # weekend is not covered; Mon 4 Jan 09:00 + 0.5h = 09:30. Service: Mon 09:00 + 4h = 13:00.
    case("period-straddles-end", "christmas", 1, "2027-01-02T08:30",
         "2027-01-04T09:30:00+01:00", "on-call", service="2027-01-04T13:00:00+01:00",
         on_call="2027-01-04T09:30:00+01:00"),
    # Outside the period (Wed 9 Dec 20:00): the clock would run only through Thursday's
    # service hours, where nobody is on call: no on-call deadline; Thu 09:00 + 4h = 13:00.
    case("period-outside", "christmas", 1, "2026-12-09T20:00",
         "2026-12-10T13:00:00+01:00", "service-hours", service="2026-12-10T13:00:00+01:00",
         on_call=None),
    # Wed 23 Dec 16:30, period from 17:00: 30 min service time + 30 min on-call = 17:30.
    case("period-starts-during-count", "christmas", 1, "2026-12-23T16:30",
         "2026-12-23T17:30:00+01:00", "on-call", service="2026-12-24T12:30:00+01:00",
         on_call="2026-12-23T17:30:00+01:00"),
    # Cat 2 has no on-call reaction, even inside the period: Mon 28 Dec 09:00 + 8h = 17:00.
    case("period-cat-without-on-call", "christmas", 2, "2026-12-25T10:00",
         "2026-12-28T17:00:00+01:00"),
    # Period over the spring DST night: 01:30 CET + 1h real time = 03:30 CEST.
    case("period-spring-dst", "spring-dst-weekend", 1, "2026-03-29T01:30",
         "2026-03-29T03:30:00+02:00", "on-call", service="2026-03-30T13:00:00+02:00",
         on_call="2026-03-29T03:30:00+02:00"),
    # Period ends 03:00 CET = 02:00 UTC. From 01:30 CEST (23:30 UTC) that is 2.5h real time,
    # not the 1.5h of the wall clock; 4h - 2.5h = 1.5h left: Mon 26 Oct 09:00 + 1.5h = 10:30.
    # Service: Mon 09:00 + 4h = 13:00.
    case("period-autumn-dst-end", "autumn-dst-night", 1, "2026-10-25T01:30",
         "2026-10-26T10:30:00+01:00", "on-call", service="2026-10-26T13:00:00+01:00",
         on_call="2026-10-26T10:30:00+01:00"),
]


@pytest.mark.parametrize(("contract", "category", "received", "deadline", "basis", "service",
                          "on_call"), CASES)
def test_reaction_deadline(contract: str, category: int, received: str, deadline: str,
                           basis: str, service: str, on_call: str | None) -> None:
    terms = CONTRACTS[contract]
    result = reaction_deadline(terms, category, parse_time(received, terms))
    # isoformat compares the instant and the offset shown to the customer.
    assert result.deadline.isoformat() == deadline
    assert result.basis == basis
    assert result.service_hours_deadline.isoformat() == service
    assert (result.on_call_deadline.isoformat() if result.on_call_deadline else None) == on_call


def test_to_json_has_iso_times_with_offsets() -> None:
    terms = CONTRACTS["permanent"]
    result = reaction_deadline(terms, 1, parse_time("2026-03-29T01:30", terms))
    assert result.to_json() == {
        "deadline": "2026-03-29T03:30:00+02:00",
        "basis": "on-call",
        "category": 1,
        "received": "2026-03-29T01:30:00+01:00",
        "service_hours_deadline": "2026-03-30T13:00:00+02:00",
        "on_call_deadline": "2026-03-29T03:30:00+02:00",
    }


def test_received_is_shown_in_contract_time() -> None:
    terms = CONTRACTS["default"]
    result = reaction_deadline(terms, 1, parse_time("2026-11-20T15:30Z", terms))
    assert result.received.isoformat() == "2026-11-20T16:30:00+01:00"


@pytest.mark.parametrize("category", [0, 4, -1])
def test_unknown_category_is_refused(category: int) -> None:
    with pytest.raises(ValueError, match="unknown fault category"):
        reaction_deadline(CONTRACTS["default"], category, parse_time("2026-11-20T10:00",
                                                                     CONTRACTS["default"]))


def test_naive_received_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        reaction_deadline(CONTRACTS["default"], 1, datetime(2026, 11, 20, 10, 0))
