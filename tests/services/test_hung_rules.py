"""Hung rules and process sampling as pure functions: D state, CPU, parsing and its errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.facts.processes import ProcessInfo
from runbook.inventory import load_inventory
from runbook.processes.hung import detect, parse_rules
from runbook.processes.identity import parse_identities
from runbook.processes.sampling import parse_sample
from runbook.services.model import ServiceSpec
from runbook.services.status import ServiceStatus, parse_status

# Two /proc/PID/stat snapshots as `cat /proc/[0-9]*/stat` prints them: 4100 is stuck in D,
# 4200 burns CPU (150 ticks in 1.5 s at 100 Hz = 100 %), 4300 has ") (" in its name.
STAT = "{pid} ({name}) {state} 1 {pid} {pid} 0 -1 4194560 100 0 0 0 {utime} 10 0 0 20 0 1 0 {start} 1000 10 1"
FIRST = "\n".join([STAT.format(pid=4100, name="dd", state="D", utime=5, start=500),
                   STAT.format(pid=4200, name="java", state="R", utime=1000, start=600),
                   STAT.format(pid=4300, name="we) (ird", state="S", utime=1, start=700)])
SECOND = "\n".join([STAT.format(pid=4100, name="dd", state="D", utime=5, start=500),
                    STAT.format(pid=4200, name="java", state="R", utime=1150, start=600),
                    STAT.format(pid=4300, name="we) (ird", state="S", utime=1, start=700)])
SAMPLE = f"@hz 100\n@first\n{FIRST}\n\n@second\n{SECOND}\n\n@wchan\n4100 nfs_wait_bit_killable\n"


def _proc(pid: int, command: str, state: str = "S", age: int = 100, ppid: int = 1) -> ProcessInfo:
    return ProcessInfo(pid=pid, ppid=ppid, user="app", state=state, name=command.split()[0], args=tuple(command.split()),
                       command=command, elapsed_seconds=age)


def _host(tmp_path: Path, rules: str):
    path = tmp_path / "inv.yml"
    path.write_text("customer: {name: Shop}\nhosts:\n  h1:\n    vars:\n      hung_rules:\n"
                    + textwrap.indent(textwrap.dedent(rules), "        "))
    return load_inventory([path]).hosts["h1"]


def test_sample_gives_cpu_share_states_and_wait_channel() -> None:
    sample = parse_sample(SAMPLE, 1.5)
    assert sample.cpu_percent[4200] == pytest.approx(100.0, abs=0.5)
    assert sample.first_state[4100] == sample.last_state[4100] == "D"
    assert sample.start_ticks[4300] == 700 and sample.cpu_percent[4300] == 0.0
    assert sample.wchan == {4100: "nfs_wait_bit_killable"}


def test_d_state_is_reported_with_what_would_help_and_cpu_hog_is_found(tmp_path: Path) -> None:
    host = _host(tmp_path, """\
    - {state: D, longer_than: 1s, action: kill, scope: host}
    - {pattern: java, cpu_above: 90, window: 1500ms, action: kill}
    """ .replace("1500ms", "1.5s"))
    rules = parse_rules(host, host.vars["hung_rules"])
    procs = [_proc(4100, "dd if=/mnt/nfs/big", "D"), _proc(4200, "java -jar shop.jar", "R"), _proc(4300, "we) (ird")]
    found = {h.pid: h for h in detect(procs, rules, sample=parse_sample(SAMPLE, 1.5), window=1.5)}
    assert set(found) == {4100, 4200}
    stuck = found[4100]
    assert stuck.action == "report"          # a signal cannot end it, whatever the rule says
    assert "state D" in stuck.reason and "nfs_wait_bit_killable" in stuck.reason
    assert "not even KILL" in (stuck.advice or "")
    assert found[4200].action == "kill" and found[4200].reason.startswith("100% CPU over 1s")


def test_age_rule_and_zombie_with_its_parent() -> None:
    from runbook.processes.hung import HungRule
    rules = [HungRule("backup", "max_age", action="kill", pattern="backup", max_age=6 * 3600,
                      reason="the nightly backup is still running"),
             HungRule("zombies", "state", state="Z")]
    procs = [_proc(10, "/usr/local/bin/backup.sh", age=7 * 3600), _proc(11, "/usr/local/bin/backup.sh", age=60),
             _proc(20, "php-fpm: pool www", ppid=1), _proc(21, "[php-fpm] <defunct>", "Z", ppid=20)]
    services = {"php-fpm": ServiceStatus("h1:php-fpm", "php-fpm", "running", main_pid=20)}
    found = {h.pid: h for h in detect(procs, rules, services=services)}
    assert set(found) == {10, 21}
    assert found[21].service == "php-fpm" and found[10].service is None
    assert found[10].reason == "the nightly backup is still running: running for 7h00m, longer than the 6h00m allowed"
    assert "its parent 20 (php-fpm: pool www)" in found[21].reason and found[21].action == "report"


# Whose processes a rule looks at. pid 50 is nginx's master, 51 its worker, 52 the worker's
# child; 60 an administrator's editor; 70 a backup job of the user "backup".
SCOPE_PROCS = [_proc(50, "nginx: master", "T"), _proc(51, "nginx: worker", "T", ppid=50),
               _proc(52, "sh -c logger", "T", ppid=51), _proc(60, "vi /etc/hosts", "T"),
               _proc(70, "backup.sh --nightly", "T")]


@pytest.mark.parametrize(("rule", "services", "found"), [
    ({"state": "T", "action": "kill"}, {"nginx": 50}, {50, 51, 52}),
    ({"state": "T", "action": "kill"}, {}, set()),                          # no declared service
    ({"state": "T", "action": "kill", "scope": "host"}, {"nginx": 50}, {50, 51, 52, 60, 70}),
    ({"state": "T", "action": "kill", "pattern": "backup"}, {"nginx": 50}, {70}),
    ({"state": "T"}, {"nginx": 51}, {51, 52}),                              # a worker as main pid
])
def test_a_rule_looks_at_the_declared_services_unless_it_says_otherwise(
        tmp_path: Path, rule: dict, services: dict[str, int], found: set[int]) -> None:
    host = _host(tmp_path, "- " + repr(rule).replace("'", ""))
    rules = parse_rules(host, host.vars["hung_rules"])
    statuses = {name: ServiceStatus(f"h1:{name}", name, "running", main_pid=pid) for name, pid in services.items()}
    assert {h.pid for h in detect(SCOPE_PROCS, rules, services=statuses)} == found


@pytest.mark.parametrize(("rules", "line", "field", "message"), [
    ("- {state: T, scope: everywhere}", 6, "vars.hung_rules[0].scope", "services"),
    ("- {state: X}", 6, "vars.hung_rules[0].state", "must be T"),
    ("- {name: a, max_age: 1h, state: T}", 6, "vars.hung_rules[0]", "exactly one of"),
    ("- {state: T}\n- {pattern: '(', max_age: 1h}", 7, "vars.hung_rules[1].pattern", "not a regular expression"),
    ("- {max_age: soon}", 6, "vars.hung_rules[0].max_age", "not a duration"),
    ("- {state: T, action: terminate}", 6, "vars.hung_rules[0].action", "kill or report"),
])
def test_rule_errors_name_the_line(tmp_path: Path, rules: str, line: int, field: str, message: str) -> None:
    host = _host(tmp_path, rules)
    with pytest.raises(ConfigError) as caught:
        parse_rules(host, host.vars["hung_rules"])
    assert (caught.value.line, caught.value.field) == (line, field) and message in caught.value.message


def test_identities_and_status_parsing() -> None:
    ids, own, boot = parse_identities("@self 77\n@boot 1f-2e\n@id 4300 123456 " + SECOND.splitlines()[2].rpartition(") ")[2])
    assert own == 77 and boot == "1f-2e"
    assert (ids[4300].start_ticks, ids[4300].cmdline_sum, ids[4300].state, ids[4300].session) == (700, "123456", "S", 4300)
    specs = [ServiceSpec("h1", "a", "command", start="x", stop="y", pid_file="/p"),
             ServiceSpec("h1", "b", "systemd", unit="b"), ServiceSpec("h1", "c", "systemd", unit="c")]
    out = "@@m 0\nrc=0\npid=42\nalive=1\nstart=1764000000\n@@m 1\nrc=3\npid=\nalive=0\n@@m 2\nrc=124\npid=\nalive=0\n"
    a, b, c = parse_status(out, specs, "@@m")
    assert (a.state, a.main_pid, a.since.year) == ("running", 42, 2025)
    assert (b.state, b.main_pid, c.state) == ("stopped", None, "unknown")
