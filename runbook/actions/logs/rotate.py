"""The ``logs.rotate`` action: force a rotation of a host's log sets.

Per set: where the host has logrotate and the set's ``logrotate_config`` exists there, run
``logrotate -f [-s STATE] CONFIG`` (the host's own rules, state file respected). Otherwise the
built-in rotation (``runbook.logs.rotation``: logrotate's semantics, planned here,
applied as plain shell commands) rotates each live log of the set with the set's ``rotate``
options -- by default ``copytruncate`` (no reload command needed, the writer keeps its file),
``compress``, ``delaycompress``, ``notifempty``, ``missingok`` and ``rotate: <keep>`` -- or,
where the log's rotated files already show a scheme (plain ``access.log.2``, dated
``access.log-20261202.gz``), that scheme continued; a rotation that would leave ``log.2`` beside
``log.2.gz`` is refused.

In check mode the plan names every rename, copy, truncate and compression; for logrotate it
carries ``logrotate -d`` output (its own dry run). df is recorded before and after.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.logs.common import directories_in_words, host_log_sets, last_of_each
from runbook.change import INTERNAL, Change, Message, Outcome, Plan
from runbook.connection.shell import join, quote
from runbook.errors import ActionError, ConfigError
from runbook.health.evidence import DfEvidence
from runbook.logs.files import list_log_files
from runbook.logs.rotation import (
    RotationOptions,
    existing_scheme,
    parse_state,
    plan_rotation,
    plan_to_commands,
    show_path,
    state_command,
)
from runbook.logs.rotation.shell import rotated_message
from runbook.logs.sets import LOG_SET_VARS, LOGROTATE_STATE, LogSet, log_path
from runbook.task import HostTask

# A non-login SSH session's PATH often lacks the sbin directories where logrotate lives.
_SBIN = 'export PATH="$PATH:/usr/sbin:/sbin"; '
BUILTIN_DEFAULTS: dict[str, Any] = {"copytruncate": True, "compress": True, "delaycompress": True,
                                    "ifempty": False, "missingok": True}


@dataclass(frozen=True)
class RotateParams:
    """sets: log set names (empty: all); method: auto (logrotate where the host has it and
    the set's config, else built-in), logrotate or builtin; state: logrotate's state file
    (default: host var ``logrotate_state``, relative to ``log_root``, else logrotate's own)."""

    sets: list[str] = ()  # type: ignore[assignment]
    method: Literal["auto", "logrotate", "builtin"] = "auto"
    state: str | None = None


class LogsRotateAction(HostAction):
    """Force a rotation: `logrotate -f -s STATE CONFIG` where the host has it, else built-in.

    Params: ``sets`` (default all), ``method`` (auto | logrotate | builtin), ``state``
    (logrotate state file; default the ``logrotate_state`` var). Built-in rotation follows
    logrotate's semantics with the set's ``rotate`` options. Records df before/after.
    """

    name = "logs.rotate"
    Params = RotateParams
    host_vars = LOG_SET_VARS + (LOGROTATE_STATE,)
    confirm = True

    def plan(self, task: HostTask, params: RotateParams) -> Plan:
        sets = host_log_sets(task, list(params.sets))
        configs = _configs_present(task, sets) if params.method != "builtin" else {}
        state = _state_file(task, params.state)
        changes: list[Change] = []
        data: dict[str, Any] = {"sets": {}}
        by_logrotate = [s for s in sets if configs.get(s.name)]
        if params.method == "logrotate" and len(by_logrotate) < len(sets):
            missing = [s.name for s in sets if s not in by_logrotate]
            raise ActionError(f"{task.host.name}: no logrotate or no config for {', '.join(missing)}")
        builtin = [s for s in sets if s not in by_logrotate]
        files = list_log_files(task, sets)
        evidence = DfEvidence([f.mount or "/" for f in files] or ["/"])
        # Sets sharing a config (nginx access and error) are rotated by one logrotate run:
        # forcing the same config twice would rotate the same files twice.
        by_config: dict[str, list[str]] = {}
        for log_set in by_logrotate:
            by_config.setdefault(str(log_set.logrotate_config), []).append(log_set.name)
        for config, names in by_config.items():
            argv = ["logrotate", "-f", *(["-s", state] if state else []), config]
            command = _SBIN + join(argv)
            entry: dict[str, Any] = {"method": "logrotate", "command": command}
            if task.check:
                # logrotate's own dry run (-d changes nothing, not even the state file).
                dry = task.run(_SBIN + join(["logrotate", "-d", *argv[1:]]))
                entry["dry_run"] = (dry.stdout + dry.stderr)[-4000:]
            data["sets"].update({name: entry for name in names})
            logs = [f.path for f in files if f.log_set in names and not f.rotated and f.kind == "file"]
            # No live log listed: logrotate has nothing of these sets to rotate, nothing to tell.
            message = rotated_message(directories_in_words(logs), len(logs)) if logs else Message(INTERNAL)
            changes.append(Change(f"rotate {', '.join(names)} with logrotate -f {config}",
                                  apply=evidence.commands([command]), details=entry, message=message))
        now = _host_now(task) if builtin else None
        rotations: list[tuple[str, str, list[str]]] = []     # log, sentence, commands
        for log_set in builtin:
            planned: list[dict[str, Any]] = []
            live = {f.log for f in files if f.log_set == log_set.name and not f.rotated and f.kind == "file"}
            for log in sorted(live):
                listing = task.run(state_command(log), check=True)
                current, siblings = parse_state(listing.stdout, log)
                options = builtin_options(log_set, existing_scheme(current.name, siblings))
                rotation = plan_rotation(current, siblings, options, now or datetime.now(), force=True)
                planned.append({"log": log, "operations": rotation.sentences, "skipped": rotation.skipped})
                if rotation.changes:
                    rotations.append((log, f"rotate {show_path(log)} (built-in): " + "; ".join(rotation.sentences),
                                      plan_to_commands(rotation)))
            data["sets"][log_set.name] = {"method": "builtin", "logs": planned}
        # One change per log; the report says it once per directory, on the last of its logs.
        directories = [posixpath.dirname(log) for log, _, _ in rotations]
        counts = Counter(directories)
        for (_, sentence, commands), directory, last in zip(rotations, directories, last_of_each(directories)):
            message = rotated_message(directory, counts[directory]) if last else Message(INTERNAL)
            changes.append(Change(sentence, apply=evidence.commands(commands), details={"commands": commands},
                                  message=message))
        if not changes:
            return Plan(Outcome.OK, data=data, message="nothing to rotate")
        return Plan(Outcome.CHANGED, changes=tuple(changes), data=data, state=evidence,
                    message=f"rotate {len(changes)} log(s)/set(s) of {', '.join(s.name for s in sets)}")

    def after(self, task: HostTask, params: RotateParams, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        return plan.state.finish(task) if isinstance(plan.state, DfEvidence) else {}


def builtin_options(log_set: LogSet, scheme: Mapping[str, Any] | None = None) -> RotationOptions:
    """The set's rotation options: its ``rotate`` mapping (``rotate`` defaults to ``keep``);
    without one, BUILTIN_DEFAULTS continuing ``scheme``, the naming the log's rotated files
    already show (``existing_scheme``): plain numbered logs stay plain, dated ones dated."""
    raw = dict(log_set.rotate) if log_set.rotate is not None else {**BUILTIN_DEFAULTS, **(scheme or {})}
    raw.setdefault("rotate", log_set.keep)
    try:
        return RotationOptions.from_mapping(raw)
    except ConfigError as exc:
        raise ConfigError(exc.message, field=f"log_sets.{log_set.name}.rotate.{exc.field or ''}".rstrip(".")) from None


def _configs_present(task: HostTask, sets: list[LogSet]) -> dict[str, bool]:
    """Which sets' logrotate configs exist on a host that has logrotate (one command)."""
    with_config = [s for s in sets if s.logrotate_config]
    if not with_config:
        return {}
    tests = "; ".join(f"if [ -f {quote(s.logrotate_config)} ]; then echo {i}; fi" for i, s in enumerate(with_config))
    result = task.run(f"{_SBIN}command -v logrotate >/dev/null 2>&1 || exit 0; {tests}")
    present = {int(line) for line in result.stdout.split() if line.isdigit()}
    return {s.name: i in present for i, s in enumerate(with_config)}


def _state_file(task: HostTask, given: str | None) -> str | None:
    if given is None:
        return task.vars.read(LOGROTATE_STATE)
    return log_path(given, task.vars, field="params.state")


def _host_now(task: HostTask) -> datetime:
    """The host's local wall clock (dateext names and maxage use it, as logrotate does)."""
    result = task.run("date '+%Y-%m-%dT%H:%M:%S'", check=True)
    try:
        return datetime.fromisoformat(result.stdout.strip())
    except ValueError:
        raise ActionError(f"{task.host.name}: unexpected date output {result.stdout.strip()[:40]!r}") from None
