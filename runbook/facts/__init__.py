"""Facts: read-only probes of a host, each a shell command plus a pure parser to a typed value.

Every fact has two sources that yield the same frozen dataclass:

- over SSH, one batched POSIX sh command gathers all requested facts in a single round trip
  (``runbook.facts.gather.gather_command``) and pure parsers turn each section of its output
  into values (``parse_gathered``);
- on the local connection, psutil reads the same facts (``collect_local``).

A fact that could not be gathered is not an exception: its value is a ``FactError`` naming the
fact and the reason, so one broken probe never hides the others.

``disk``       per mount: size, used, free, inodes (``runbook.facts.disk.DiskUsage``)
``memory``     RAM and swap from /proc/meminfo (``runbook.facts.memory.MemoryInfo``)
``load``       load average, CPU count, uptime (``runbook.facts.load.LoadInfo``)
``processes``  every process (``runbook.facts.processes.ProcessInfo``)
``ports``      listening TCP sockets (``runbook.facts.ports.ListeningPort``)

``runbook.facts.reachability`` sits beside them but is not gathered on the host: its probes
(TCP, HTTP) run from where runbook runs, to tell what still answers when SSH does not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FACT_NAMES: tuple[str, ...] = ("memory", "load", "ports", "processes", "disk")
"""Every fact name, in the order a gather runs them: cheap /proc reads first, and ``df`` last
because it is the one probe that can hang (a dead NFS server) and take the rest with it."""


@dataclass(frozen=True)
class FactError:
    """A fact that could not be gathered on a host.

    fact:   the fact's name (``disk``, ``memory``, ...)
    reason: one human line: what failed and how (exit code, last stderr line, parse error)
    """

    fact: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"error": True, **asdict(self)}

    def __str__(self) -> str:
        return f"{self.fact}: {self.reason}"
