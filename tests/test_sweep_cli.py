"""`runbook sweep` as other programs read it: --json against its schema, --nagios by the
monitoring-plugins rules, the journal every sweep leaves, the README's first command, the exit
status of bad configuration, and output without colour codes when it is not for a terminal.

Real CLI subprocesses throughout (helpers in tests/test_sweep.py).
"""

from __future__ import annotations

import copy
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import psutil
import pytest

from runbook.journal import read_events
from tests.lab import Lab
from tests.support.cli import (
    LAB_HOSTS,
    REPO,
    cli_env,
    journal,
    lab_inventory,
    no_traceback,
    run_dirs,
    runbook_cli,
)
from tests.support.sweep import (
    CALM_LOAD,
    SCHEMA,
    SHARED_MACHINE,
    SweepRun,
    check,
    extra_vars,
    host,
    judge_only,
    sweep,
)

INCIDENT = "INC-2026-0042"


def root_used_percent() -> float:
    return psutil.disk_usage("/").percent


# -- --json ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabSweep:
    run: SweepRun
    runs_dir: Path


@pytest.fixture(scope="module")
def lab_sweep(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> LabSweep:
    """One ``--json`` sweep over the lab with OK hosts and down1 (refused: no 3 s tarpit wait),
    under an incident. Read by several tests; nothing changes it."""
    base = tmp_path_factory.mktemp("lab-sweep")
    inventory = lab_inventory(lab, base / "inventory.yml", include_bad=True, extra_vars=SHARED_MACHINE)
    run = sweep("-i", inventory, "-l", "!tarpit1", "--json", "--incident", INCIDENT, runs_dir=base / "runs")
    return LabSweep(run, base / "runs")


def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_json_of_ok_and_unreachable_hosts_validates_against_the_schema(lab: Lab, lab_sweep: LabSweep) -> None:
    run = lab_sweep.run
    assert run.code == 2, run.stdout + run.stderr
    doc = json.loads(run.stdout)

    schema_validator().validate(doc)

    assert (doc["status"], doc["exit_code"]) == ("CRITICAL", 2)
    assert [h["name"] for h in doc["hosts"]] == [*LAB_HOSTS, "down1"]
    for name in LAB_HOSTS:
        web = host(doc, name)
        assert (web["status"], web["reachable"], web["layer"]) == ("OK", True, None)
        root = check(web, "disk:/")
        assert root["mount"] == "/" and root["status"] == "OK"
        assert root["used_percent"] == pytest.approx(root_used_percent(), abs=1)
        assert 0 < root["inodes_used_percent"] < 100
        assert all(c["status"] == "OK" for c in web["checks"]), web["checks"]
    down = host(doc, "down1")
    assert (down["status"], down["reachable"], down["layer"]) == ("CRITICAL", False, "tcp")
    assert down["address"] == f"{lab.subnet}.250"
    (reachability,) = down["checks"]
    assert (reachability["name"], reachability["layer"]) == ("reachability", "tcp")


def test_the_schema_rejects_a_document_missing_what_it_promises(lab_sweep: LabSweep) -> None:
    doc = json.loads(lab_sweep.run.stdout)
    validator = schema_validator()
    validator.validate(doc)

    no_reachable = copy.deepcopy(doc)
    del no_reachable["hosts"][0]["reachable"]
    no_mount = copy.deepcopy(doc)
    disk = check(host(no_mount, "web1"), "disk:/")
    del disk["mount"]
    bad_status = copy.deepcopy(doc)
    bad_status["status"] = "FINE"

    for broken, missing in ((no_reachable, "reachable"), (no_mount, "mount"), (bad_status, "FINE")):
        with pytest.raises(jsonschema.ValidationError) as error:
            validator.validate(broken)
        assert missing in error.value.message


# -- the journal ---------------------------------------------------------------------------------

def test_a_sweep_writes_a_journal_that_runs_list_shows_with_its_incident(lab_sweep: LabSweep) -> None:
    run_id = json.loads(lab_sweep.run.stdout)["run_id"]
    events = journal(lab_sweep.runs_dir)
    start, end = events[0], events[-1]
    assert (start["event"], start["kind"], start["run_id"], start["incident"]) == (
        "run.start", "sweep", run_id, INCIDENT)
    assert start["hosts"] == [*LAB_HOSTS, "down1"]
    assert end["event"] == "run.end" and end["counts"]["unreachable"] == 1
    assert {e["host"] for e in events if e["event"] == "host.end"} == {*LAB_HOSTS, "down1"}

    listed = runbook_cli("runs", "list", "--json", "--runs-dir", lab_sweep.runs_dir)

    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert (entry["run_id"], entry["kind"], entry["incident"], entry["hosts"]) == (run_id, "sweep", INCIDENT, 5)


# -- --nagios ------------------------------------------------------------------------------------

NUMBER = r"-?\d+(?:\.\d+)?"
RANGE = rf"@?(?:~|{NUMBER})?(?::(?:{NUMBER})?)?"
UOM = r"(?:s|ms|us|%|B|KB|MB|TB|c)?"
PERF_ITEM = re.compile(
    rf"'(?P<label>(?:[^']|'')+)'=(?P<value>{NUMBER})(?P<uom>{UOM})"
    rf"(?:;(?P<warn>{RANGE})(?:;(?P<crit>{RANGE})(?:;(?P<min>{NUMBER})?(?:;(?P<max>{NUMBER})?)?)?)?)?")
STATUS_LINE = re.compile(r"RUNBOOK (?P<status>OK|WARNING|CRITICAL|UNKNOWN): (?P<summary>[^|]+?)(?: \| (?P<perf>.+))?")


@dataclass(frozen=True)
class PerfItem:
    label: str
    value: float
    uom: str
    warn: str
    crit: str
    min: str
    max: str


@dataclass(frozen=True)
class PluginOutput:
    status: str
    summary: str
    perfdata: tuple[PerfItem, ...]

    def item(self, label: str) -> PerfItem:
        (found,) = [p for p in self.perfdata if p.label == label]
        return found


def parse_plugin_output(text: str) -> PluginOutput:
    """``SERVICE STATUS: summary | 'label'=value[UOM];[warn];[crit];[min];[max] ...``, as the
    monitoring-plugins development guidelines define it; labels must be single-quoted here."""
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {text!r}"
    line = STATUS_LINE.fullmatch(lines[0])
    assert line, f"not a plugin status line: {lines[0]!r}"
    items: list[PerfItem] = []
    rest = line["perf"] or ""
    while rest:
        m = PERF_ITEM.match(rest)
        assert m, f"bad perfdata at {rest[:80]!r}"
        items.append(PerfItem(m["label"].replace("''", "'"), float(m["value"]), m["uom"], m["warn"] or "",
                              m["crit"] or "", m["min"] or "", m["max"] or ""))
        rest = rest[m.end():]
        assert rest == "" or rest.startswith(" "), f"perfdata items must be space-separated: {rest[:80]!r}"
        rest = rest[1:]
    return PluginOutput(line["status"], line["summary"], tuple(items))


def test_nagios_output_parses_with_one_perfdata_item_per_host_and_mount(lab: Lab, tmp_path: Path) -> None:
    inventory = lab_inventory(lab, tmp_path / "inventory.yml", include_bad=True, extra_vars=SHARED_MACHINE)

    run = sweep("-i", inventory, "-l", "!tarpit1", "--nagios", runs_dir=tmp_path / "runs")

    assert run.code == 2, run.stdout + run.stderr
    plugin = parse_plugin_output(run.stdout)
    assert plugin.status == "CRITICAL"
    assert plugin.summary == "1 critical (down1), 4 ok"
    labels = [p.label for p in plugin.perfdata]
    assert len(labels) == len(set(labels)), f"repeated perfdata labels: {labels}"
    # 'host:/mount' for each disk of each reached host (labels are unique, see above).
    disk_hosts = {p.label.split(":", 1)[0] for p in plugin.perfdata if re.match(r"[^:]+:/", p.label)}
    assert disk_hosts == set(LAB_HOSTS)
    for name in LAB_HOSTS:
        root = plugin.item(f"{name}:/")
        assert (root.uom, root.warn, root.crit, root.min, root.max) == ("%", "80", "90", "0", "100")
        assert root.value == pytest.approx(root_used_percent(), abs=1)
    assert not [p for p in plugin.perfdata if p.label.startswith("down1:")]


def test_nagios_status_word_is_ok_with_exit_0_when_all_is_well(tmp_path: Path) -> None:
    run = sweep("--nagios", *extra_vars(SHARED_MACHINE), runs_dir=tmp_path / "runs")

    assert run.code == 0, run.stdout + run.stderr
    plugin = parse_plugin_output(run.stdout)
    assert (plugin.status, plugin.summary) == ("OK", "1 ok")
    assert plugin.item("self:/").value == pytest.approx(root_used_percent(), abs=1)


# -- the README's first command ------------------------------------------------------------------

def _bare_env() -> dict[str, str]:
    env = cli_env()
    for name in ("RUNBOOK_RUNS_DIR", "RUNBOOK_REPORTS_DIR"):
        env.pop(name, None)
    return env


def test_runbook_sweep_without_inventory_checks_this_machine(tmp_path: Path) -> None:
    env = dict(_bare_env(), XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "runbook", "sweep"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    no_traceback(done.stdout, done.stderr)

    assert done.returncode in (0, 1, 2, 3), done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(re.match(r"(OK\s+self\s|│ self\s+│)", line) for line in lines), done.stdout
    verdict = lines[-1]
    assert verdict.startswith(("OK", "WARNING", "CRITICAL", "UNKNOWN"))
    assert ["OK", "WARNING", "CRITICAL", "UNKNOWN"].index(verdict.split(":")[0]) == done.returncode
    assert verdict.split(":", 1)[1].startswith(" 1 host(s)")
    # Its journal went where the README says: $XDG_DATA_HOME/runbook/reports/runs, not under the cwd.
    (run_dir,) = run_dirs(tmp_path / "data" / "runbook" / "reports" / "runs")
    assert not (tmp_path / "reports").exists()
    assert verdict.endswith(run_dir.name)
    assert read_events(run_dir / "journal.jsonl")[0]["kind"] == "sweep"


def test_local_json_agrees_with_psutil_on_the_root_filesystem(tmp_path: Path) -> None:
    run = sweep("--json", runs_dir=tmp_path / "runs")

    assert run.code in (0, 1, 2, 3), run.stdout + run.stderr
    doc = run.document()
    (me,) = doc["hosts"]
    assert (me["name"], me["reachable"]) == ("self", True)
    root = check(me, "disk:/")
    assert root["used_percent"] == pytest.approx(root_used_percent(), abs=1)


# -- configuration errors ------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "code", "says"), [
    (["-e", "disk_warn=banana"], 78, "disk_warn: bad threshold 'banana'"),
    (["-e", "disk_warn=95", "-e", "disk_crit=90"], 78, "disk_warn: warning threshold 95% is above"),
    (["-e", "disk_thresholds=/var"], 78, "disk_thresholds"),
    (["-i", "{tmp}/no-such-inventory.yml"], 78, "no-such-inventory.yml: file not found"),
    (["-l", "no-such-host"], 64, "'no-such-host' matches no host"),
    (["-e", "not a pair"], 64, "expected key=value"),
    (["--forks", "0"], 64, "--forks"),
], ids=["threshold-word", "threshold-order", "thresholds-not-a-map", "no-inventory", "bad-limit",
        "bad-extra-var", "bad-forks"])
