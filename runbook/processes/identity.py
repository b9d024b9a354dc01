"""What tells one process from a later one with the same pid, and signals that check it.

A pid is reused once its process is gone. Between finding a hung process and signalling it
(seconds, or a confirmation prompt later) the pid may already belong to someone else, so
every signal is sent by a shell line that first checks the process's start time (clock ticks
since boot, field 22 of /proc/PID/stat) and a checksum of its command line, and refuses on
any difference. The remaining window is the few microseconds between the check and kill(2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SIGNALS = {"TERM", "KILL", "CONT", "INT", "QUIT", "HUP"}


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as seen once: pid plus what a reused pid would not share.

    start_ticks: start time in clock ticks after boot; cmdline_sum: ``cksum`` of
    /proc/PID/cmdline; session: its session id (field 6 of stat).
    """

    pid: int
    start_ticks: int
    cmdline_sum: str
    state: str
    ppid: int
    session: int

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_ticks": self.start_ticks, "cmdline_sum": self.cmdline_sum,
                "state": self.state, "ppid": self.ppid, "session": self.session}


def identity_script(pids: Iterable[int]) -> str:
    """Prints ``@id PID CKSUM <stat fields after the name>`` per live pid, plus the
    shell's own pid and this boot's id (to tell the same machine)."""
    pid_list = " ".join(str(int(p)) for p in pids)
    return ("echo \"@self $$\"; echo \"@boot $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\"; "
            f"for p in {pid_list}; do s=$(cat /proc/$p/stat 2>/dev/null) || continue; "
            "c=$(cksum < /proc/$p/cmdline 2>/dev/null | cut -d' ' -f1); "
            'echo "@id $p $c ${s##*) }"; done')


def parse_identities(text: str) -> tuple[dict[int, ProcessIdentity], int | None, str | None]:
    """(identities by pid, the script's own pid, boot id) from ``identity_script`` output."""
    found: dict[int, ProcessIdentity] = {}
    own = boot = None
    for line in text.splitlines():
        if line.startswith("@self "):
            own = int(line.split()[1])
        elif line.startswith("@boot "):
            boot = line[6:].strip() or None
        elif line.startswith("@id "):
            parts = line.split()
            if len(parts) < 23 or not parts[1].isdigit():
                continue
            pid, cksum, fields = int(parts[1]), parts[2], parts[3:]
            found[pid] = ProcessIdentity(pid, int(fields[19]), cksum, fields[0], int(fields[1]), int(fields[3]))
    return found, own, boot


def signal_script(identity: ProcessIdentity, signal: str) -> str:
    """Send ``signal`` to the process only if it is still the same one.

    Prints exactly one word: ``sent``, ``gone`` (no such process, or a zombie: already
    dead), ``reused`` (another start time: a new process got the pid) or ``changed`` (same
    start, other command line: it exec'd something else).
    """
    if signal not in _SIGNALS:
        raise ValueError(f"signal {signal!r} not allowed")
    return _verify(identity) + f"kill -{signal} {identity.pid} 2>/dev/null && echo sent || echo gone"


def wait_gone_script(identity: ProcessIdentity, seconds: float, interval: float = 0.1) -> str:
    """Wait up to ``seconds`` for the process to end; prints ``gone``, ``reused``, ``changed``
    or ``alive STATE`` (still there, with its state letter)."""
    rounds = max(1, int(seconds / interval))
    check = _verify(identity)
    return (f"i=0; while [ $i -lt {rounds} ]; do ( {check}exit 3 ) >/dev/null; r=$?; "
            f'[ $r -ne 3 ] && break; sleep {interval:g}; i=$((i+1)); done; '
            f"{check}echo \"alive $1\"")


def _verify(identity: ProcessIdentity) -> str:
    p = identity.pid
    return (f"s=$(cat /proc/{p}/stat 2>/dev/null) || {{ echo gone; exit 0; }}; set -- ${{s##*) }}; "
            f'[ "$1" = Z ] && {{ echo gone; exit 0; }}; '
            f'[ "${{20}}" = {identity.start_ticks} ] || {{ echo reused; exit 0; }}; '
            f'c=$(cksum < /proc/{p}/cmdline 2>/dev/null | cut -d" " -f1); '
            f'[ "$c" = {int(identity.cmdline_sum)} ] || {{ echo changed; exit 0; }}; ')
