"""The processes fact: every process with its owner, state, age, CPU share, memory and command.

Over SSH the fact reads /proc directly instead of running ``ps``, because ``ps`` differs too
much between hosts (busybox ``ps`` has no elapsed time and prints RSS as "15m"; procps turns
newlines in command lines into "?") and because /proc costs four processes for the whole table:

- ``cat /proc/[0-9]*/stat``: pid, name, state, ppid, CPU ticks, start time;
- ``grep -H -E '^(Uid|VmRSS):' /proc/[0-9]*/status``: owner (effective uid) and resident memory;
- ``grep -H -z '' /proc/[0-9]*/cmdline``: the argument vectors, NUL-separated, each argument
  prefixed with its file name, so arguments with newlines or spaces stay intact (GNU and
  busybox grep both support ``-z``);
- ``cat /etc/passwd`` to name the uids, and /proc/uptime to turn start ticks into ages.

The tick rate (USER_HZ) is taken as 100, which it is on every architecture runbook meets;
asking ``getconf CLK_TCK`` would cost a process per host (and busybox has no getconf). A
``clock`` part with a second line (captured with getconf) overrides it.

CPU % is the process's lifetime average, as ``ps`` computes it: CPU time / elapsed time.

``parse_processes`` also reads ``ps`` output with a header line (``ps aux``, ``ps -ef``,
``ps -eo ...``, busybox ``ps``), for hosts or captures where only that is at hand.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from runbook.facts.batch import part_marker, split_parts

NAME = "processes"
DEFAULT_CLOCK_TICKS = 100   # USER_HZ: 100 on x86, ARM, POWER, s390 (only alpha/ia64 differ)

_PSUTIL_STATES = {
    "running": "R", "sleeping": "S", "disk-sleep": "D", "stopped": "T", "tracing-stop": "t",
    "zombie": "Z", "dead": "X", "wake-kill": "K", "waking": "W", "parked": "P", "idle": "I",
}


@dataclass(frozen=True)
class ProcessInfo:
    """One process on a host.

    pid, ppid:       process and parent id (ppid None where the source does not show it)
    user:            effective user name, or the numeric uid if it has no name
    state:           one letter as in ``ps``: R running, S sleeping, D uninterruptible (I/O),
                     T stopped, t traced, Z zombie, I idle kernel thread, X dead; "?" where
                     the source does not show it (``ps -ef``, plain busybox ``ps``)
    name:            the kernel's short name (comm, at most 15 characters)
    args:            the argument vector; empty for kernel threads and zombies
    command:         one display string: args joined by spaces, or "[name]" when args is empty
                     (with " <defunct>" for a zombie), or the COMMAND column of ``ps``
    elapsed_seconds: seconds since the process started (None where unknown)
    cpu_percent:     CPU time / elapsed time * 100, the lifetime average (None where unknown)
    rss_bytes:       resident memory (None where unknown)
    """

    pid: int
    ppid: int | None
    user: str | None
    state: str
    name: str
    args: tuple[str, ...]
    command: str
    elapsed_seconds: int | None = None
    cpu_percent: float | None = None
    rss_bytes: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "args": list(self.args)}


def shell(nonce: str) -> str:
    """The fact's part of the batched command. Errors from processes that exit while being
    read are expected and dropped."""
    procs = "/proc/[0-9]*"
    return (f"{part_marker(nonce, 'clock')}; cat /proc/uptime; "
            f"{part_marker(nonce, 'stat')}; cat {procs}/stat 2>/dev/null; "
            f"{part_marker(nonce, 'status')}; grep -H -E '^(Uid|VmRSS):' {procs}/status 2>/dev/null; "
            f"{part_marker(nonce, 'cmdline')}; grep -H -z '' {procs}/cmdline 2>/dev/null; "
            f"{part_marker(nonce, 'passwd')}; cat /etc/passwd")


def parse_section(text: str, nonce: str) -> list[ProcessInfo]:
    """The processes fact from its section of a batched command's output."""
    return parse_processes(text, nonce)


def parse_processes(text: str, nonce: str | None = None) -> list[ProcessInfo]:
    """Processes from the /proc dump of ``shell(nonce)`` (when ``nonce`` is given) or from
    ``ps`` output with a header line. Raises ValueError for anything else."""
    if nonce is not None:
        parts = split_parts(text, nonce)
        if "stat" in parts:
            return _parse_proc_dump(parts)
    return _parse_ps(text)


