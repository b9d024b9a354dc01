"""The alert decisions, as pure logic over check points: what changed is said once, a persisting
problem again after alert_repeat, a flapping check once as flapping and once when it settles;
and the service-hours note from the customer's contract."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from runbook.sweeps.alert_mail import hours_note
from runbook.sweeps.alerts import AlertPolicy, decide
from runbook.errors import ConfigError
from runbook.sweeps.history import CheckPoint
from runbook.hostvars import HostVars
from runbook.inventory import load_inventory

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def point(status: str, *, check: str = "disk:/var", host: str = "web1") -> CheckPoint:
    return CheckPoint("run", T0, host, "acme", check, status, None, f"{check} is {status}")


def sweep_sequence(statuses: list[str], *, every: timedelta = timedelta(minutes=5),
                   policy: AlertPolicy = AlertPolicy(), check: str = "disk:/var") -> list[list[str]]:
    """The alert kinds of each sweep in turn."""
    state: dict = {}
    said = []
    for i, status in enumerate(statuses):
        alerts, state = decide(state, [point(status, check=check)], {"web1": policy}, T0 + i * every)
        said.append([a.kind for a in alerts])
    return said


def test_a_new_problem_is_said_once_and_its_recovery_once() -> None:
    assert sweep_sequence(["OK", "CRITICAL", "CRITICAL", "CRITICAL", "OK", "OK"]) == [
        [], ["problem"], [], [], ["recovery"], []]


def test_a_problem_found_by_the_first_alerting_sweep_is_announced() -> None:
    assert sweep_sequence(["WARNING", "WARNING"]) == [["problem"], []]


def test_worse_and_better_while_it_stays_a_problem() -> None:
    assert sweep_sequence(["WARNING", "CRITICAL", "WARNING"]) == [["problem"], ["worse"], ["better"]]


def test_a_persisting_problem_is_repeated_after_alert_repeat() -> None:
    hourly = sweep_sequence(["CRITICAL"] * 10, every=timedelta(hours=1))
    assert hourly == [["problem"], [], [], [], ["repeat"], [], [], [], ["repeat"], []]
    policy = AlertPolicy.from_vars({"alert_repeat": "2h"})
    assert sweep_sequence(["CRITICAL"] * 5, every=timedelta(hours=1), policy=policy) == [
        ["problem"], [], ["repeat"], [], ["repeat"]]


def test_flapping_is_said_once_and_once_more_when_it_settles() -> None:
    flaps = ["OK", "CRITICAL"] * 5 + ["OK"] * 14
    said = sweep_sequence(flaps)  # a sweep every 5 minutes: 9 changes within 45 minutes
    kinds = [k for sweep in said for k in sweep]
    assert kinds == ["problem", "recovery", "problem", "recovery", "flapping", "settled"]
    settled_at = next(i for i, s in enumerate(said) if s == ["settled"])
    assert settled_at * 5 >= 60        # once at most 4 changes are left within the last hour


def test_unknown_is_no_recovery_and_an_unreachable_host_keeps_its_disks() -> None:
    state: dict = {}
    alerts, state = decide(state, [point("CRITICAL")], {}, T0)
    alerts, state = decide(state, [point("UNKNOWN")], {}, T0 + timedelta(minutes=5))
    assert alerts == [] and state["web1|disk:/var"].status == "CRITICAL"
    down = [point("CRITICAL", check="reachability")]
    alerts, state = decide(state, down, {}, T0 + timedelta(minutes=10))
    assert [(a.kind, a.check) for a in alerts] == [("problem", "reachability")]
    assert state["web1|disk:/var"].status == "CRITICAL"            # nothing is known of it: kept
    up = [point("OK", check="reachability"), point("OK")]
    alerts, state = decide(state, up, {}, T0 + timedelta(minutes=15))
    assert sorted((a.kind, a.check) for a in alerts) == [("recovery", "disk:/var"), ("recovery", "reachability")]


def test_a_check_gone_from_a_reached_host_is_forgotten_silently() -> None:
    alerts, state = decide({}, [point("OK", check="reachability"), point("CRITICAL", check="disk:/mnt")], {}, T0)
    alerts, state = decide(state, [point("OK", check="reachability")], {}, T0 + timedelta(minutes=5))
    assert alerts == [] and "web1|disk:/mnt" not in state


def test_bad_alert_vars_name_the_file_line_and_var(tmp_path: Path) -> None:
    path = tmp_path / "acme.yml"
    path.write_text("customer: {name: ACME}\ndefaults:\n  vars:\n    alert_repeat: soon\n"
                    "hosts:\n  web1:\n    vars: {alert_flap_changes: often}\n")
    web1 = load_inventory([path]).hosts["web1"]
    with pytest.raises(ConfigError) as caught:
        AlertPolicy.from_vars(HostVars.of(web1))
    assert str(caught.value).startswith(f"{path}:4: vars.alert_repeat: not a duration")
    with pytest.raises(ConfigError) as caught:
        AlertPolicy.from_vars(HostVars.of(web1, {**web1.vars, "alert_repeat": "2h"}))
    assert str(caught.value).startswith(f"{path}:7: vars.alert_flap_changes: must be a whole number >= 1")


def customer_with(tmp_path: Path, contract: dict) -> object:
    path = tmp_path / "acme.yml"
    path.write_text(yaml.safe_dump({"customer": {"name": "ACME GmbH", "contract": contract},
                                    "hosts": {"web1": {"address": "10.0.0.1"}}}))
    return load_inventory([path]).customers["acme"]


def test_outside_service_hours_the_alert_says_whether_on_call_covers_it(tmp_path: Path) -> None:
    saturday = datetime(2026, 12, 5, 2, 14, tzinfo=timezone.utc)
    tuesday_noon = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)    # 12:00 in Berlin
    plain = customer_with(tmp_path, {"reaction": {1: "4h", 2: "8h", 3: "16h"}})
    assert hours_note(plain, tuesday_noon) is None
    note = hours_note(plain, saturday)
    assert "Outside service hours (09:00-17:00 Europe/Berlin): the contract has no on-call now" in note
    assert "Mon 2026-12-07 09:00 CET" in note
    covered = customer_with(tmp_path, {"on_call": {"mode": "periods", "reaction": {1: "1h"},
                                                   "periods": [{"from": "2026-12-04T17:00", "to": "2026-12-07T09:00"}]}})
    assert hours_note(covered, saturday) == ("Outside service hours (09:00-17:00 Europe/Berlin): the contract has "
                                             "on-call now (reaction: category 1 within 1h).")
    assert "no on-call now" in hours_note(covered, saturday + timedelta(days=7))
