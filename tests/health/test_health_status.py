"""Status ranking and the Check value."""

from __future__ import annotations

import pytest

from runbook.health import Check, Status, worst

OK, WARNING, CRITICAL, UNKNOWN = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN


def test_values_are_monitoring_plugin_exit_codes() -> None:
    assert [int(s) for s in (OK, WARNING, CRITICAL, UNKNOWN)] == [0, 1, 2, 3]


@pytest.mark.parametrize("statuses, expected", [
    ([], UNKNOWN),                          # nothing checked is not "fine"
    ([OK], OK),
    ([OK, WARNING], WARNING),
    ([OK, UNKNOWN], UNKNOWN),
    ([UNKNOWN, WARNING], WARNING),          # a known problem outranks a failed probe
    ([CRITICAL, UNKNOWN], CRITICAL),
    ([WARNING, CRITICAL, OK], CRITICAL),
])
def test_worst(statuses: list[Status], expected: Status) -> None:
    assert worst(statuses) is expected
    assert worst(Check(f"c{i}", s, "m") for i, s in enumerate(statuses)) is expected


def test_check_to_json_flattens_details_without_shadowing() -> None:
    check = Check("disk:/var", Status.WARNING, "/var 85% used (1.0 GiB free) >= 80%", 85.0, 80.0,
                  90.0, "%", {"mount": "/var", "used_percent": 85.0, "status": "spoofed"})
    data = check.to_json()
    assert data["status"] == "WARNING" and data["code"] == 1
    assert data["mount"] == "/var" and data["used_percent"] == 85.0
    assert list(data)[:2] == ["mount", "used_percent"]
