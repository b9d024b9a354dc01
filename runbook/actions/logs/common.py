"""What the log actions (and ``disk.release_deleted``) share: the host's log sets as a step names
them, files on the mounts under pressure, and how a group of changes is worded once.

The df evidence around a change is ``runbook.health.evidence``; the files of a log set
``runbook.logs.files``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Hashable, Iterable, Sequence

from runbook.errors import ConfigError
from runbook.facts.disk import DiskUsage
from runbook.logs.files import LogFile
from runbook.logs.sets import LogSet, log_sets_for
from runbook.task import HostTask


def host_log_sets(task: HostTask, names: Sequence[str]) -> list[LogSet]:
    """The host's log sets, or only those named (an unknown name is a ConfigError)."""
    sets = log_sets_for(task.vars, task.host.roles)
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise ConfigError(f"host {task.host.name} has no log set {', '.join(map(repr, unknown))} "
                          f"(it has: {', '.join(sets) or 'none'})", field="params.sets")
    return [sets[n] for n in names] if names else list(sets.values())


def on_mounts(files: Sequence[LogFile], mounts: Sequence[DiskUsage] | None) -> list[LogFile]:
    """The files on one of ``mounts`` (all files when ``mounts`` is None)."""
    if mounts is None:
        return list(files)
    wanted = {d.mount for d in mounts}
    return [f for f in files if f.mount in wanted]


def directories_in_words(paths: Iterable[str]) -> str | list[str]:
    """Where files lie, as a report sentence names them: their directory; a list of up to three
    (the report joins it in the customer's language); else the directory they share."""
    dirs = sorted({posixpath.dirname(p) for p in paths})
    if len(dirs) == 1:
        return dirs[0]
    shared = posixpath.commonpath(dirs) if dirs else "/"
    if len(dirs) > 3 and shared != "/":
        return shared
    return dirs


def last_of_each(keys: Sequence[Hashable]) -> list[bool]:
    """For changes grouped by ``keys`` (a directory, a mount), in plan order: True at the last
    change of each group. The report words a group once, on that change (the engine applies
    all of a host's changes or fails the host); the others carry ``INTERNAL``."""
    last = {key: i for i, key in enumerate(keys)}
    return [last[key] == i for i, key in enumerate(keys)]
