"""Benchmark: `runbook sweep --json` over N real loopback sshd hosts vs two references.

For N in 1, 10, 50 (``--sizes``) it starts a lab of N OpenSSH sshd hosts and times, as whole
processes, median of ``--repeat`` runs, on the same hosts in the same run:

- runbook:  ``python -m runbook sweep --json -i LAB``
- openssh:  ``ssh -o BatchMode=yes HOST true`` for all hosts in parallel
- fabric:   a bare Fabric ThreadingGroup running the same combined facts command per host

It prints wall time, per-host cost, peak RSS, the client's own CPU time and the whole machine's
CPU time during the run (the lab's sshds and the commands they start run on the same cores),
and runbook's ratios to Fabric: of wall time, and of client CPU.
runbook and Fabric run in turns (runbook, Fabric, runbook, ...), so a machine that gets
busier or quieter during the benchmark weighs on both alike; the ratio printed is the median
of the turns' ratios. On this 2-core machine one run's wall time varies by +-20 %: use
``--repeat 15`` or more for a figure to quote.
Targets: runbook <= 0.8x Fabric at 50 hosts (issue 14), peak RSS <= 150 MiB (issue 3).
Run: ``python bench/sweep.py`` (as root or a user that may start sshd; loopback only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook.facts.gather import gather_command, new_nonce  # noqa: E402
from tests.lab import Lab  # noqa: E402

FABRIC_SCRIPT = textwrap.dedent("""
    import sys
    from fabric import ThreadingGroup
    from fabric.exceptions import GroupException
    user, port, key, known, cmd, *hosts = sys.argv[1:]
    group = ThreadingGroup(*hosts, user=user, port=int(port),
                           connect_kwargs={"key_filename": key, "look_for_keys": False, "allow_agent": False})
    for c in group:
        c.client.load_host_keys(known)   # strict checking, like runbook's
    try:
        results = group.run(cmd, hide=True, warn=True)
    except GroupException as exc:   # some hosts failed to connect: the others' results stand
        results = exc.result
    bad = [c.host for c, r in results.items() if getattr(r, "exited", 1) != 0]
    print(f"fabric: {len(results) - len(bad)} of {len(hosts)} hosts ok")
    sys.exit(1 if bad or len(results) != len(hosts) else 0)
""")


class Run(NamedTuple):
    wall: float         # seconds
    rss: float          # peak RSS of the client process, MiB
    code: int           # exit status
    cpu: float          # the client process's own CPU seconds (user + system)
    machine: float      # CPU seconds all processes used meanwhile (client, sshds, commands)


def machine_cpu() -> float:
    """CPU seconds this machine has been busy since boot (all cores, idle and iowait excluded)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def timed(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """One whole process: wall time, peak RSS, exit code, its CPU time and the machine's."""
    busy = machine_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    machine = machine_cpu() - busy
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr:
        err = proc.stderr.read().decode(errors="replace")
        if proc.returncode not in (0, 1, 2) and err:
            print(err[-2000:], file=sys.stderr)
        proc.stderr.close()
    return Run(wall, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime, machine)


def openssh_parallel(lab: Lab) -> Run:
    busy = machine_cpu()
    started = time.perf_counter()
    procs = [subprocess.Popen(lab.ssh_argv(name) + ["true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name in lab.hosts]
    peak, code, cpu = 0.0, 0, 0.0
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        peak = max(peak, usage.ru_maxrss / 1024)
        cpu += usage.ru_utime + usage.ru_stime
        code = code or p.returncode
    return Run(time.perf_counter() - started, peak, code, cpu, machine_cpu() - busy)


def median_of(repeat: int, fn) -> Run:
    return _median([fn() for _ in range(repeat)])


def _median(runs: list[Run]) -> Run:
    """Median wall and CPU times, the highest peak RSS and the worst exit status of several runs."""
    return Run(statistics.median(r.wall for r in runs), max(r.rss for r in runs), max(r.code for r in runs),
               statistics.median(r.cpu for r in runs), statistics.median(r.machine for r in runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--subnet", default="127.0.20")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="rb-bench-") as tmp:
            lab = Lab(Path(tmp) / "lab", [f"h{i:02d}" for i in range(1, n + 1)], subnet=args.subnet)
            with lab:
                inventory = lab.write_inventory(Path(tmp) / "inventory.yml", include_bad=False)
                env = dict(os.environ, RUNBOOK_RUNS_DIR=str(Path(tmp) / "runs"))
                # Bytecode caching as on an installed system (pip compiles wheels at install):
                # with PYTHONDONTWRITEBYTECODE set, an editable checkout recompiles every module
                # on every start, a cost no real installation pays. One warm-up run writes it.
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                sweep_argv = [sys.executable, "-m", "runbook", "sweep", "--json", "-i", str(inventory)]
                command = gather_command(["memory", "load", "disk"], new_nonce())
                addresses = [h.address for h in lab.hosts.values()]
                fabric_argv = [sys.executable, "-c", FABRIC_SCRIPT, lab.user, str(lab.port),
                               str(lab.client_key), str(lab.known_hosts), command, *addresses]
                timed(sweep_argv, env)   # warm-up: bytecode and page cache, for both
                timed(fabric_argv, env)
                turns = [(timed(sweep_argv, env), timed(fabric_argv, env)) for _ in range(args.repeat)]
                runbook = _median([t[0] for t in turns])
                fabric = _median([t[1] for t in turns])
                openssh = median_of(args.repeat, lambda: openssh_parallel(lab))
                for name, run in (("runbook sweep", runbook), ("openssh ssh true", openssh), ("fabric group", fabric)):
                    rows.append((n, name, run))
                rows.append((n, "ratio runbook/fabric", Run(
                    statistics.median(r.wall / f.wall for r, f in turns), 0.0, 0,
                    statistics.median(r.cpu / f.cpu for r, f in turns),
                    statistics.median(r.machine / f.machine for r, f in turns))))
    print(f"{'hosts':>5}  {'what':<22} {'wall s':>8} {'ms/host':>8} {'peak MiB':>9} {'exit':>5}"
          f" {'client CPU s':>13} {'machine CPU s':>14}")
    for n, name, run in rows:
        if name.startswith("ratio"):
            print(f"{n:>5}  {name:<22} {run.wall:>8.2f}x {'':>8} {'':>9} {'':>5} {run.cpu:>12.2f}x {run.machine:>13.2f}x")
        else:
            print(f"{n:>5}  {name:<22} {run.wall:>8.3f} {run.wall / n * 1000:>8.1f} {run.rss:>9.1f} {run.code:>5}"
                  f" {run.cpu:>13.3f} {run.machine:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