def test_configuration_errors_exit_non_zero_with_one_line_and_nothing_on_stdout(
        tmp_path: Path, args: list[str], code: int, says: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    runs = tmp_path / "runs"

    done = runbook_cli("sweep", *args, "--runs-dir", runs)

    assert done.returncode == code, done.stdout + done.stderr
    assert done.stdout == ""
    no_traceback(done.stderr)
    first, *rest = done.stderr.splitlines()
    assert first.startswith("runbook: ") and says in first, done.stderr
    assert rest == ([] if code == 78 or args[0] != "--forks" else ["Try 'runbook sweep --help'."])
    assert run_dirs(runs) == [], "a configuration error must stop the sweep before it starts"

    # --nagios: a monitoring plugin answers with one status line whatever is wrong, UNKNOWN (3)
    # for a configuration it cannot use, so the monitoring system shows the problem, not a crash.
    plugin = runbook_cli("sweep", "--nagios", *args, "--runs-dir", runs)

    assert plugin.returncode == 3, plugin.stdout + plugin.stderr
    (line,) = plugin.stdout.splitlines()
    assert line.startswith("RUNBOOK UNKNOWN: ") and says in line and "|" not in line, line
    assert plugin.stderr == "" and run_dirs(runs) == []


# -- colour ------------------------------------------------------------------------------------------

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> list[str]:
    """SGR sequences that set a foreground or background colour (bold and reset are not colour)."""
    found = []
    for params in SGR.findall(text):
        numbers = [int(p) for p in params.split(";") if p]
        if numbers and (30 <= numbers[0] <= 49 or 90 <= numbers[0] <= 107):
            found.append(params)
    return found


def _warning_args() -> list[str]:
    """A WARNING on this machine's real root filesystem, so the output has a status to colour."""
    return extra_vars({**CALM_LOAD, **judge_only({"/": {"warn": 1, "crit": 100}})})


def _colour_env(**extra: str) -> dict[str, str]:
    env = cli_env()
    env.update(extra, TERM="xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_output_through_a_pipe_has_no_escape_sequences(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "runbook", "sweep", *_warning_args(), "--runs-dir", tmp_path],
                          cwd=REPO, env=_colour_env(), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60, check=False)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "WARNING" in done.stdout
    assert "\x1b" not in done.stdout + done.stderr


def _in_a_terminal(args: list[str], env: Mapping[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run ``python -m runbook ARGS`` on a pseudo-terminal; its exit status and everything it wrote."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "runbook", *args], cwd=REPO, env=dict(env),
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
        code = proc.wait(timeout=10)
    return code, b"".join(chunks).decode(errors="replace")


def test_no_color_is_respected_on_a_terminal(tmp_path: Path) -> None:
    args = ["sweep", *_warning_args(), "--runs-dir", str(tmp_path)]

    coloured_code, coloured = _in_a_terminal(args, _colour_env())
    plain_code, plain = _in_a_terminal(args, _colour_env(NO_COLOR="1"))

    # The control: on a terminal the status is coloured, so the check below can see colour.
    assert coloured_code == 1 and colour_codes(coloured), coloured
    assert plain_code == 1 and "WARNING" in plain
    assert colour_codes(plain) == [], plain
