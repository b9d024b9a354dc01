"""evaluate(): facts and vars in, checks with verdicts and human messages out."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.errors import ConfigError
from runbook.facts import FactError
from runbook.facts.disk import DiskUsage
from runbook.facts.load import LoadInfo
from runbook.facts.memory import MemoryInfo
from runbook.health import Check, Status, evaluate, worst

GIB = 1024**3
OK, WARNING, CRITICAL, UNKNOWN = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN


def disk(mount: str, used_percent: float, room: int = 100 * GIB, inodes: float | None = 10.0,
         fstype: str = "ext4") -> DiskUsage:
    used = int(room * used_percent / 100)
    return DiskUsage(device="/dev/sda1", fstype=fstype, mount=mount, size_bytes=room + GIB,
                     used_bytes=used, free_bytes=room - used, used_percent=used_percent,
                     inodes_total=None if inodes is None else 1000,
                     inodes_used=None if inodes is None else int(inodes * 10),
                     inodes_free=None if inodes is None else 1000 - int(inodes * 10),
                     inodes_used_percent=inodes)


def memory(available_percent: float = 50.0, swap_used_percent: float | None = None) -> MemoryInfo:
    total = 100 * 2**27           # 12.5 GiB: whole bytes for every whole percent
    swap_total = 0 if swap_used_percent is None else 4 * GIB
    return MemoryInfo(total_bytes=total, available_bytes=int(total * available_percent / 100),
                      free_bytes=GIB, buffers_bytes=0, cached_bytes=0, swap_total_bytes=swap_total,
                      swap_used_bytes=int(swap_total * (swap_used_percent or 0) / 100))


def healthy(**override: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"disk": [disk("/", 40.0)], "memory": memory(),
                             "load": LoadInfo(0.5, 0.4, 0.3, 2, 1000.0)}
    facts.update(override)
    return facts


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_healthy_host() -> None:
    checks = evaluate(healthy(), {})
    assert [c.name for c in checks] == ["disk:/", "inodes:/", "memory", "swap", "load"]
    assert worst(checks) is OK
    assert by_name(checks)["swap"].message == "no swap configured"


@pytest.mark.parametrize("used, host_vars, status", [
    (79.99, {}, OK), (80.0, {}, WARNING), (89.99, {}, WARNING), (90.0, {}, CRITICAL),
    (100.0, {}, CRITICAL), (84.0, {"disk_warn": "85%"}, OK), (85.0, {"disk_warn": "85"}, WARNING),
    (95.0, {"disk_thresholds": {"/var": {"warn": 85, "crit": 96}}}, WARNING),
    (95.0, {"disk_thresholds": {"/home": {"warn": 85, "crit": 96}}}, CRITICAL),
    # free-space thresholds: 100 GiB filesystem, CRITICAL when less than 5 GiB free
    (95.0, {"disk_crit": "5GiB", "disk_warn": "10GiB"}, WARNING),          # exactly 5 GiB free
    (95.01, {"disk_crit": "5GiB", "disk_warn": "10GiB"}, CRITICAL),
    (89.0, {"disk_crit": "5GiB", "disk_warn": "10GiB"}, OK),
])
def test_disk_boundaries(used: float, host_vars: dict[str, Any], status: Status) -> None:
    checks = by_name(evaluate(healthy(disk=[disk("/var", used)]), host_vars))
    assert checks["disk:/var"].status is status


def test_disk_message_value_and_details() -> None:
    check = by_name(evaluate(healthy(disk=[disk("/var", 93.0, room=int(17.2 * GIB))]), {}))["disk:/var"]
    assert check.message == "/var 93% used (1.2 GiB free) >= 90%"
    assert (check.value, check.warn, check.crit, check.unit) == (93.0, 80.0, 90.0, "%")
    assert check.details["mount"] == "/var" and check.details["used_percent"] == 93.0
    assert check.details["inodes_used_percent"] == 10.0
    assert check.to_json()["mount"] == "/var"


def test_free_space_threshold_message_and_percent_equivalent() -> None:
    check = by_name(evaluate(healthy(disk=[disk("/backup", 97.0)]),
                             {"disk_thresholds": {"/backup": {"warn": "10GiB", "crit": "5GiB"}}}))
    c = check["disk:/backup"]
    assert c.status is CRITICAL
    assert c.message == "/backup 97% used (3.0 GiB free) < 5.0 GiB free"
    assert (c.warn, c.crit) == (90.0, 95.0)     # what 10 GiB / 5 GiB free mean on 100 GiB


def test_percent_shown_does_not_contradict_status() -> None:
    c = by_name(evaluate(healthy(disk=[disk("/", 79.6)]), {}))["disk:/"]
    assert c.status is OK and c.message.startswith("/ 79.6% used")


@pytest.mark.parametrize("inodes, host_vars, status", [
    (79.0, {}, OK), (80.0, {}, WARNING), (90.0, {}, CRITICAL),
    (60.0, {"inode_warn": 60, "inode_crit": 70}, WARNING),
    (60.0, {"disk_thresholds": {"/": {"inode_warn": 50}}}, WARNING),
])
def test_inode_boundaries(inodes: float, host_vars: dict[str, Any], status: Status) -> None:
    c = by_name(evaluate(healthy(disk=[disk("/", 10.0, inodes=inodes)]), host_vars))["inodes:/"]
    assert c.status is status
    assert c.details["inodes_used_percent"] == inodes


def test_no_inode_check_without_inode_table() -> None:
    checks = by_name(evaluate(healthy(disk=[disk("/data", 10.0, inodes=None, fstype="btrfs")]), {}))
    assert "disk:/data" in checks and "inodes:/data" not in checks


@pytest.mark.parametrize("available, host_vars, status", [
    (10.0, {}, OK), (9.99, {}, WARNING), (5.0, {}, WARNING), (4.99, {}, CRITICAL),
    (15.0, {"mem_available_warn": "20%"}, WARNING),
    (7.0, {"mem_available_crit": "1GiB", "mem_available_warn": "2GiB"}, CRITICAL),   # 0.875 GiB
    (8.0, {"mem_available_crit": "1GiB", "mem_available_warn": "2GiB"}, WARNING),    # exactly 1 GiB
    (16.0, {"mem_available_crit": "1GiB", "mem_available_warn": "2GiB"}, OK),        # exactly 2 GiB
    (9.0, {"mem_available_crit": "1GiB"}, WARNING),             # 1.1 GiB, but below 10 %
])
def test_memory_boundaries(available: float, host_vars: dict[str, Any], status: Status) -> None:
    c = by_name(evaluate(healthy(memory=memory(available)), host_vars))["memory"]
    assert c.status is status
    assert c.details["direction"] == "below"


def test_memory_message() -> None:
    c = by_name(evaluate(healthy(memory=memory(4.0)), {}))["memory"]
    assert c.message == "memory 4% available (512 MiB of 12.5 GiB) < 5%"


@pytest.mark.parametrize("swap_used, status, message", [
    (None, OK, "no swap configured"),
    (49.9, OK, "swap 49.9% used (2.0 GiB of 4.0 GiB)"),
    (50.0, WARNING, "swap 50% used (2.0 GiB of 4.0 GiB) >= 50%"),
    (85.0, CRITICAL, "swap 85% used (3.4 GiB of 4.0 GiB) >= 80%"),
])
def test_swap(swap_used: float | None, status: Status, message: str) -> None:
    c = by_name(evaluate(healthy(memory=memory(50.0, swap_used)), {}))["swap"]
    assert (c.status, c.message) == (status, message)


@pytest.mark.parametrize("load5, cpus, host_vars, status", [
    (3.99, 2, {}, OK), (4.0, 2, {}, WARNING), (8.0, 2, {}, CRITICAL), (3.0, 1, {}, WARNING),
    (3.0, 2, {"load_warn": 1.5}, WARNING), (3.0, 2, {"load_warn": "1.6"}, OK),
])
def test_load_per_cpu(load5: float, cpus: int, host_vars: dict[str, Any], status: Status) -> None:
    c = by_name(evaluate(healthy(load=LoadInfo(9.9, load5, 0.1, cpus, 1.0)), host_vars))["load"]
    assert c.status is status
    assert c.value == pytest.approx(load5 / cpus)


def test_load_message() -> None:
    c = by_name(evaluate(healthy(load=LoadInfo(20.1, 18.24, 12.0, 2, 1.0)), {}))["load"]
    assert c.message == ("load 9.12 per CPU (5-min 18.24 on 2 CPUs; 1/5/15 min: 20.10 18.24 12.00)"
                         " >= 4")


def test_failed_fact_is_unknown_with_the_reason() -> None:
    facts = healthy(disk=FactError("disk", "exit 127: sh: df: not found"),
                    memory=FactError("memory", "no output: the command stopped before this fact ran"),
                    ports=FactError("ports", "exit 1"), processes=[])
    checks = by_name(evaluate(facts, {}))
    assert checks["disk"].status is UNKNOWN
    assert checks["disk"].message == "disk facts unavailable: exit 127: sh: df: not found"
    assert checks["memory"].status is UNKNOWN and checks["swap"].status is UNKNOWN
    assert checks["ports"].status is UNKNOWN and checks["load"].status is OK
    assert worst(checks.values()) is UNKNOWN


def test_missing_facts_are_unknown() -> None:
    checks = by_name(evaluate({"load": LoadInfo(0.1, 0.1, 0.1, 1, 1.0)}, {}))
    assert {n: c.status for n, c in checks.items()} == {
        "disk": UNKNOWN, "memory": UNKNOWN, "swap": UNKNOWN, "load": OK}
    assert checks["disk"].message == "disk facts unavailable: not gathered"


def test_critical_disk_outranks_unknown_fact() -> None:
    checks = evaluate(healthy(disk=[disk("/var", 95.0)], ports=FactError("ports", "exit 1")), {})
    assert worst(checks) is CRITICAL


def test_bad_vars_raise_before_any_check() -> None:
    with pytest.raises(ConfigError) as err:
        evaluate(healthy(), {"disk_crit": "lots"})
    assert err.value.field == "vars.disk_crit"


# -- what a report is handed: a message id and typed args, never an English sentence --------------

def test_every_check_names_its_message_and_args() -> None:
    checks = by_name(evaluate(healthy(disk=[disk("/var", 93.0)], memory=memory(8.0, 60.0)), {}))
    assert checks["disk:/var"].to_json()["msg"] == "disk"
    assert checks["disk:/var"].to_json()["args"] == {"mount": "/var", "used_percent": 93.0,
                                                     "free_bytes": checks["disk:/var"].details["free_bytes"]}
    assert (checks["memory"].msg, checks["swap"].msg, checks["load"].msg) == ("memory", "swap", "load")
    assert checks["memory"].args["available_percent"] == 8.0 and checks["swap"].args["used_percent"] == 60.0
    assert checks["load"].args == {"load_per_cpu": 0.2, "cpus": 2}
    unknown = by_name(evaluate({"disk": FactError("disk", "df: cannot read table of mounted file systems")}, {},
                               required=("disk",)))["disk"]
    assert (unknown.msg, unknown.args) == ("unknown", {"aspect": "disk"})   # the reason stays in ``message``


# -- disk_ignore: mounts that are not this host's concern ------------------------------------------

def test_ignored_mounts_are_not_judged_unless_named() -> None:
    facts = healthy(disk=[disk("/", 40.0), disk("/snap/core/1", 100.0), disk("/backup", 99.0)])
    host_vars = {"disk_ignore": ["/snap/*", "/backup"], "disk_thresholds": {"/backup": {"warn": 95, "crit": 98}}}
    checks = by_name(evaluate(facts, host_vars))
    assert "disk:/snap/core/1" not in checks and "inodes:/snap/core/1" not in checks
    assert checks["disk:/backup"].status == CRITICAL       # named in disk_thresholds: always judged
    assert checks["disk:/"].status == OK


@pytest.mark.parametrize("bad, field", [(5, "vars.disk_ignore"), ([""], "vars.disk_ignore[0]"),
                                        ({"a": 1}, "vars.disk_ignore")])
def test_bad_disk_ignore_names_the_variable(bad: Any, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        evaluate(healthy(), {"disk_ignore": bad})
    assert err.value.field == field
