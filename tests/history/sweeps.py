"""Sweep journals made at known times with known usage, written by runbook's own Journal and
judged by runbook's own health checks (the same JSON a real sweep writes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from runbook.facts.disk import DiskUsage
from runbook.health.checks import disk_check, inode_check
from runbook.health.thresholds import Thresholds
from runbook.journal import Journal, new_run_id

GIB = 1024 ** 3
SIZE = 100 * GIB


def disk(mount: str, used: int, *, size: int = SIZE, inodes_used_percent: float = 10.0) -> DiskUsage:
    inodes_total = 1_000_000
    inodes_used = int(inodes_total * inodes_used_percent / 100)
    return DiskUsage(device="/dev/sda1", fstype="ext4", mount=mount, size_bytes=size, used_bytes=used,
                     free_bytes=size - used, used_percent=round(used * 100 / size, 2), inodes_total=inodes_total,
                     inodes_used=inodes_used, inodes_free=inodes_total - inodes_used,
                     inodes_used_percent=inodes_used_percent)


def write_sweep(runs_dir: Path, when: datetime, hosts: Mapping[str, list[DiskUsage] | None], *,
                customer: str = "acme", finished: bool = True) -> Path:
    """A sweep at ``when``: each host's disks judged against the default thresholds, or the
    host unreachable at the tcp layer when its disks are None."""
    clock = lambda: when  # noqa: E731 - every event of the sweep at its known time
    run_id = new_run_id(when)
    journal = Journal(runs_dir / run_id, clock=clock)
    names = list(hosts)
    journal.write("run.start", run_id=run_id, kind="sweep", hosts=names, customers={customer: customer.upper()},
                  host_info={n: {"address": f"10.0.0.{i + 1}", "roles": ["web"], "customer": customer}
                             for i, n in enumerate(names)}, incident=None, inventory={"paths": ["acme.yml"]})
    journal.write("step.start", step=0, name="Health", action="health.check", hosts=names)
    thresholds = Thresholds.from_vars({})
    for name, disks in hosts.items():
        if disks is None:
            message = "tcp layer failed: TCP connect to 10.0.0.9:22 failed: Connection refused"
            check = {"name": "reachability", "status": "CRITICAL", "code": 2, "message": message, "layer": "tcp"}
            journal.write("host.end", step=0, host=name, outcome="unreachable", message=message,
                          data={"status": "CRITICAL", "checks": [check], "layer": "tcp"},
                          error={"type": "ConnectError", "layer": "tcp", "message": message})
            continue
        checks = []
        for d in disks:
            checks.append(disk_check(d, thresholds.for_disk(d.mount)).to_json())
            checks.append(inode_check(d, thresholds.for_inodes(d.mount)).to_json())
        worst = max((c["status"] for c in checks), key=["OK", "UNKNOWN", "WARNING", "CRITICAL"].index)
        journal.write("host.end", step=0, host=name, outcome="ok", message=worst, changes=[],
                      data={"status": worst, "checks": checks}, error=None)
    if finished:
        journal.write("step.end", step=0, counts={})
        journal.write("run.end", status="completed", counts={})
    journal.close()
    return runs_dir / run_id
