"""Real errors from the real stack, analysed over SSH by ``logs.analyze``.

The lab's nginx (web1) is made to answer 200, 404 (unknown paths), 500 (the app's /boom
raises) and 502 (gunicorn stopped: a dead upstream); its PostgreSQL (db1) is sent failing
statements and bad logins. Every expectation is derived from the traffic the test made, the
analysis runs through the real CLI over real SSH, and the same files analysed here must give
the same JSON, set by set.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from runbook.analysis import analyze_paths
from tests.lab.services import DB_PORT, PG_USER, WEB_PORT, LabStack, http_get

ROOT = Path(__file__).resolve().parents[2]

# How much of each kind of trouble the test makes. Small, distinct numbers: a count that
# lands on the wrong row cannot pass by accident.
OK, NOT_FOUND, BOOM, DEAD_UPSTREAM = 7, 5, 3, 4  # 404 and 5xx paths fit the top-10 tables whole
MISSING_TABLE, UNKNOWN_ROLE, UNKNOWN_DATABASE = 6, 2, 3


@dataclass
class Traffic:
    """What the test did to the stack, so that every expected count is derived from it."""

    statuses: dict[str, list[str]] = field(default_factory=dict)  # HTTP status -> paths requested
    missing_tables: list[str] = field(default_factory=list)
    unknown_roles: list[str] = field(default_factory=list)
    unknown_databases: list[str] = field(default_factory=list)
    since: float = 0.0
    until: float = 0.0

    def request(self, stack: LabStack, path: str, expect: int) -> None:
        status, body = http_get(f"http://{stack.web.address}:{WEB_PORT}{path}", 5.0)
        assert status == expect, f"GET {path}: {status} {body[:200]!r}"
        self.statuses.setdefault(str(status), []).append(path)

    def count(self, status: str) -> int:
        return len(self.statuses.get(status, []))

    @property
    def requests(self) -> int:
        return sum(len(paths) for paths in self.statuses.values())


def _psql(stack: LabStack, *, user: str = PG_USER, database: str = "postgres",
          sql: str = "select 1") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(["psql", "-X", "-w", "-q", "-h", stack.db.address, "-p", str(DB_PORT), "-U", user,
                           "-d", database, "-c", sql], check=False, capture_output=True, text=True, timeout=15,
                          env={**env, "PGCONNECT_TIMEOUT": "5"})


def _wait_for(what: str, done: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _next_second() -> float:
    """Sleep into a fresh second and return its start: log times have whole seconds, so
    nothing logged before the test can share a second with what the test makes."""
    time.sleep(1.02 - time.time() % 1)
    return float(math.floor(time.time()))


def make_trouble(stack: LabStack) -> Traffic:
    """Real errors in the real logs; gunicorn is running again when this returns."""
    traffic = Traffic(since=_next_second())
    for _ in range(OK):
        traffic.request(stack, "/", 200)
    for i in range(NOT_FOUND):
        traffic.request(stack, f"/no-such-page-{i}", 404)
    for _ in range(BOOM):
        traffic.request(stack, "/boom", 500)
    gunicorn = stack.commands()["gunicorn"]
    subprocess.run(["/bin/sh", "-c", gunicorn["stop"]], check=True, timeout=30)
    try:
        _wait_for("gunicorn to stop", lambda: stack.main_pid("gunicorn") is None)
        for i in range(DEAD_UPSTREAM):
            traffic.request(stack, f"/checkout/{1000 + i}", 502)
    finally:
        subprocess.run(["/bin/sh", "-c", gunicorn["start"]], check=True, timeout=30)
        stack.wait_healthy("gunicorn")
    for i in range(MISSING_TABLE):
        table = f"lab_missing_{i}"
        done = _psql(stack, sql=f"select * from {table}")
        assert done.returncode != 0 and f'relation "{table}" does not exist' in done.stderr, done.stderr
        traffic.missing_tables.append(table)
    for i in range(UNKNOWN_ROLE):
        role = f"intruder{i}"
        done = _psql(stack, user=role)
        assert done.returncode == 2 and f'role "{role}" does not exist' in done.stderr, done.stderr
        traffic.unknown_roles.append(role)
    for i in range(UNKNOWN_DATABASE):
        database = f"shop_{i}"
        done = _psql(stack, database=database)
        assert done.returncode == 2 and f'database "{database}" does not exist' in done.stderr, done.stderr
        traffic.unknown_databases.append(database)
    # Every line written so far has a time before the next whole second.
    traffic.until = float(math.floor(time.time()) + 1)
    time.sleep(max(0.0, traffic.until - time.time()))
    return traffic


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _inventory(stack: LabStack, path: Path) -> Path:
    """The stack inventory; web1 keeps the shipped nginx sets (re-rooted), db1's PostgreSQL
    writes where the lab's ``pg_ctl -l`` puts it (under var/lib/postgresql, a symlink)."""
    return stack.write_inventory(path, extra={
        "web1": {"log_root": str(stack.web.root)},
        "app1": {"log_root": str(stack.app.root), "log_set_defaults": False,
                 "log_sets": {"gunicorn": {"globs": ["var/log/gunicorn.log"], "format": "gunicorn",
                                           "roots": ["var/log"]}}},
        "db1": {"log_root": str(stack.db.root),
                "log_sets": {"postgresql": {"globs": ["var/lib/postgresql/log/postgresql*.log"],
                                            "roots": ["var/lib/postgresql/log"]}}},
    })


