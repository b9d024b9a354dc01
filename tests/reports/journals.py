"""Synthetic but realistic journals for report tests, written with runbook.journal.Journal.

The night of 25 November 2026 at ACME GmbH: the shop answers 502, /var on web1 is full.

1. 02:20 a sweep (incident ACME-412): web1 CRITICAL (/var 96 %, the shop's URL answers 502),
   web2 OK, db1 unreachable (tcp).
2. 02:30 the run "disk-pressure" on web1 and web2: archive and delete old nginx logs on web1
   (evidence before/after, an archive with manifest), restart php-fpm (02:41), analyse the
   nginx error log; rotate a PHP log on web2 (a change journaled as a plain sentence).
3. 02:50 a sweep: web1 and web2 OK, db1 still unreachable.

Checks are made with runbook.health's own ``Check`` so their JSON is what a real sweep writes.
``hostile=True`` plants markup where customers' servers could: a log line, a check message,
a mount point, a command's output, a step name, the incident summary, a change sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from runbook.health import Check, Status
from runbook.journal import Journal

BERLIN = ZoneInfo("Europe/Berlin")
GIB = 1024 ** 3
SCRIPT = "<script>document.title='PWNED';document.body.appendChild(document.createElement('hacked'))</script>"
IMG = "\"><img src=x onerror=\"document.title='PWNED'\">"
ALERT = "<script>alert(1)</script>"

SWEEP_1 = "20261125T012000Z-0a01"
RUN = "20261125T013000Z-0b02"
SWEEP_2 = "20261125T015000Z-0c03"

VAR_SIZE = 20 * GIB
FREE_BEFORE = 860 * 1024 ** 2
FREED = 4_509_715_660            # 4.2 GiB
FREE_AFTER = FREE_BEFORE + FREED


def local(hour: int, minute: int, second: int = 0, day: int = 25) -> datetime:
    """A wall-clock time in Berlin on the night of the incident."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=BERLIN)


class Clock:
    """The journal's clock: jumps to ``at`` and ticks one second per event after that."""

    def __init__(self) -> None:
        self.now = local(0, 0)

    def at(self, when: datetime) -> None:
        self.now = when

    def __call__(self) -> datetime:
        now = self.now
        self.now += timedelta(seconds=1)
        return now


@dataclass(frozen=True)
class Scenario:
    """The run directories written, in the order they ran."""

    runs_dir: Path
    sweep1: Path
    run: Path
    sweep2: Path

    @property
    def run_dirs(self) -> list[Path]:
        return [self.sweep1, self.run, self.sweep2]


@contextmanager
def journal(runs_dir: Path, run_id: str, clock: Clock, *, kind: str, playbook: str, hosts: list[str],
            incident: str | None = "ACME-412", user: str = "mmueller",
            customers: dict[str, str] | None = None, host_customer: dict[str, str] | None = None,
            ) -> Iterator[Journal]:
    """A journal with its run.start (as runbook.run.start writes it) and, on exit, run.end.

    ``customers`` maps slugs to names (default ACME only), ``host_customer`` hosts to slugs.
    """
    j = Journal(runs_dir / run_id, clock=clock)
    started = clock.now
    j.write("run.start", run_id=run_id, kind=kind, user=user, hostname="oncall1",
            argv=["runbook", kind, f"playbooks/{playbook}.yml", "-i", "inventory/acme.yml"],
            cwd="/srv/runbook", check=False,
            playbook={"path": f"playbooks/{playbook}.yml", "name": playbook, "sha256": "a" * 64},
            inventory={"paths": ["inventory/acme.yml"], "sha256": "b" * 64},
            customers=customers or {"acme": "ACME GmbH"}, incident=incident, hosts=hosts,
            host_info={h: {"address": f"{h}.example", "roles": [h[:-1]],
                           "customer": (host_customer or {}).get(h, "acme")} for h in hosts}, forks=5)
    try:
        yield j
    finally:
        j.write("run.end", status="completed", exit_code=0, counts={},
                duration=round((clock.now - started).total_seconds(), 3))
        j.close()


def disk_check(mount: str, used: float, free: int, size: int) -> dict[str, Any]:
    status = Status.CRITICAL if used >= 90 else Status.WARNING if used >= 85 else Status.OK
    message = f"{mount} {used:g}% used ({free / GIB:.1f} GiB free)" + (" >= 90%" if used >= 90 else "")
    return Check(name=f"disk:{mount}", status=status, message=message, value=used, warn=85.0, crit=90.0,
                 unit="%", details={"mount": mount, "device": "/dev/vda2", "fstype": "ext4",
                                    "used_percent": used, "inodes_used_percent": 12.0, "size_bytes": size,
                                    "free_bytes": free, "direction": "above", "warn_spec": "85%",
                                    "crit_spec": "90%"}).to_json()


