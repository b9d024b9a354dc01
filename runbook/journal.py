"""The run journal: append-only JSON lines, one event per line, flushed as it goes.

The journal is the single source of truth for what a run did. Reports are rendered from
journals, never from in-memory state, so a report can be rebuilt a day later and a crash or
Ctrl-C still leaves a complete record up to the moment it happened.

Layout: ``<runs-dir>/<run-id>/journal.jsonl`` plus ``<runs-dir>/<run-id>/artifacts/<host>/...``;
a finished sweep also gets ``sweep-points.json``, its checks in brief (``runbook.sweeps.history``),
rebuilt from the journal whenever it is missing.

Every event carries ``seq`` (1, 2, ...), ``ts`` (UTC, ISO 8601 with milliseconds) and ``event``.
Event types and their own fields:

``run.start``   run_id, kind ("run" | "sweep"), user (the account), operator {name, email, phone}
                or null (the person: RUNBOOK_OPERATOR or the inventory's ``operator``), hostname,
                argv, cwd, check, playbook {path, name, sha256}, inventory {paths, sha256},
                customers {slug: name}, incident, hosts [names], host_info {host: {address,
                roles, customer}}, forks
``step.start``  step (index), name, action, hosts [names]
``host.start``  step, host
``command``     step, host, command, exit_code, duration, stdout, stderr, stdout_bytes,
                stderr_bytes, truncated (bool), timed_out (bool)
``evidence``    step, host, phase ("before" | "after"), kind (e.g. "disk"), data
``artifact``    step, host, kind, path (relative to the run dir), bytes, sha256, manifest
``host.end``    step, host, outcome (ok | changed | skipped | failed | unreachable), message,
                changes [a sentence, or {sentence, msg, args} when the action names a message
                id the reports can word in German and English; msg "internal" marks a step
                the customer report leaves out], data (the action's typed result as JSON), error {type, layer,
                message} or null, duration
``service``     step, host, service, op (stop | start | gate), ok, detail, pid -- each step of a
                controlled restart (services.restart)
``signal``      step, host, pid, command, signal, result -- each signal processes.kill sent
``error``       step, host, traceback -- a bug caught at the per-host boundary
``step.end``    step, counts {outcome: n}
``run.end``     status ("completed" | "failed" | "aborted" | "interrupted"), exit_code, counts,
                duration
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook.errors import RunbookError

MAX_OUTPUT_CHARS = 64 * 1024
SECRET_NAME = re.compile(r"pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential",
                         re.IGNORECASE)
REDACTED = "***"
DURABLE_EVENTS = frozenset({"run.start", "step.end", "run.end", "artifact"})


def new_run_id(now: datetime) -> str:
    """Sortable, unique, readable in a shell: 20261125T023014Z-3f9a."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def redact(value: Any, secret_values: frozenset[str] = frozenset()) -> Any:
    """Replace values of secret-looking keys, and any known secret string, by ***."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if SECRET_NAME.search(str(k)) and v not in (None, "") else
                    redact(v, secret_values)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secret_values) for v in value]
    if isinstance(value, str) and secret_values:
        for s in secret_values:
            if s:
                value = value.replace(s, REDACTED)
    return value


def secret_values_in(vars: Mapping[str, Any]) -> set[str]:
    """The values of secret-named vars, at any depth (``db_password: hunter2``, ``db: {password:
    hunter2}``, ``tokens: [t1, t2]`` -> {"hunter2", "t1", "t2"}), to redact wherever they turn
    up (a rendered command line, its output, ``-e`` in argv). Values shorter than 4 characters
    are left alone: redacting every "1" would garble the whole journal."""
    found: set[str] = set()
    _collect_secrets(vars, False, found, depth=0)
    return found


def _collect_secrets(value: Any, secret: bool, found: set[str], *, depth: int) -> None:
    """Add to ``found`` every scalar under a secret-named key (``secret``: we are under one)."""
    if depth > 64:  # inventories nest at most that deep (runbook.yamlsource); -e values too
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _collect_secrets(item, secret or bool(SECRET_NAME.search(str(key))), found, depth=depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_secrets(item, secret, found, depth=depth + 1)
    elif secret and isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) >= 4:
        found.add(str(value))


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> tuple[str, bool]:
    """Keep the head and the tail of long output; the middle is the least useful at 02:30."""
    if len(text) <= limit:
        return text, False
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}", True


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Journal:
    """Writes one run's events. Thread-safe: host workers write from their threads."""

    def __init__(self, run_dir: Path, *, clock=None, secret_values: frozenset[str] = frozenset()) -> None:
        self.run_dir = run_dir
        self.run_id = run_dir.name
        self.path = run_dir / "journal.jsonl"
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._secrets = secret_values
        self._lock = threading.Lock()
        self._seq = 0
        run_dir.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")

    @property
    def artifacts_dir(self) -> Path:
        return self.run_dir / "artifacts"

    def redact(self, value: Any) -> Any:
        """``value`` as the journal would write it: for output shown to the operator, too."""
        return redact(value, self._secrets)

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            record = {"seq": self._seq, "ts": iso(self._clock()), "event": event}
            record.update(redact(fields, self._secrets))
            self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            # Every event reaches the OS at once, so a crash, kill -9 or Ctrl-C of runbook loses
            # nothing. fsync (which survives a power loss, and costs milliseconds) is kept for
            # the ends of steps and runs: per event it made a 50-host sweep 0.3 s slower.
            self._file.flush()
            if event in DURABLE_EVENTS:
                os.fsync(self._file.fileno())
            return record

    def command(self, *, step: int | None, host: str, command: str, exit_code: int | None,
                duration: float, stdout: str, stderr: str, timed_out: bool = False,
                cut_short: str | None = None) -> None:
        """One command run on a host. ``cut_short`` says why one never came back ("timeout",
        "interrupted", "connection lost"); then ``exit_code`` is None and ``stderr`` says more."""
        out, cut_out = truncate(stdout)
        err, cut_err = truncate(stderr)
        extra = {"cut_short": cut_short} if cut_short else {}
        self.write("command", step=step, host=host, command=command, exit_code=exit_code,
                   duration=round(duration, 4), stdout=out, stderr=err,
                   stdout_bytes=len(stdout.encode("utf-8", "replace")),
                   stderr_bytes=len(stderr.encode("utf-8", "replace")),
                   truncated=cut_out or cut_err, timed_out=timed_out, **extra)

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


