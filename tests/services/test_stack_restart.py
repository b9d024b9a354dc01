"""services.restart against the real stack: order, real restarts, health gates, up/down report."""

from __future__ import annotations

from pathlib import Path

import yaml

from runbook.journal import parse_ts
from tests.lab.services import LabStack, http_get

RESTART_ALL = """
name: restart the stack
steps:
  - name: restart
    action: services.restart
    params: {gate_interval: 0.2}
"""


def _service_events(events: list[dict], op: str | None = None) -> list[dict]:
    return [e for e in events if e["event"] == "service" and (op is None or e["op"] == op)]


def test_stack_restart_stops_dependants_first_and_starts_dependencies_first(stack: LabStack, stack_inventory: Path,
                                                                              run_book) -> None:
    before = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}
    result, events = run_book(stack_inventory, RESTART_ALL, limit="web1,app1,db1")
    assert result.status == "completed", [o.message for o in result.outcomes]
    stops = [(e["service"], parse_ts(e["ts"])) for e in _service_events(events, "stop")]
    starts = [(e["service"], parse_ts(e["ts"])) for e in _service_events(events, "start")]
    gates = [(e["service"], parse_ts(e["ts"])) for e in _service_events(events, "gate")]
    assert [s for s, _ in stops] == ["web1:nginx", "app1:gunicorn", "db1:postgresql"]
    assert [s for s, _ in starts] == ["db1:postgresql", "app1:gunicorn", "web1:nginx"]
    assert [s for s, _ in gates] == ["db1:postgresql", "app1:gunicorn", "web1:nginx"]
    # strictly one after the other: the last stop before the first start, each gate before the next start
    assert stops[-1][1] <= starts[0][1]
    assert gates[0][1] <= starts[1][1] and gates[1][1] <= starts[2][1]
    assert all(e["ok"] for e in _service_events(events))
    after = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}
    for name, pid in after.items():
        assert pid is not None and pid != before[name], name
    assert http_get(stack.urls["web"], 3) == (200, "app ok\n")
    assert http_get(stack.urls["app"], 3)[1] == "app ok, db ok\n"
    data = result.last_for("db1").data
    assert sorted(data["up"]) == ["app1:gunicorn", "db1:postgresql", "web1:nginx"] and data["down"] == []
    assert data["pids"]["db1:postgresql"] == {"before": before["postgresql"], "after": after["postgresql"]}


def test_failed_gate_says_why_and_starts_nothing_that_depends_on_it(stack: LabStack, tmp_path: Path,
                                                                     run_book) -> None:
    # An inventory without configuration checks: the broken postgresql.conf is found only
    # when PostgreSQL refuses to start.
    inventory = stack.write_inventory(tmp_path / "inv.yml", config_checks=False)
    stack.break_postgres()
    book = RESTART_ALL.replace("{gate_interval: 0.2}", "{gate_interval: 0.2, gate_timeout: 3s}")
    result, events = run_book(inventory, book, limit="web1,app1,db1")
    assert result.status == "aborted"  # the step failed; on_failure defaults to abort
    # each host fails for what happened to its own services: db1 for the gate, in
    # PostgreSQL's own words from its log; app1 and web1 for what was left down and why
    db, app, web = (result.last_for(h) for h in ("db1", "app1", "web1"))
    assert [db.outcome, app.outcome, web.outcome] == ["failed"] * 3
    assert db.message.startswith("health gate failed for db1:postgresql"), db.message
    assert 'invalid value for parameter "shared_buffers"' in db.message, db.message
    assert app.message.startswith("app1:gunicorn left down: needs db1:postgresql, which is down"), app.message
    assert web.message.startswith("web1:nginx left down: needs app1:gunicorn, which is down"), web.message
    assert "shared_buffers" not in app.message + web.message
    assert all("up: none" in o.message and "down: " in o.message for o in (db, app, web))
    # nothing depending on the database was started
    assert [e["service"] for e in _service_events(events, "start") if e["ok"]] == ["db1:postgresql"]
    assert stack.main_pid("gunicorn") is None and stack.main_pid("nginx") is None
    assert http_get(stack.urls["web"], 2)[0] is None
    for host in ("web1", "app1", "db1"):
        data = result.last_for(host).data
        assert data["up"] == []
        assert sorted(data["down"]) == ["app1:gunicorn", "db1:postgresql", "web1:nginx"]
        assert "db1:postgresql" in data["gate_failed"]