def ok_checks() -> list[dict[str, Any]]:
    return [
        disk_check("/", 41.0, 12 * GIB, 20 * GIB),
        Check(name="memory", status=Status.OK, message="memory 62% available (4.9 GiB of 7.8 GiB)",
              value=62.0, warn=10.0, crit=5.0, unit="%",
              details={"available_bytes": 5_261_334_938, "total_bytes": 8_375_186_227,
                       "available_estimated": False, "direction": "below"}).to_json(),
        Check(name="load", status=Status.OK, message="load 0.40 per CPU", value=0.4, warn=2.0, crit=4.0,
              details={"load1": 1.2, "load5": 1.6, "load15": 1.4, "cpu_count": 4,
                       "direction": "above"}).to_json(),
    ]


def sweep_host(j: Journal, host: str, checks: list[dict[str, Any]], *, step: int = 0) -> None:
    j.write("host.start", step=step, host=host)
    j.command(step=step, host=host, command="sh -c 'df -PT; cat /proc/meminfo /proc/loadavg'",
              exit_code=0, duration=0.31, stdout="Filesystem 1024-blocks Used Available Capacity\n", stderr="")
    status = max((Status[c["status"]] for c in checks), key=lambda s: s.severity)
    j.write("host.end", step=step, host=host, outcome="ok", message=status.name, changes=[],
            data={"status": status.name, "checks": checks, "facts": {}, "probes": []}, error=None,
            duration=0.4)


def unreachable(j: Journal, host: str, *, step: int = 0) -> None:
    j.write("host.start", step=step, host=host)
    check = Check(name="reachability", status=Status.CRITICAL, message="tcp layer failed: connection refused",
                  details={"layer": "tcp"}).to_json()
    j.write("host.end", step=step, host=host, outcome="unreachable", message=f"{host}: tcp: connection refused",
            changes=[], data={"status": "CRITICAL", "checks": [check], "layer": "tcp", "probes": [], "facts": {}},
            error={"type": "ConnectError", "layer": "tcp", "message": f"{host}: tcp: connection refused"},
            duration=3.0)


def disk_evidence(mount: str, used: float, free: int) -> dict[str, Any]:
    return {"mounts": [
        {"mount": "/", "used_percent": 41.0, "free_bytes": 12 * GIB, "size_bytes": 20 * GIB,
         "used_bytes": 8 * GIB, "inodes_used_percent": 12.0},
        {"mount": mount, "used_percent": used, "free_bytes": free, "size_bytes": VAR_SIZE,
         "used_bytes": VAR_SIZE - free, "inodes_used_percent": 3.0},
    ]}


def memory(available: float, swap_used_share: float) -> dict[str, Any]:
    """The memory fact as runbook.facts.memory.MemoryInfo.to_json() writes it."""
    total, swap = int(7.8 * GIB), 2 * GIB
    return {"total_bytes": total, "available_bytes": int(available), "free_bytes": int(available / 2),
            "buffers_bytes": 120 * 1024 ** 2, "cached_bytes": int(available / 3), "swap_total_bytes": swap,
            "swap_used_bytes": int(swap * swap_used_share), "available_estimated": False,
            "available_percent": round(available * 100 / total, 2),
            "swap_used_percent": round(swap_used_share * 100, 2)}