def _analyse_over_ssh(inventory: Path, tmp_path: Path, traffic: Traffic) -> dict[str, dict[str, Any]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    playbook = tmp_path / "analyse.yml"
    playbook.write_text(yaml.safe_dump({
        "name": "What went wrong on the stack", "targets": ["web1", "app1", "db1"],
        "steps": [{"name": "Analyse logs", "action": "logs.analyze",
                   "params": {"since": _iso(traffic.since), "until": _iso(traffic.until)}}]}, sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "runbook", "run", str(playbook), "-i", str(inventory), "--json",
                           "--yes", "--runs-dir", str(tmp_path / "runs")],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)["results"]
    assert {r["host"]: r["outcome"] for r in results} == {"web1": "ok", "app1": "ok", "db1": "ok"}, results
    return {r["host"]: r["data"] for r in results}


def _by_file(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(s["name"]).name: s for s in data["analysis"]["sets"]}


FORMAT_OF = {"access.log": "nginx-access", "error.log": "nginx-error", "postgresql.log": "postgresql",
             "gunicorn.log": "gunicorn"}


def _analyse_here(remote_set: dict[str, Any], traffic: Traffic) -> dict[str, Any]:
    """The same files as the remote set, analysed on this machine (the lab hosts' trees are here)."""
    local = analyze_paths([f["path"] for f in remote_set["files"]], fmt=FORMAT_OF[Path(remote_set["name"]).name],
                          since=_iso(traffic.since), until=_iso(traffic.until))
    document = json.loads(local.to_json())
    assert len(document["sets"]) == 1, document
    return document["sets"][0]


def _remote_and_local(inventory: Path, tmp_path: Path, traffic: Traffic
                      ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(each host's logs.analyze data, each set analysed here). PostgreSQL may append a line
    of its own (a timed checkpoint) between the two; the comparison is only meaningful on
    unchanged files, so then both are taken again."""
    for attempt in range(3):
        data = _analyse_over_ssh(inventory, tmp_path / f"attempt{attempt}", traffic)
        local = {name: _analyse_here(remote, traffic)
                 for host in data.values() for name, remote in _by_file(host).items()}
        remote = {name: s for host in data.values() for name, s in _by_file(host).items()}
        if all([f["bytes_read"] for f in local[n]["files"]] == [f["bytes_read"] for f in remote[n]["files"]]
               for n in remote):
            return data, local
    raise AssertionError("the lab's logs kept growing between the remote and the local analysis")


def _fingerprint(log_set: dict[str, Any], pattern: str) -> dict[str, Any]:
    found = [f for f in log_set["fingerprints"] if re.search(pattern, f["template"])]
    assert len(found) == 1, (pattern, [f["template"] for f in log_set["fingerprints"]])
    return found[0]


def _seen_inside(fingerprint: dict[str, Any], traffic: Traffic) -> None:
    first = datetime.fromisoformat(fingerprint["first_seen"]).timestamp()
    last = datetime.fromisoformat(fingerprint["last_seen"]).timestamp()
    assert traffic.since <= first <= last < traffic.until, fingerprint


def test_real_errors_of_nginx_and_postgresql_are_counted_and_fingerprinted_over_ssh(
        stack: LabStack, tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    try:
        traffic = make_trouble(stack)
    finally:
        stack.ensure_running()
    inventory = _inventory(stack, tmp_path / "inventory.yml")
    data, local = _remote_and_local(inventory, tmp_path, traffic)
    web, app, db = data["web1"], data["app1"], data["db1"]
    assert web["mode"] == app["mode"] == db["mode"] == "remote"
    web_sets, app_sets, db_sets = _by_file(web), _by_file(app), _by_file(db)
    assert set(web_sets) == {"access.log", "error.log"} and set(db_sets) == {"postgresql.log"}
    assert set(app_sets) == {"gunicorn.log"}

    # -- nginx access log: every request counted by status, the 5xx by path and template
    access_set = web_sets["access.log"]
    access = access_set["access"]
    assert access["requests"] == traffic.requests == access_set["events"]
    assert access["statuses"] == {s: traffic.count(s) for s in traffic.statuses}
    assert access["status_classes"] == {"2xx": traffic.count("200"), "4xx": traffic.count("404"),
                                        "5xx": traffic.count("500") + traffic.count("502")}
    assert access["rate_5xx"] == round((traffic.count("500") + traffic.count("502")) / traffic.requests, 6)
    top_5xx = {row["key"]: row["count"] for row in access["top_paths_5xx"]}
    assert top_5xx == {"/boom": traffic.count("500"), **{p: 1 for p in traffic.statuses["502"]}}
    assert {row["key"]: row["count"] for row in access["top_paths_4xx"]} == {p: 1 for p in traffic.statuses["404"]}
    boom = _fingerprint(access_set, r"^500 GET /boom$")
    dead = _fingerprint(access_set, r"^502 GET /checkout/<n>$")  # /checkout/1000.. -> one template
    assert (boom["count"], dead["count"]) == (traffic.count("500"), traffic.count("502"))
    for fingerprint in (boom, dead):
        _seen_inside(fingerprint, traffic)
    assert traffic.since <= datetime.fromisoformat(access_set["first_event"]).timestamp()
    assert datetime.fromisoformat(access_set["last_event"]).timestamp() < traffic.until

    # -- nginx error log: one "connect() failed" per request that found the upstream dead
    error_set = web_sets["error.log"]
    refused = _fingerprint(error_set, r"^connect\(\) failed \(<n>: Connection refused\) while connecting to upstream")
    assert refused["count"] == traffic.count("502") and refused["severity"] == "error"
    assert not re.search(r"\d", refused["template"].replace("connect()", "")), refused["template"]
    assert error_set["severity_counts"] == {"error": traffic.count("502")}
    _seen_inside(refused, traffic)

    # -- gunicorn: each /boom is one event, its traceback included, named by the exception
    gunicorn = app_sets["gunicorn.log"]
    assert gunicorn["format"] == "python" and gunicorn["garbage"] == 0
    boom_trace = _fingerprint(gunicorn, r"^Error handling request (GET )?/boom \| RuntimeError: lab: /boom fails on purpose$")
    assert boom_trace["count"] == traffic.count("500") and boom_trace["severity"] == "error"
    assert "Traceback (most recent call last):" in boom_trace["example"]
    _seen_inside(boom_trace, traffic)
    assert gunicorn["severity_counts"]["error"] == traffic.count("500")

    # -- PostgreSQL: the failing statement and the bad logins, names normalised away
    pg = db_sets["postgresql.log"]
    missing = _fingerprint(pg, r'^relation "<q>" does not exist at character <n>$')
    role = _fingerprint(pg, r'^role "<q>" does not exist$')
    database = _fingerprint(pg, r'^database "<q>" does not exist$')
    assert missing["count"] == len(traffic.missing_tables) and missing["severity"] == "error"
    assert "STATEMENT:  select * from lab_missing_0" in missing["example"]
    assert (role["count"], database["count"]) == (len(traffic.unknown_roles), len(traffic.unknown_databases))
    assert role["severity"] == database["severity"] == "crit"  # FATAL
    for fingerprint in (missing, role, database):
        _seen_inside(fingerprint, traffic)
    assert pg["severity_counts"] == {"crit": len(traffic.unknown_roles) + len(traffic.unknown_databases),
                                     "error": len(traffic.missing_tables)}

    # -- the same files analysed here give the same JSON, set by set
    for name, remote in {**web_sets, **app_sets, **db_sets}.items():
        assert local[name] == remote, f"remote and local analysis of {name} differ"
    for values in data.values():
        assert (values["analysis"]["since"], values["analysis"]["until"]) == (_iso(traffic.since), _iso(traffic.until))

    # -- one timeline across web, app and db: what happened everywhere, in order
    (runs,) = sorted(tmp_path.glob("attempt*/runs"))[-1:]
    done = subprocess.run([sys.executable, "-m", "runbook", "logs", "timeline", "--json", "--runs-dir", str(runs)],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    timeline = json.loads(done.stdout)
    assert [e["time"] for e in timeline] == sorted(e["time"] for e in timeline)
    assert {e["host"] for e in timeline} == {"web1", "app1", "db1"}
    for event in timeline:  # per-minute buckets start at the minute that holds the window's start
        start = traffic.since - traffic.since % 60 if event["kind"] == "errors" else traffic.since
        assert start <= datetime.fromisoformat(event["time"]).timestamp() < traffic.until, event
    buckets = [e for e in timeline if e["kind"] == "errors" and e["log"].endswith("access.log")]
    assert sum(e["count"] for e in buckets) == traffic.count("500") + traffic.count("502")
    firsts = {(e["host"], e["text"]) for e in timeline if e["kind"] == "first"}
    assert ("web1", boom["template"]) in firsts and ("web1", dead["template"]) in firsts
    assert ("app1", boom_trace["template"]) in firsts and ("db1", missing["template"]) in firsts

    # Only results travel; on logs this small the 1% bound says nothing (bench/ measures it).
    for host, values in data.items():
        ratio = values["bytes_received"] / max(values["bytes_read"], 1)
        record_property(f"{host}_bytes_received_ratio", round(ratio, 4))
        print(f"{host}: read {values['bytes_read']} B on the host, received {values['bytes_received']} B "
              f"({100 * ratio:.1f}%)")
