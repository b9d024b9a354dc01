"""Start or stop the SSH lab by hand (run from the repository root).

    python -m tests.lab up [--dir DIR] [--hosts web1,app1,db1,spare1 | --count N]
                           [--subnet 127.0.10] [--port 2222] [--slow-shell] [--stack]
    python -m tests.lab up --count 1000 [--first 127.30.0.1] [--per-sshd 16] [--dir DIR]
    python -m tests.lab down --dir DIR

``up`` prints the inventory path and an ssh line to try, then waits for Ctrl-C or SIGTERM
and stops everything. ``--stack`` also starts the real service stack (nginx on web1 ->
gunicorn on app1 -> PostgreSQL on db1) and writes the on-call night's inventory directory
(two customers, a dead host and a tarpit; see tests/lab/night.py), so the scenario tests'
nights can be run by hand. With ``--first`` (or more than 249 hosts) the hosts are many
addresses of a few sshd processes (``tests.lab.many``), from ``--first`` on, 16 per sshd.
``down`` stops a lab that another process started, from its pid files.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from tests.lab import processes
from tests.lab.lab import DEFAULT_HOSTS, TARPIT_SCRIPT, UNREACHABLE_OCTET, Lab
from tests.lab.many import DEFAULT_FIRST, MAX_LISTEN, ManyHostsLab
from tests.lab.processes import LabError
from tests.lab.sshd import HostFiles

UP_PID_FILE = "lab.pid"
UP_MARKER = "tests.lab"


class _StopRequested(Exception):
    """Raised from the signal handler so ``up`` unwinds through its ``finally``."""


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequested(signal.Signals(signum).name)


def host_names(hosts: str | None, count: int | None) -> list[str]:
    """The names for ``--hosts a,b`` or ``--count N`` (h01..hNN), else the default four."""
    if count is not None:
        width = max(2, len(str(count)))
        return [f"h{i:0{width}d}" for i in range(1, count + 1)]
    if hosts:
        return [name.strip() for name in hosts.split(",") if name.strip()]
    return list(DEFAULT_HOSTS)


def up(args: argparse.Namespace) -> int:
    """Start a lab, tell the user how to reach it, and keep it until a signal arrives."""
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="runbook-lab-"))
    lab: Lab | ManyHostsLab
    if args.first or (args.count or 0) >= UNREACHABLE_OCTET:
        lab = ManyHostsLab(base, args.count or len(host_names(args.hosts, None)), first=args.first or DEFAULT_FIRST,
                           port=args.port, per_sshd=args.per_sshd, fast_shell=not args.slow_shell)
        where = f"{lab.first}-{lab.last}:{lab.port} ({len(lab.groups)} sshd processes)"
    else:
        names = host_names(args.hosts, args.count)
        lab = Lab(base, names, subnet=args.subnet, port=args.port, fast_shell=not args.slow_shell)
        where = f"{lab.subnet}.1-{len(names)}:{lab.port}"
    # Handlers go in before the first sshd starts: a SIGTERM during start must still stop it.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _request_stop)
    pid_file = lab.base_dir / UP_PID_FILE
    wrote_pid_file = False
    stack = None
    try:
        began = time.monotonic()
        lab.start()
        if args.stack:
            from tests.lab.night import write_night
            from tests.lab.services import LabStack, services_unavailable_reason
            reason = services_unavailable_reason()
            if reason:
                raise LabError(reason)
            stack = LabStack(lab).start()
        took = time.monotonic() - began
        pid_file.write_text(f"{os.getpid()}\n")
        wrote_pid_file = True
        inventory = lab.write_inventory(lab.base_dir / "inventory.yml")
        first = next(iter(lab.hosts))
        print(f"lab up: {len(lab.hosts)} hosts on {where} as {lab.user}, started in {took:.2f}s")
        print(f"inventory: {inventory}")
        if stack is not None:
            night = write_night(stack, lab.base_dir / "night")
            print(f"stack:     nginx {stack.urls['web']} -> gunicorn {stack.urls['app']} -> "
                  f"PostgreSQL {stack.db.address}:5432")
            print(f"night:     {night}/ (customers shop and acme; try: python -m runbook run "
                  f"playbooks/on-call.yml -i {shlex.quote(str(night))} -l shop --check)")
        print(f"try:       {shlex.join([*lab.ssh_argv(first), 'uptime'])}")
        print(f"stop:      Ctrl-C, or python -m tests.lab down --dir {shlex.quote(str(base))}",
              flush=True)
        while True:
            signal.pause()
    except _StopRequested as stop:
        print(f"{stop}: stopping the lab", file=sys.stderr)
        return 0
    finally:
        # A second signal while stopping must not cut the cleanup short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if stack is not None:
            stack.stop()
        lab.stop()
        if wrote_pid_file:
            pid_file.unlink(missing_ok=True)


def down(args: argparse.Namespace) -> int:
    """Stop the lab in ``--dir``: ask its ``up`` process first, then sweep the pid files."""
    base = Path(args.dir).resolve()
    if not (base / "hosts").is_dir():
        print(f"{base} does not look like a lab directory (no hosts/)", file=sys.stderr)
        return 1
    stopped: list[str] = []
    up_pid = processes.read_pid(base / UP_PID_FILE)
    owner = processes.owned_process(up_pid, UP_MARKER) if up_pid else None
    if owner is not None:
        # The up process is the parent of every sshd: letting it stop them reaps them too.
        processes.terminate([owner], grace=15.0)
        stopped.append(f"up (pid {owner.pid})")
    leftovers = []
    for host_dir in sorted((base / "hosts").iterdir()):
        files = HostFiles(host_dir)
        pid = processes.read_pid(files.pid_file)
        proc = processes.owned_process(pid, str(files.config)) if pid else None
        if proc is not None:
            leftovers.append(proc)
            stopped.append(f"{host_dir.name} (pid {proc.pid})")
        files.pid_file.unlink(missing_ok=True)
    tarpit_pid = processes.read_pid(base / "tarpit.pid")
    tarpit = processes.owned_process(tarpit_pid, str(TARPIT_SCRIPT)) if tarpit_pid else None
    if tarpit is not None:
        leftovers.append(tarpit)
        stopped.append(f"tarpit (pid {tarpit.pid})")
    (base / "tarpit.pid").unlink(missing_ok=True)
    processes.stop_processes(leftovers)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start a lab and keep it until Ctrl-C")
    start.add_argument("--dir", help="lab directory (default: a new temp dir)")
    which = start.add_mutually_exclusive_group()
    which.add_argument("--hosts", help="comma-separated host names (default: %(default)s)",
                       default=",".join(DEFAULT_HOSTS))
    which.add_argument("--count", type=int, help="N hosts named h01..hNN")
    start.add_argument("--subnet", default="127.0.10", help="first three octets (127.x.y)")
    start.add_argument("--first", help="first address of a many-hosts lab (default "
                       f"{DEFAULT_FIRST} when --count is {UNREACHABLE_OCTET} or more)")
    start.add_argument("--per-sshd", type=int, default=MAX_LISTEN,
                       help="hosts (listen addresses) per sshd in a many-hosts lab (default %(default)s)")
    start.add_argument("--port", type=int, default=2222)
    start.add_argument("--slow-shell", action="store_true",
                       help="do not set SHLVL=1, so bash reads ~/.bashrc for every command")
    start.add_argument("--stack", action="store_true",
                       help="also start nginx -> gunicorn -> PostgreSQL on web1, app1, db1 and write "
                            "the on-call night's two-customer inventory directory")
    stop = commands.add_parser("down", help="stop the lab in --dir")
    stop.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    try:
        return up(args) if args.command == "up" else down(args)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
