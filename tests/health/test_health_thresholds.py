"""Threshold syntax and validation."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.errors import ConfigError
from runbook.health.checks import format_percent
from runbook.health.thresholds import BYTES, NUMBER, PERCENT, Threshold, Thresholds, parse_threshold

GIB = 1024**3


@pytest.mark.parametrize("raw, kinds, expected", [
    (80, (PERCENT,), Threshold(PERCENT, 80.0, "80%")),
    ("80", (PERCENT,), Threshold(PERCENT, 80.0, "80%")),
    ("80%", (PERCENT,), Threshold(PERCENT, 80.0, "80%")),
    (" 92.5 % ", (PERCENT,), Threshold(PERCENT, 92.5, "92.5%")),
    (0, (PERCENT,), Threshold(PERCENT, 0.0, "0%")),
    ("5GiB", (PERCENT, BYTES), Threshold(BYTES, 5.0 * GIB, "5.0 GiB")),
    ("5G", (PERCENT, BYTES), Threshold(BYTES, 5.0 * GIB, "5.0 GiB")),
    ("500 MiB", (PERCENT, BYTES), Threshold(BYTES, 500.0 * 1024**2, "500 MiB")),
    ("5GB", (PERCENT, BYTES), Threshold(BYTES, 5e9, "4.7 GiB")),
    (2, (NUMBER,), Threshold(NUMBER, 2.0, "2")),
    ("1.5", (NUMBER,), Threshold(NUMBER, 1.5, "1.5")),
])
def test_good_syntax(raw: Any, kinds: tuple[str, ...], expected: Threshold) -> None:
    assert parse_threshold(raw, "x", kinds) == expected


@pytest.mark.parametrize("raw, kinds", [
    ("eighty", (PERCENT,)), ("80 percent", (PERCENT,)), ("-5", (PERCENT,)), ("101%", (PERCENT,)),
    (True, (PERCENT,)), ([80], (PERCENT,)), ("5GiB", (PERCENT,)), ("", (PERCENT,)),
    ("200%", (NUMBER,)), ("2GiB", (NUMBER,)), ("5 XB", (PERCENT, BYTES)),
])
def test_bad_syntax_names_the_variable(raw: Any, kinds: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_threshold(raw, "disk_warn", kinds)
    assert err.value.field == "disk_warn"
    assert "disk_warn: bad threshold" in str(err.value)


@pytest.mark.parametrize("host_vars, field", [
    ({"disk_warn": "ninety"}, "vars.disk_warn"),
    ({"inode_crit": "5GiB"}, "vars.inode_crit"),
    ({"mem_available_warn": "ten"}, "vars.mem_available_warn"),
    ({"swap_crit": "101"}, "vars.swap_crit"),
    ({"load_warn": "2%"}, "vars.load_warn"),
    ({"disk_warn": 95, "disk_crit": 90}, "vars.disk_warn"),             # warn beyond crit
    ({"mem_available_warn": 3, "mem_available_crit": 5}, "vars.mem_available_warn"),
    ({"disk_warn": "1GiB", "disk_crit": "5GiB"}, "vars.disk_warn"),     # less free is worse
    ({"disk_thresholds": ["/var"]}, "vars.disk_thresholds"),
    ({"disk_thresholds": {"var": {"warn": 80}}}, "vars.disk_thresholds.var"),
    ({"disk_thresholds": {"/var": 85}}, "vars.disk_thresholds./var"),
    ({"disk_thresholds": {"/var": {"warning": 85}}}, "vars.disk_thresholds./var.warning"),
    ({"disk_thresholds": {"/var": {"warn": "85 percent"}}}, "vars.disk_thresholds./var.warn"),
    ({"disk_thresholds": {"/var": {"warn": 95}}}, "vars.disk_thresholds./var.warn"),  # vs default crit 90
])
def test_bad_vars(host_vars: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        Thresholds.from_vars(host_vars)
    assert err.value.field == field


def test_defaults_and_overrides() -> None:
    t = Thresholds.from_vars({"disk_warn": None, "swap_warn": "40%",
                              "disk_thresholds": {"/var": {"warn": 85, "crit": 95},
                                                  "/backup": {"crit": "10GiB", "inode_warn": 50}}})
    assert (t.disk.warn.value, t.disk.crit.value) == (80.0, 90.0)
    assert t.swap.warn.value == 40.0 and t.load.crit == Threshold(NUMBER, 4.0, "4")
    assert (t.for_disk("/var").warn.value, t.for_disk("/var").crit.value) == (85.0, 95.0)
    assert t.for_disk("/backup").warn.value == 80.0                  # falls back to the host's
    assert t.for_disk("/backup").crit == Threshold(BYTES, 10.0 * GIB, "10.0 GiB")
    assert t.for_inodes("/backup").warn.value == 50.0
    assert t.for_disk("/home") == t.disk


@pytest.mark.parametrize("value, thresholds, text", [
    (93.4, (80, 90), "93%"), (79.6, (80, 90), "79.6%"), (79.96, (80, 90), "79.96%"),
    (80.0, (80, 90), "80%"), (89.5, (80, 90), "89.5%"), (50.0, (), "50%"),
])
def test_format_percent_never_contradicts_the_verdict(value: float, thresholds: tuple, text: str) -> None:
    assert format_percent(value, thresholds) == text