def _parse_proc_dump(parts: dict[str, str]) -> list[ProcessInfo]:
    clock = parts.get("clock", "").split()
    if not clock:
        raise ValueError("no /proc/uptime in the processes section")
    uptime = float(clock[0])
    hz = int(clock[2]) if len(clock) > 2 and clock[2].isdigit() else DEFAULT_CLOCK_TICKS
    users = _passwd(parts.get("passwd", ""))
    uids, rss = _status(parts.get("status", ""))
    argv = _cmdlines(parts.get("cmdline", ""))
    result: list[ProcessInfo] = []
    for record in _stat_records(parts["stat"]):
        pid_text, _, rest = record.partition(" (")
        name, _, tail = rest.rpartition(") ")
        fields = tail.split()
        pid = int(pid_text)
        state = fields[0]
        ticks = int(fields[11]) + int(fields[12])
        elapsed = max(uptime - int(fields[19]) / hz, 0.0)
        args = argv.get(pid, ())
        uid = uids.get(pid)
        result.append(ProcessInfo(
            pid=pid, ppid=int(fields[1]), user=users.get(uid, uid) if uid else None,
            state=state, name=name,
            args=args, command=_display(args, name, state), elapsed_seconds=int(elapsed),
            cpu_percent=round(ticks / hz * 100.0 / elapsed, 1) if elapsed > 0 else 0.0,
            rss_bytes=rss.get(pid, 0)))
    return result


def _stat_records(text: str) -> list[str]:
    # A process name may contain spaces, ")" and even newlines (it is only 15 bytes long), so a
    # record is complete only once the fields after its LAST ")" reach starttime (20 fields).
    records: list[str] = []
    current = ""
    for line in text.split("\n"):
        current = f"{current}\n{line}" if current else line
        name_end = current.rfind(") ")
        if name_end > 0 and len(current[name_end + 2:].split()) >= 20:
            if re.match(r"^\d+ \(", current):
                records.append(current)
            current = ""
    return records


def _status(text: str) -> tuple[dict[int, str], dict[int, int]]:
    uids: dict[int, str] = {}
    rss: dict[int, int] = {}
    for m in re.finditer(r"^/proc/(\d+)/status:(Uid|VmRSS):\s+(\d+)\s+(\d+)?", text, re.MULTILINE):
        pid = int(m.group(1))
        if m.group(2) == "Uid":
            uids[pid] = m.group(4) or m.group(3)     # effective uid, as ps shows
        else:
            rss[pid] = int(m.group(3)) * 1024
    return uids, rss


def _cmdlines(text: str) -> dict[int, tuple[str, ...]]:
    argv: dict[int, list[str]] = {}
    for record in text.split("\0"):
        m = re.match(r"/proc/(\d+)/cmdline:", record)
        if m:
            argv.setdefault(int(m.group(1)), []).append(record[m.end():])
    # Processes that rewrite their title (nginx, sshd, postgres) pad it with NULs.
    result = {}
    for pid, args in argv.items():
        while args and not args[-1]:
            args.pop()
        result[pid] = tuple(args)
    return result


def _passwd(text: str) -> dict[str, str]:
    users: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            users.setdefault(fields[2], fields[0])
    return users


def _display(args: tuple[str, ...], name: str, state: str) -> str:
    if args:
        return " ".join(args)
    return f"[{name}] <defunct>" if state == "Z" else f"[{name}]"


# Header names of ps variants (procps, busybox) mapped to ProcessInfo fields.
_PS_COLUMNS = {
    "PID": "pid", "PPID": "ppid", "USER": "user", "UID": "user", "EUSER": "user", "RUSER": "user",
    "STAT": "state", "S": "state", "ELAPSED": "etime", "ETIME": "etime", "ETIMES": "etimes",
    "%CPU": "cpu", "PCPU": "cpu", "C": "cpu", "RSS": "rss", "RSZ": "rss",
    "COMMAND": "command", "CMD": "command", "ARGS": "command",
}