def write_scenario(runs_dir: Path, *, hostile: bool = False) -> Scenario:
    """Write the night's three journals under ``runs_dir``."""
    clock = Clock()
    var = f"/var/{ALERT}" if hostile else "/var"
    shop_message = "https://shop.acme.example/ status 502, expected 200" + (f" {IMG}" if hostile else "")
    hosts = ["web1", "web2", "db1"]

    clock.at(local(2, 20))
    with journal(runs_dir, SWEEP_1, clock, kind="sweep", playbook="health-check", hosts=hosts) as j:
        j.write("step.start", step=0, name="Health check", action="health.check", hosts=hosts)
        shop = Check(name="http:https://shop.acme.example/", status=Status.CRITICAL, message=shop_message,
                     details={"latency_ms": 120.0}).to_json()
        sweep_host(j, "web1", ok_checks() + [disk_check(var, 96.0, FREE_BEFORE, VAR_SIZE), shop])
        sweep_host(j, "web2", ok_checks())
        unreachable(j, "db1")
        j.write("step.end", step=0, counts={"ok": 2, "unreachable": 1})

    clock.at(local(2, 30))
    with journal(runs_dir, RUN, clock, kind="run", playbook="disk-pressure", hosts=["web1", "web2"]) as j:
        j.write("step.start", step=0, name="Archive and clean nginx logs", action="logs.archive", hosts=["web1"])
        j.write("host.start", step=0, host="web1")
        j.write("evidence", step=0, host="web1", phase="before", kind="disk",
                data=disk_evidence(var, 96.0, FREE_BEFORE))
        j.command(step=0, host="web1", command="tar -czf - /var/log/nginx/access.log.1 /var/log/nginx/access.log.2.gz",
                  exit_code=0, duration=3.21, stdout="", stderr="")
        manifest = {"files": [
            {"path": "/var/log/nginx/access.log.1", "bytes": 3_221_225_472, "sha256": "1" * 64},
            {"path": "/var/log/nginx/access.log.2.gz", "bytes": 1_288_490_188, "sha256": "2" * 64},
        ]}
        j.write("artifact", step=0, host="web1", kind="log-archive",
                path="artifacts/web1/nginx-logs-20261125T0131.tar.gz", bytes=52_428_800, sha256="3" * 64,
                manifest=manifest)
        j.command(step=0, host="web1", command="rm -f -- /var/log/nginx/access.log.1 /var/log/nginx/access.log.2.gz",
                  exit_code=0, duration=0.05, stdout="", stderr="")
        j.write("evidence", step=0, host="web1", phase="after", kind="disk",
                data=disk_evidence(var, 75.2, FREE_AFTER))
        j.write("host.end", step=0, host="web1", outcome="changed", message="archived and deleted 2 files",
                changes=[{"msg": "logs_archived",
                          "args": {"count": 2, "path": "/var/log/nginx", "size_bytes": 52_428_800},
                          "sentence": "Archived 2 log files from /var/log/nginx."},
                         {"msg": "logs_deleted", "args": {"count": 2, "path": "/var/log/nginx", "freed_bytes": FREED},
                          "sentence": "Deleted 2 archived log files."}],
                data={}, error=None, duration=3.4)
        j.write("step.end", step=0, counts={"changed": 1})

        clock.at(local(2, 40, 58))
        step_name = "Restart php-fpm <b>now</b>" if hostile else "Restart php-fpm"
        j.write("step.start", step=1, name=step_name, action="services.restart", hosts=["web1"])
        j.write("host.start", step=1, host="web1")
        j.write("evidence", step=1, host="web1", phase="before", kind="memory", data=memory(0.6 * GIB, 0.9))
        j.command(step=1, host="web1", command="systemctl restart php8.2-fpm", exit_code=0, duration=1.8,
                  stdout="", stderr="")
        j.command(step=1, host="web1", command="curl -fsS -o /dev/null -w '%{http_code}' https://shop.acme.example/",
                  exit_code=0, duration=0.42, stdout=f"200\n{SCRIPT}" if hostile else "200", stderr="")
        j.write("host.end", step=1, host="web1", outcome="changed", message="restarted php-fpm",
                changes=[{"msg": "service_restarted_healthy",
                          "args": {"service": "php-fpm", "check": {"en": "the shop", "de": "der Shop"}},
                          "sentence": "Restarted php-fpm; the shop answers again."}],
                data={}, error=None, duration=2.3)
        j.write("evidence", step=1, host="web1", phase="after", kind="memory", data=memory(4.9 * GIB, 0.1))
        j.write("step.end", step=1, counts={"changed": 1})

        clock.at(local(2, 43))
        j.write("step.start", step=2, name="Analyse nginx error log", action="analysis.logs", hosts=["web1"])
        j.write("host.start", step=2, host="web1")
        top = [{"message": "upstream timed out (110: Connection timed out) while reading response header",
                "count": 412},
               {"message": "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable)",
                "count": 97}]
        if hostile:
            top.append({"message": SCRIPT, "count": 1})
            top.append({"message": IMG, "count": 1})
        j.write("host.end", step=2, host="web1", outcome="ok", message="2 patterns", changes=[],
                data={"analysis": {"format": "nginx-error", "title": "nginx error log", "lines": 509,
                                   "summary": top}},
                error=None, duration=0.9)
        j.write("step.end", step=2, counts={"ok": 1})

        clock.at(local(2, 45))
        j.write("step.start", step=3, name="Rotate PHP log", action="logs.rotate", hosts=["web2"])
        j.write("host.start", step=3, host="web2")
        j.command(step=3, host="web2", command="mv -- /var/log/php8.2-fpm.log /var/log/php8.2-fpm.log.1",
                  exit_code=0, duration=0.02, stdout="", stderr="")
        sentence = (f"Rotated /var/log/php8.2-fpm.log{ALERT} to /var/log/php8.2-fpm.log.1." if hostile
                    else "Rotated /var/log/php8.2-fpm.log to /var/log/php8.2-fpm.log.1.")
        j.write("host.end", step=3, host="web2", outcome="changed", message=sentence, changes=[sentence],
                data={}, error=None, duration=0.1)
        j.write("step.end", step=3, counts={"changed": 1})

    clock.at(local(2, 50))
    with journal(runs_dir, SWEEP_2, clock, kind="sweep", playbook="health-check", hosts=hosts) as j:
        j.write("step.start", step=0, name="Health check", action="health.check", hosts=hosts)
        shop_ok = Check(name="http:https://shop.acme.example/", status=Status.OK,
                        message="https://shop.acme.example/ HTTP 200", details={"latency_ms": 80.0}).to_json()
        sweep_host(j, "web1", ok_checks() + [disk_check(var, 75.2, FREE_AFTER, VAR_SIZE), shop_ok])
        sweep_host(j, "web2", ok_checks())
        unreachable(j, "db1")
        j.write("step.end", step=0, counts={"ok": 2, "unreachable": 1})

    return Scenario(runs_dir, runs_dir / SWEEP_1, runs_dir / RUN, runs_dir / SWEEP_2)