# -- reading ---------------------------------------------------------------------------------

def read_events(path: Path) -> list[dict[str, Any]]:
    """All complete events of a journal. A torn last line (crash mid-write) is skipped."""
    return list(iter_events(path))


def iter_events(path: Path) -> Iterator[dict[str, Any]]:
    """The complete events of a journal one at a time, for journals too big to hold at once
    (a 5,000-host sweep's is ~100 MiB as Python objects)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


@dataclass(frozen=True)
class RunSummary:
    """One line of `runbook runs list`."""

    run_id: str
    kind: str
    started: str
    ended: str | None
    status: str
    playbook: str
    incident: str | None
    hosts: int
    counts: dict[str, int]
    path: Path


def summarise(run_dir: Path) -> RunSummary:
    events = read_events(run_dir / "journal.jsonl")
    start = next((e for e in events if e["event"] == "run.start"), {})
    end = next((e for e in reversed(events) if e["event"] == "run.end"), None)
    counts: dict[str, int] = {}
    for e in events:
        if e["event"] == "host.end":
            counts[e["outcome"]] = counts.get(e["outcome"], 0) + 1
    return RunSummary(
        run_id=run_dir.name, kind=start.get("kind", "run"), started=start.get("ts", ""),
        ended=end["ts"] if end else None,
        status=end["status"] if end else "incomplete",
        playbook=(start.get("playbook") or {}).get("name", ""), incident=start.get("incident"),
        hosts=len(start.get("hosts", [])), counts=counts, path=run_dir,
    )


def _started_ms(run_dir: Path) -> str:
    """run.start's timestamp: run ids sort by time only to the second."""
    try:
        with open(run_dir / "journal.jsonl", encoding="utf-8") as fh:
            return str(json.loads(fh.readline()).get("ts", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def iter_runs(runs_dir: Path) -> Iterator[Path]:
    """Run directories, oldest first (by run id, then by run.start within the same second)."""
    if not runs_dir.is_dir():
        return iter(())
    runs = [p for p in runs_dir.iterdir() if (p / "journal.jsonl").is_file()]
    return iter(sorted(runs, key=lambda p: (p.name[:16], _started_ms(p), p.name)))


def find_run(runs_dir: Path, run_id: str) -> Path:
    """The run directory whose id is ``run_id`` or starts with it; RunbookError unless one."""
    matches = [p for p in iter_runs(runs_dir) if p.name.startswith(run_id)]
    if len(matches) != 1:
        raise RunbookError(f"{'no' if not matches else 'more than one'} run matches {run_id!r} in {runs_dir}")
    return matches[0]


def runs_of_incident(runs_dir: Path, incident: str) -> list[Path]:
    """Run directories whose run.start names ``incident``, oldest first."""
    found = []
    for run_dir in iter_runs(runs_dir):
        with open(run_dir / "journal.jsonl", encoding="utf-8") as fh:
            first = fh.readline()
        try:
            start = json.loads(first)
        except json.JSONDecodeError:
            continue
        if start.get("event") == "run.start" and start.get("incident") == incident:
            found.append(run_dir)
    return found
