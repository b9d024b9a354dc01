"""Benchmark: `runbook sweep` over 1,000 and 5,000 SSH hosts (issue 14).

Starts a ``ManyHostsLab`` (16 loopback addresses per sshd, so 1,000 hosts are 63 sshd
processes) and times whole processes, median of ``--repeat`` runs:

- runbook:  ``python -m runbook sweep --json -i LAB`` (default --forks 50)
- fabric:   a bare Fabric ThreadingGroup running the same combined facts command on every host,
            strict host keys as runbook (bench/sweep.py's script), at ``--hosts`` only

It prints wall time, ms per host, peak RSS, internal errors and lost hosts (hosts of the
inventory without a result, or whose result is an "internal error"), and runbook's ratio to
Fabric. Then runbook alone on ``--big`` hosts, also limited to the first ~1,000 and ~3,000 of
them, to show whether time grows linearly.
Targets (issue 14): 1,000 hosts with 0 internal errors and 0 lost hosts, wall <= 0.3x Fabric,
peak RSS <= 200 MiB; 5,000 hosts linear, peak RSS <= 300 MiB.

Run: ``python bench/scale.py [--hosts 1000] [--big 5000] [--first 127.30.8.1]
[--big-first 127.31.0.1] [--repeat 3] [--fabric-repeat 2]`` as root (loopback only). Several
labs may run on one machine: give each its own address range.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sweep import FABRIC_SCRIPT  # noqa: E402
from runbook.facts.gather import gather_command, new_nonce  # noqa: E402
from tests.lab.many import ManyHostsLab  # noqa: E402

#: every lab host is this machine, whose load the benchmark itself drives past any threshold
LOAD_IGNORED = {"load_warn": 1000, "load_crit": 1000}


@dataclass(frozen=True)
class Measured:
    """One whole-process run."""

    wall: float
    cpu: float          # user + system seconds of the process (the sshd side is not in it)
    rss_mib: float
    exit_code: int
    ok: int
    internal_errors: int
    lost: int


def run_process(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS (MiB) and exit code of one process; its stdout goes
    to ``out``."""
    with out.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()  # drained while it runs: a full pipe would stall it
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 2, 3) and err:
        print(err.decode(errors="replace")[-2000:], file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def runbook_sweep(inventory: Path, names: list[str], env: dict[str, str], tmp: Path,
                  limit: str | None) -> Measured:
    argv = [sys.executable, "-m", "runbook", "sweep", "--json", "-i", str(inventory)]
    if limit:
        argv += ["-l", limit]
    wall, cpu, rss, code = run_process(argv, env, tmp / "sweep.json")
    hosts = json.loads((tmp / "sweep.json").read_text())["hosts"]
    internal = sum(1 for h in hosts if "internal error" in h["message"])
    returned = {h["name"] for h in hosts if h["message"] != "not checked"}
    return Measured(wall, cpu, rss, code, sum(1 for h in hosts if h["reachable"] and h["status"] != "UNKNOWN"),
                    internal, len(set(names) - returned))


def fabric_group(lab: ManyHostsLab, env: dict[str, str], tmp: Path) -> Measured:
    command = gather_command(["memory", "load", "disk"], new_nonce())
    argv = [sys.executable, "-c", FABRIC_SCRIPT, lab.user, str(lab.port), str(lab.client_key),
            str(lab.known_hosts), command, *(h.address for h in lab.hosts.values())]
    wall, cpu, rss, code = run_process(argv, env, tmp / "fabric.txt")
    said = (tmp / "fabric.txt").read_text().split()
    ok = int(said[1]) if len(said) > 1 and said[1].isdigit() else 0
    return Measured(wall, cpu, rss, code, ok, 0, len(lab.hosts) - ok)


def median(runs: list[Measured]) -> Measured:
    """Median wall time; the worst of everything else (peak RSS, errors, lost hosts)."""
    return Measured(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs),
                    max(r.rss_mib for r in runs),
                    max(r.exit_code for r in runs), min(r.ok for r in runs),
                    max(r.internal_errors for r in runs), max(r.lost for r in runs))


def bench_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, RUNBOOK_RUNS_DIR=str(tmp / "runs"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as an installed package has it
    env.pop("SSH_AUTH_SOCK", None)
    return env


def row(hosts: int, what: str, m: Measured, runs: int) -> str:
    return (f"{hosts:>6}  {what:<16} {m.wall:>8.2f} {m.wall / hosts * 1000:>8.1f} {m.cpu:>7.1f} {m.rss_mib:>9.1f} "
            f"{m.exit_code:>5} {m.ok:>6} {m.internal_errors:>9} {m.lost:>5} {runs:>5}")


def compare_with_fabric(args: argparse.Namespace, env: dict[str, str], tmp: Path, lines: list[str]) -> None:
    """runbook and bare Fabric on the same ``--hosts`` lab, in the same run."""
    with ManyHostsLab(tmp / "lab", args.hosts, first=args.first) as lab:
        inventory = lab.write_inventory(tmp / "inventory.yml", extra_vars=LOAD_IGNORED)
        names = list(lab.hosts)
        runbook_sweep(inventory, names, env, tmp, None)  # warm-up: bytecode, page cache
        ours = median([runbook_sweep(inventory, names, env, tmp, None) for _ in range(args.repeat)])
        lines.append(row(args.hosts, "runbook sweep", ours, args.repeat))
        print(lines[-1], flush=True)
        if args.fabric_repeat:
            theirs = median([fabric_group(lab, env, tmp) for _ in range(args.fabric_repeat)])
            lines.append(row(args.hosts, "fabric group", theirs, args.fabric_repeat))
            lines.append(f"{args.hosts:>6}  ratio runbook/fabric {ours.wall / theirs.wall:.3f}x")
            print("\n".join(lines[-2:]), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000, help="0 to skip")
    parser.add_argument("--first", default="127.30.8.1", help="first address of the --hosts lab")
    parser.add_argument("--big", type=int, default=5000, help="0 to skip")
    parser.add_argument("--big-first", default="127.31.0.1", help="first address of the --big lab")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fabric-repeat", type=int, default=2, help="0 to skip Fabric")
    args = parser.parse_args()
    lines = [f"{'hosts':>6}  {'what':<16} {'wall s':>8} {'ms/host':>8} {'cpu s':>7} {'peak MiB':>9} {'exit':>5} "
             f"{'ok':>6} {'internal':>9} {'lost':>5} {'runs':>5}"]
    with tempfile.TemporaryDirectory(prefix="rb-scale-") as name:
        tmp = Path(name)
        env = bench_env(tmp)
        if args.hosts:
            compare_with_fabric(args, env, tmp, lines)
        if args.big:
            with ManyHostsLab(tmp / "big", args.big, first=args.big_first) as lab:
                inventory = lab.write_inventory(tmp / "big-inventory.yml", extra_vars=LOAD_IGNORED)
                names = list(lab.hosts)
                # The first ~1,000 and ~3,000 hosts of the same lab, then all: is it linear?
                limits = [f"h{'0' * (len(names[0]) - 5)}{head}???" for head in ("0", "[0-2]")
                          if args.big >= 3000] + [None]
                for limit in limits:
                    chosen = [n for n in names if limit is None or fnmatch.fnmatch(n, limit)]
                    m = median([runbook_sweep(inventory, chosen, env, tmp, limit) for _ in range(args.repeat)])
                    lines.append(row(len(chosen), "runbook sweep", m, args.repeat))
                    print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
