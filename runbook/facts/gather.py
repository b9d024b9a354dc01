"""Gathering facts: all of a host's facts in one SSH round trip, or from psutil locally.

``gather_command(names, nonce)`` builds one POSIX sh command line (bash, dash and busybox ash
all run it) that runs every requested fact's commands and frames each fact's output as a
section between marker lines carrying a per-call random nonce and the section's exit status
(see ``runbook.facts.batch``). The same begin markers go to stderr, so error messages can
be told apart per fact. ``parse_gathered`` cuts the output apart and parses each section; a
fact whose section is missing, cut off, failed or unparsable becomes a ``FactError`` value,
never an exception, so one broken probe leaves the others intact.

The line is plain POSIX sh, run by the login shell as SSH does: sh, bash, dash, busybox ash,
ksh and zsh all take it. A user whose login shell is csh or fish needs the connection to wrap
it as ``sh -c <quoted line>``.

A non-zero exit status alone does not fail a fact when its output parses: ``df`` exits 1 when
one of twenty filesystems cannot be read, and ``cat /proc/*/stat`` when a process exits while
it runs. The status is kept for the error message when the output does not parse.

Typical use over a connection::

    nonce = new_nonce()
    result = conn.run(gather_command(FACT_NAMES, nonce), timeout=30)
    facts = parse_gathered(result.stdout, FACT_NAMES, nonce, stderr=result.stderr)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from runbook.facts import FACT_NAMES, FactError, disk, load, memory, ports, processes
from runbook.facts.batch import PREFIX, check_nonce, marker_sections, new_nonce

__all__ = [
    "SOURCES",
    "FactSource",
    "collect_local",
    "gather_command",
    "new_nonce",
    "parse_gathered",
]

# Markers with the nonce and fact name as groups, compared after the match (see facts.batch).
_BEGIN = re.compile(rf"^{PREFIX} ([0-9a-f]+) begin ([a-z]+)(?=\n)", re.MULTILINE)
_END = re.compile(rf"\n{PREFIX} ([0-9a-f]+) end ([a-z]+) (\d+)(?=\n)")
# Fixed locale: df headers and ps numbers are translated otherwise (German hosts say
# "Dateisystem" and "0,5"). sbin directories: ss lives in /usr/sbin on RHEL, and a
# non-login SSH session's PATH often lacks it.
_PREAMBLE = 'export LC_ALL=C PATH="$PATH:/usr/sbin:/sbin:/usr/bin:/bin"'


@dataclass(frozen=True)
class FactSource:
    """How one fact is read: its shell snippet, its section parser and its psutil reader."""

    name: str
    shell: Callable[[str], str]
    parse: Callable[[str, str], Any]
    local: Callable[[], Any]


SOURCES: dict[str, FactSource] = {
    "memory": FactSource("memory", memory.memory_shell, memory.parse_memory_section,
                         memory.collect_local_memory),
    "load": FactSource("load", load.load_shell, load.parse_load_section, load.collect_local_load),
    "ports": FactSource("ports", ports.shell, ports.parse_section, ports.collect_local),
    "processes": FactSource("processes", processes.shell, processes.parse_section,
                            processes.collect_local),
    "disk": FactSource("disk", disk.shell, disk.parse_section, disk.collect_local),
}


def gather_command(names: Sequence[str], nonce: str | None = None) -> str:
    """One sh command line that gathers the named facts, each in a marked section.

    ``nonce`` should come from ``new_nonce()`` and be passed to ``parse_gathered`` too; if it
    is omitted a fresh one is used, and ``parse_gathered`` can recover it from the output.
    Facts run in ``FACT_NAMES`` order whatever the order of ``names``. Raises ValueError for
    an unknown fact name.
    """
    nonce = check_nonce(nonce if nonce is not None else new_nonce())
    pieces = [_PREAMBLE]
    for name in _ordered(names):
        begin = f"{PREFIX} {nonce} begin {name}"
        pieces.append(
            f"printf '{begin}\\n'; printf '{begin}\\n' >&2; "
            f"{{ {SOURCES[name].shell(nonce)}; }} </dev/null; "
            f"printf '\\n{PREFIX} {nonce} end {name} %d\\n' \"$?\"")
    return "; ".join(pieces)


def parse_gathered(stdout: str, names: Sequence[str], nonce: str | None, *, stderr: str = "",
                   include_pseudo: bool = False) -> dict[str, Any]:
    """Each named fact's value, or a FactError saying why it is missing.

    ``nonce`` None takes it from the first begin marker, which the command prints before any
    fact output (so it cannot be forged). ``include_pseudo`` is passed to the disk parser.
    """
    if nonce is None:
        found = _BEGIN.search(stdout)
        nonce = found.group(1) if found else "0" * 16
    check_nonce(nonce)
    errors = _stderr_by_fact(stderr, nonce)
    result: dict[str, Any] = {}
    for name in _ordered(names):
        result[name] = _parse_section(stdout, name, nonce, errors.get(name, ""), include_pseudo)
    return result


def collect_local(names: Sequence[str], *, include_pseudo: bool = False) -> dict[str, Any]:
    """The named facts of this machine from psutil, same types as ``parse_gathered``."""
    import psutil

    result: dict[str, Any] = {}
    for name in _ordered(names):
        try:
            if name == "disk":
                result[name] = disk.collect_local(include_pseudo=include_pseudo)
            else:
                result[name] = SOURCES[name].local()
        except (OSError, psutil.Error) as exc:
            result[name] = FactError(name, f"psutil: {exc}")
    return result


def _ordered(names: Sequence[str]) -> list[str]:
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ValueError(f"unknown fact(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(FACT_NAMES)}")
    return [n for n in FACT_NAMES if n in names]


def _parse_section(stdout: str, name: str, nonce: str, stderr: str,
                   include_pseudo: bool) -> Any:
    begin = _marker(_BEGIN, stdout, nonce, name)
    if not begin:
        return FactError(name, "no output: the command stopped before this fact ran"
                         + _tail(stderr))
    end = _marker(_END, stdout, nonce, name, begin.end() + 1)
    if not end:
        return FactError(name, "output cut off inside this fact (killed or timed out?)"
                         + _tail(stderr))
    body = stdout[begin.end() + 1:end.start()]
    status = int(end.group(3))
    if status != 0 and not body.strip():
        return FactError(name, f"exit {status}" + _tail(stderr))
    try:
        if name == "disk":
            return disk.parse_section(body, nonce, include_pseudo=include_pseudo)
        return SOURCES[name].parse(body, nonce)
    except (ValueError, IndexError, KeyError) as exc:
        return FactError(name, f"exit {status}, unparsable output: {exc}" + _tail(stderr))


def _marker(pattern: re.Pattern[str], text: str, nonce: str, name: str, pos: int = 0) -> re.Match[str] | None:
    """The first marker of ``pattern`` from ``pos`` on with this nonce and fact name."""
    return next((m for m in pattern.finditer(text, pos) if m.group(1) == nonce and m.group(2) == name), None)


def _stderr_by_fact(stderr: str, nonce: str) -> dict[str, str]:
    """Each fact's part of stderr: what followed its begin marker, up to the next one."""
    return marker_sections(_BEGIN, stderr, nonce)


def _tail(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return f": {lines[-1][:200]}" if lines else ""