def test_continue_policy_skips_only_what_depends_on_the_failed_service(stack: LabStack, tmp_path: Path,
                                                                         run_book) -> None:
    stack.break_postgres()
    book = RESTART_ALL.replace("{gate_interval: 0.2}",
                               "{gate_interval: 0.2, gate_timeout: 2s, on_gate_failure: continue}")
    result, events = run_book(stack.write_inventory(tmp_path / "inv.yml", config_checks=False), book,
                              limit="web1,app1,db1")
    assert result.status == "aborted"  # the step failed; on_failure defaults to abort
    data = result.last_for("app1").data
    assert data["not_started"], [(o.host, o.message) for o in result.outcomes]
    assert data["not_started"] == {"app1:gunicorn": "needs db1:postgresql, which is down",
                                   "web1:nginx": "needs app1:gunicorn, which is down"}
    assert [e["service"] for e in _service_events(events, "start") if e["ok"]] == ["db1:postgresql"]
    assert stack.main_pid("gunicorn") is None


def test_restarting_the_database_restarts_its_dependants_around_it_and_loop_protection(
        stack: LabStack, tmp_path: Path, run_book) -> None:
    inventory = stack.write_inventory(tmp_path / "inv.yml", extra={"db1": {"restart_loop": {"max": 1, "window": "1h"}}})
    book = RESTART_ALL.replace("{gate_interval: 0.2}", "{gate_interval: 0.2, services: [postgresql]}")
    result, events = run_book(inventory, book, limit="web1,app1,db1")
    assert result.status == "completed", [o.message for o in result.outcomes]
    assert [e["service"] for e in _service_events(events, "stop")] == ["web1:nginx", "app1:gunicorn", "db1:postgresql"]
    assert [e["service"] for e in _service_events(events, "start")] == ["db1:postgresql", "app1:gunicorn", "web1:nginx"]

    pid = stack.main_pid("postgresql")
    again, events = run_book(inventory, book, limit="web1,app1,db1")
    assert again.status == "aborted"
    assert "restart-loop protection: db1:postgresql was started 1 times in the last 1h" in again.last_for("db1").message
    assert _service_events(events) == [] and stack.main_pid("postgresql") == pid

    forced, _ = run_book(inventory, book.replace("services: [postgresql]", "services: [postgresql], force: true"),
                         limit="web1,app1,db1")
    assert forced.status == "completed" and stack.main_pid("postgresql") != pid


def test_check_mode_plans_the_order_and_changes_nothing(stack: LabStack, stack_inventory: Path, run_book) -> None:
    before = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}
    result, events = run_book(stack_inventory, RESTART_ALL, limit="web1,app1,db1", check=True)
    assert result.status == "completed"
    order = result.last_for("web1").data["order"]
    checked = stack.config_checks()
    # each service whose configuration was checked says so in its first change
    assert order[:3] == [f"web1: stop web1:nginx (configuration checked: {checked['nginx']})",
                         "app1: stop app1:gunicorn",
                         f"db1: stop db1:postgresql (configuration checked: {checked['postgresql']})"]
    assert order[3:5] == ["db1: start db1:postgresql", "db1: health gate db1:postgresql"]
    assert [c["service"] for c in result.last_for("web1").data["config_checks"] if c["ok"]] == \
        ["db1:postgresql", "web1:nginx"]
    changing = {c[k] for c in stack.commands().values() for k in ("start", "stop")}
    assert _service_events(events) == [] and not [e for e in events if e["event"] == "command"
                                                  and e["command"] in changing]
    assert {n: stack.main_pid(n) for n in before} == before


def test_a_service_that_does_not_stop_abandons_the_restart_and_what_was_stopped_comes_back(
        stack: LabStack, tmp_path: Path, run_book) -> None:
    inventory = stack.write_inventory(tmp_path / "inv.yml")
    document = yaml.safe_load(inventory.read_text())
    document["hosts"]["app1"]["vars"]["services"]["gunicorn"]["stop"] = "echo 'gunicorn: refusing to stop' >&2; exit 1"
    inventory.write_text(yaml.safe_dump(document, sort_keys=False, width=200))
    before = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}

    result, events = run_book(inventory, RESTART_ALL, limit="web1,app1,db1")

    assert result.status == "aborted"
    [failed] = [o for o in result.outcomes if o.outcome == "failed"]
    assert failed.host == "app1", failed   # the host whose service did not stop, no other
    assert failed.message.startswith("app1:gunicorn did not stop (stop command failed"), failed.message
    assert "gunicorn: refusing to stop" in failed.message
    # nginx, stopped before it, is back; the database was never stopped
    assert [e["service"] for e in _service_events(events, "stop") if e["ok"]] == ["web1:nginx"]
    assert [e["service"] for e in _service_events(events, "start") if e["ok"]] == ["web1:nginx"]
    after = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}
    assert after["nginx"] not in (None, before["nginx"])
    assert (after["gunicorn"], after["postgresql"]) == (before["gunicorn"], before["postgresql"])
    assert http_get(stack.urls["web"], 3) == (200, "app ok\n")
    assert sorted(failed.data["up"]) == ["app1:gunicorn", "db1:postgresql", "web1:nginx"]
