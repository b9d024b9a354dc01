"""What tells one process from a later one with the same pid, and signals that check it.

A pid is reused once its process is gone. Between finding a hung process and signalling it
(seconds, or a confirmation prompt later) the pid may already belong to someone else, so
every signal is sent by a shell line that first checks the process's start time (clock ticks
since boot, field 22 of /proc/PID/stat) and a checksum of its command line, and refuses on
any difference. The remaining window is the few microseconds between the check and kill(2).

Also here: CPU sampling over a window (for "CPU pegged" and "in state D for N seconds"), and
the kernel's wait channel of a blocked process (what it waits for).
"""

from __future__ import annotations

import re
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


def sample_script(window: float) -> str:
    """Two snapshots of every process's CPU ticks and state, ``window`` seconds apart."""
    return (f"echo \"@hz $(getconf CLK_TCK 2>/dev/null || echo 100)\"; echo @first; cat /proc/[0-9]*/stat 2>/dev/null; "
            f"sleep {max(window, 0.1):g}; echo; echo @second; cat /proc/[0-9]*/stat 2>/dev/null; echo; "
            "echo @wchan; for f in /proc/[0-9]*/wchan; do w=$(cat $f 2>/dev/null) || continue; "
            '[ -n "$w" ] && [ "$w" != 0 ] && p=${f#/proc/} && echo "${p%/wchan} $w"; done')


@dataclass(frozen=True)
class Sample:
    """Per pid over the window: CPU % (of one CPU), states at both ends, start ticks, wait channel."""

    cpu_percent: dict[int, float]
    first_state: dict[int, str]
    last_state: dict[int, str]
    start_ticks: dict[int, int]
    wchan: dict[int, str]


def parse_sample(text: str, window: float) -> Sample:
    hz_match = re.search(r"^@hz (\d+)", text, re.MULTILINE)
    hz = int(hz_match.group(1)) if hz_match else 100
    first_text, _, rest = text.partition("\n@first\n")[2].partition("\n@second\n")
    second_text, _, wchan_text = rest.partition("\n@wchan\n")
    first, second = _ticks(first_text), _ticks(second_text)
    cpu = {}
    for pid, (state, ticks, start) in second.items():
        before = first.get(pid)
        if before is not None and before[2] == start:
            cpu[pid] = round((ticks - before[1]) / hz / window * 100.0, 1)
    wchan = {}
    for line in wchan_text.splitlines():
        number, _, channel = line.partition(" ")
        if number.isdigit() and channel:
            wchan[int(number)] = channel.strip()
    return Sample(cpu, {p: v[0] for p, v in first.items()}, {p: v[0] for p, v in second.items()},
                  {p: v[2] for p, v in second.items()}, wchan)


def _ticks(text: str) -> dict[int, tuple[str, int, int]]:
    """pid -> (state, utime+stime, start ticks) from concatenated /proc/*/stat records."""
    found = {}
    for m in re.finditer(r"^(\d+) \((?:.|\n){0,64}?\) ([A-Za-z]) ((?:-?\d+ ){18}-?\d+)", text, re.MULTILINE):
        fields = m.group(3).split()
        # after the state: ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        found[int(m.group(1))] = (m.group(2), int(fields[10]) + int(fields[11]), int(fields[18]))
    return found
