"""The ``logs.analyze`` action: analyse a host's log sets on the host itself; only results travel.

The analyzer (``runbook.analysis``, stdlib only) is sent over the SSH connection on stdin
and run with the host's python3, so a 2 GiB access log comes back as a few kilobytes of
JSON and nothing is written to the host's disk. A host without a usable python3 is analysed
from the archive a ``logs.archive`` step made earlier in the same run, locally, and the
result says so.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.logs.common import host_log_sets
from runbook.actions.params import TimeSpec
from runbook.analysis import Analysis, analyze_paths
from runbook.analysis.remote import NO_PYTHON_EXIT, bundle, remote_command
from runbook.change import Outcome, Plan
from runbook.errors import ActionError, last_line
from runbook.hostvars import HostVar
from runbook.journal import read_events
from runbook.logs.archive.secure import ARTIFACT_KIND
from runbook.logs.files import LogFile, list_log_files
from runbook.logs.sets import LOG_SET_VARS, LogSet
from runbook.task import HostTask


@dataclass(frozen=True)
class AnalyzeParams:
    """sets: log set names (default: all of the host's); since/until: ISO times or "-30m";
    baseline: "previous-day" marks error fingerprints not seen 24 h earlier; top: rows per table."""

    sets: list[str] = ()  # type: ignore[assignment]
    since: TimeSpec | None = None
    until: TimeSpec | None = None
    baseline: Literal["previous-day"] | None = None
    top: int = 10


ANALYSIS_PYTHON: HostVar[str] = HostVar("analysis_python", "the python3 interpreter on the host (name or path)",
                                        "python3", __name__, lambda at, vars: at.text())


class LogsAnalyzeAction(HostAction):
    """Analyse log sets on the host (errors per minute, 5xx rate, fingerprints, slow requests).

    Falls back to this run's ``logs.archive`` copy, analysed locally, when the host has no
    python3 >= 3.7 (host var ``analysis_python`` names another interpreter). ``data.analysis``
    holds the result (runbook.analysis JSON form); ``bytes_read``/``bytes_received`` show
    how little travelled.
    """

    name = "logs.analyze"
    Params = AnalyzeParams
    host_vars = LOG_SET_VARS + (ANALYSIS_PYTHON,)

    def plan(self, task: HostTask, params: AnalyzeParams) -> Plan:
        sets = host_log_sets(task, list(params.sets))
        files = list_log_files(task, sets)
        by_set = {s.name: [f for f in files if f.log_set == s.name and f.kind == "file"] for s in sets}
        results: list[dict[str, Any]] = []
        read = received = 0
        mode = "remote"
        code = bytes(bundle())
        for log_set in sets:
            paths = [f.path for f in by_set[log_set.name]]
            if not paths:
                continue
            command = remote_command(paths, log_set.format, params.since, params.until, top=params.top,
                                     baseline=params.baseline,
                                     python=task.vars.read(ANALYSIS_PYTHON))
            result = task.run(command, stdin=code)
            if result.exit_code == NO_PYTHON_EXIT:
                mode = "local from archive (no python3 >= 3.7 on the host)"
                analysis = _from_archive(task, log_set, by_set[log_set.name], params)
            elif result.exit_code != 0:
                raise ActionError(f"{task.host.name}: analysis of {log_set.name} failed (exit "
                                  f"{result.exit_code}): {last_line(result.stderr)[-300:]}")
            else:
                received += len(result.stdout.encode())
                analysis = Analysis.from_json(result.stdout)
            for s in analysis.sets:
                read += sum(f.bytes_read for f in s.files)
            results.append(json.loads(analysis.to_json()))
        merged = _merge(results)
        data = {"analysis": merged, "mode": mode, "bytes_read": read, "bytes_received": received,
                "sets": [s.name for s in sets]}
        return Plan(Outcome.OK, data=data, message=_summary(merged, mode))


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One analysis document for all sets of the host (the window and notes of the first)."""
    if not results:
        return {"schema": 1, "sets": [], "notes": ["no log files found"]}
    merged = dict(results[0])
    merged["sets"] = [s for r in results for s in r.get("sets", [])]
    merged["notes"] = [n for r in results for n in r.get("notes", [])]
    return merged


def _summary(analysis: dict[str, Any], mode: str) -> str:
    parts = []
    for s in analysis.get("sets", []):
        access = s.get("access")
        errors = sum(n for sev, n in (s.get("severity_counts") or {}).items()
                     if sev in ("emerg", "alert", "crit", "err", "error", "fatal", "critical"))
        if access:
            parts.append(f"{Path(s['name']).name}: {access['requests']} requests, "
                         f"5xx {100 * (access.get('rate_5xx') or 0):.1f}%")
        else:
            new = sum(1 for f in s.get("fingerprints", []) if f.get("new"))
            parts.append(f"{Path(s['name']).name}: {errors} errors, {len(s.get('fingerprints', []))} "
                         f"fingerprints" + (f" ({new} new)" if new else ""))
    text = "; ".join(parts) or "no log files found"
    if mode != "remote":
        text = f"{text} [{mode}]"
    notes = [n for n in analysis.get("notes", []) if n != "no log files found"]
    if notes:  # e.g. a rotated .gz cut off part-way: the engineer should know the counts are short
        text += f"; note: {notes[0]}" + (f" (+{len(notes) - 1} more)" if len(notes) > 1 else "")
    return text


def _from_archive(task: HostTask, log_set: LogSet, files: list[LogFile], params: AnalyzeParams) -> Analysis:
    """The set's files from this run's archive of the host, analysed here."""
    wanted = {f.path.lstrip("/") for f in files}
    archives = [task.journal.run_dir / e["path"] for e in read_events(task.journal.path)
                if e.get("event") == "artifact" and e.get("kind") == ARTIFACT_KIND and e.get("host") == task.host.name]
    with tempfile.TemporaryDirectory(prefix="runbook-analyze-") as tmp:
        extracted: list[str] = []
        for archive in archives:
            try:
                with tarfile.open(archive, "r:gz") as tar:
                    for member in tar.getmembers():
                        if member.isfile() and member.name in wanted:
                            tar.extract(member, tmp, filter="data")
                            extracted.append(str(Path(tmp) / member.name))
            except tarfile.TarError as exc:  # damaged, or a member outside the directory: refused
                raise ActionError(f"{task.host.name}: cannot read archive {archive}: {exc}") from None
        if not extracted:
            raise ActionError(f"{task.host.name}: no python3 >= 3.7 on the host and no archive of "
                              f"{log_set.name} in this run: put a logs.archive step before logs.analyze")
        analysis = analyze_paths(sorted(set(extracted)), fmt=log_set.format, since=params.since,
                                 until=params.until, baseline=params.baseline, top=params.top)
    analysis_json = json.loads(analysis.to_json())
    analysis_json.setdefault("notes", []).append(f"{log_set.name}: analysed locally from this run's archive")
    return Analysis.from_json(json.dumps(analysis_json))
