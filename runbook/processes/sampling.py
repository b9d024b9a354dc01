"""Watching processes over a window: CPU ticks and states at both ends (for "CPU pegged" and
"in state D for N seconds") and the kernel's wait channel of a blocked process (what it waits
for), read from /proc in one command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    """The ``Sample`` from ``sample_script(window)``'s output; a pid that started anew in between
    (another start time) gets no CPU figure."""
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