def _parse_ps(text: str) -> list[ProcessInfo]:
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ValueError("empty ps output")
    header = lines[0].split()
    if "PID" not in header or header[-1] not in ("COMMAND", "CMD", "ARGS"):
        raise ValueError(f"not ps output with a header: {lines[0][:80]!r}")
    keys = [_PS_COLUMNS.get(h.upper()) for h in header]
    pid_at = header.index("PID")
    records: list[str] = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > pid_at and fields[pid_at].isdigit() or not records:
            records.append(line)
        else:
            # ps prints a newline inside a process name or argument raw: the rest of the
            # record continues on the next line (busybox does this for "{comm}").
            records[-1] += "\n" + line
    return [_ps_row({k: v for k, v in zip(keys, rec.split(None, len(header) - 1)) if k})
            for rec in records if rec.strip()]


def _ps_row(row: dict[str | None, str]) -> ProcessInfo:
    if "pid" not in row or not row["pid"].isdigit():
        raise ValueError(f"ps line without a PID: {row!r}")
    command = row.get("command", "")
    kernel = re.fullmatch(r"\[(.+?)\]( <defunct>)?", command)
    comm = re.match(r"\{(.+?)\} ", command, re.DOTALL)    # busybox: "{comm} argv" when they differ
    if kernel:
        name = kernel.group(1)
    elif comm:
        name = comm.group(1)
    else:
        name = command.split()[0].rsplit("/", 1)[-1] if command.split() else ""
    args = () if kernel else tuple(command[comm.end():].split() if comm else command.split())
    return ProcessInfo(
        pid=int(row["pid"]), ppid=int(row["ppid"]) if "ppid" in row else None,
        user=row.get("user"), state=row.get("state", "?")[:1], name=name, args=args,
        command=command,
        elapsed_seconds=_etime(row["etime"]) if "etime" in row
        else int(row["etimes"]) if "etimes" in row else None,
        cpu_percent=float(row["cpu"]) if "cpu" in row else None,
        rss_bytes=_kib(row["rss"]) if "rss" in row else None)


def _etime(text: str) -> int:
    """ps's [[dd-]hh:]mm:ss elapsed time in seconds."""
    days, _, clock = text.rpartition("-")
    seconds = 0
    for piece in clock.split(":"):
        seconds = seconds * 60 + int(piece)
    return seconds + int(days or 0) * 86400


def _kib(text: str) -> int:
    """A KiB count as ps prints it; busybox shortens large ones to "15m" or "2g"."""
    m = re.fullmatch(r"(\d+)([kmgt]?)", text.lower())
    if not m:
        raise ValueError(f"bad RSS {text!r}")
    power: int = {"": 1, "k": 1, "m": 2, "g": 3, "t": 4}[m.group(2)]
    return int(m.group(1)) << (10 * power)


def collect_local() -> list[ProcessInfo]:
    """The processes fact of this machine from psutil (same semantics as the /proc dump)."""
    import pwd

    import psutil

    now = time.time()
    names: dict[int, str] = {}
    result = []
    for proc in psutil.process_iter():
        try:
            with proc.oneshot():
                uid = proc.uids().effective
                if uid not in names:
                    try:
                        names[uid] = pwd.getpwuid(uid).pw_name
                    except KeyError:
                        names[uid] = str(uid)
                state = _PSUTIL_STATES.get(proc.status(), "?")
                try:
                    args: tuple[str, ...] = tuple(proc.cmdline())
                    rss: int = proc.memory_info().rss
                except psutil.ZombieProcess:
                    args, rss = (), 0       # a zombie has no memory or command line left
                name = _comm(proc.pid) or proc.name()
                elapsed = max(now - proc.create_time(), 0.0)
                cpu = proc.cpu_times()
                result.append(ProcessInfo(
                    pid=proc.pid, ppid=proc.ppid(), user=names[uid], state=state, name=name,
                    args=args, command=_display(args, name, state), elapsed_seconds=int(elapsed),
                    cpu_percent=round((cpu.user + cpu.system) * 100.0 / elapsed, 1)
                    if elapsed > 0 else 0.0,
                    rss_bytes=rss))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue    # gone (or hidden) while we looked: ps would not show it either
    return result


def _comm(pid: int) -> str | None:
    # psutil.name() swaps a 15-character comm for the longer argv[0]; the remote side cannot.
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().rstrip("\n")
    except OSError:
        return None
