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

import errno
import functools
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

from runbook.errors import LocalWriteError, RunbookError

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
    # Every event passes through here (a sweep's are ~3,000 values per host): the common
    # types are told apart first, without the slower abstract Mapping check.
    if isinstance(value, str):
        for s in secret_values:
            if s:
                value = value.replace(s, REDACTED)
        return value
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, (dict, Mapping)):
        return {k: (REDACTED if _secret_name(str(k)) and v not in (None, "") else
                    redact(v, secret_values)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secret_values) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    """Whether a key names a secret (the same few dozen keys come again in every event)."""
    return SECRET_NAME.search(key) is not None


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


# Room kept beside a journal for its last events: when the disk fills up mid-run, this is
# freed so that the failing event, every started host's host.end and run.end still fit.
RESERVE_BYTES = 256 * 1024
# Output kept per stream in a command event once the journal's disk is full (the reserve is small).
SHORT_OUTPUT_CHARS = 2 * 1024


class Journal:
    """Writes one run's events. Thread-safe: host workers write from their threads.

    A journal is never left with half an event: a write that fails (a full disk) is cut back
    to the last whole line, the reserve beside the journal is freed and the event written again
    in brief. From then on ``failure`` names the journal and why; the engine stops starting
    steps and the CLI exits 73. A journal deleted during the run is written back from the open
    file at ``finish()``."""

    def __init__(self, run_dir: Path, *, clock=None, secret_values: frozenset[str] = frozenset()) -> None:
        self.run_dir = run_dir
        self.run_id = run_dir.name
        self.path = run_dir / "journal.jsonl"
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._secrets = secret_values
        self._lock = threading.Lock()
        self._seq = 0
        self.failure: LocalWriteError | None = None
        self._broken = False  # not even the reserve was enough: events are dropped (failure says so)
        self._reserve = run_dir / ".journal-reserve"
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise LocalWriteError.from_os_error(exc.filename or self.path, exc) from None
        self._good = os.fstat(self._fd).st_size  # the end of the last whole event
        try:
            _allocate(self._reserve, RESERVE_BYTES)
        except OSError as exc:  # no room for the journal's last events: start nothing
            os.close(self._fd)
            self._reserve.unlink(missing_ok=True)
            raise LocalWriteError.from_os_error(self.run_dir, exc) from None

    @property
    def artifacts_dir(self) -> Path:
        return self.run_dir / "artifacts"

    def redact(self, value: Any) -> Any:
        """``value`` as the journal would write it: for output shown to the operator, too."""
        return redact(value, self._secrets)

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event (see the module docstring); never raises for a full disk."""
        with self._lock:
            self._seq += 1
            record = {"seq": self._seq, "ts": iso(self._clock()), "event": event}
            record.update(redact(fields, self._secrets))
            if self._broken:
                return record
            if self.failure is not None:
                record = _in_brief(record)
            try:
                self._append(record)
            except OSError as exc:
                self._fail(exc)
                try:
                    self._append(_in_brief(record))
                except OSError:
                    self._cut_back()
                    self._broken = True
            return record

    def _append(self, record: Mapping[str, Any]) -> None:
        """One whole line reaches the OS (a crash, kill -9 or Ctrl-C of runbook loses nothing);
        fsync, which survives a power loss and costs milliseconds, only for the ends of steps
        and runs: per event it made a 50-host sweep 0.3 s slower."""
        data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError:
            self._cut_back()
            raise
        self._good += len(data)
        if record["event"] in DURABLE_EVENTS:
            os.fsync(self._fd)

    def _cut_back(self) -> None:
        """Drop a partly written event: the journal ends with a whole line."""
        try:
            os.ftruncate(self._fd, self._good)
        except OSError:
            pass

    def _fail(self, exc: OSError) -> None:
        """The first failed write: say so from now on, and free the reserve for the last events."""
        if self.failure is None:
            self.failure = LocalWriteError.from_os_error(self.path, exc)
        self._reserve.unlink(missing_ok=True)

    def command(self, *, step: int | None, host: str, command: str, exit_code: int | None,
                duration: float, stdout: str, stderr: str, timed_out: bool = False,
                cut_short: str | None = None, stdout_bytes: int | None = None) -> None:
        """One command run on a host. ``cut_short`` says why one never came back ("timeout",
        "interrupted", "connection lost"); then ``exit_code`` is None and ``stderr`` says more.
        ``stdout_bytes``: what it printed, when ``stdout`` is only what the run kept of it."""
        out, cut_out = truncate(stdout)
        err, cut_err = truncate(stderr)
        extra = {"cut_short": cut_short} if cut_short else {}
        self.write("command", step=step, host=host, command=command, exit_code=exit_code,
                   duration=round(duration, 4), stdout=out, stderr=err,
                   stdout_bytes=stdout_bytes if stdout_bytes is not None else len(stdout.encode("utf-8", "replace")),
                   stderr_bytes=len(stderr.encode("utf-8", "replace")),
                   truncated=cut_out or cut_err, timed_out=timed_out, **extra)

    def finish(self) -> None:
        """After ``run.end``: the reserve goes; a journal deleted during the run is written back
        from the open file (or ``failure`` says it is gone)."""
        with self._lock:
            self._reserve.unlink(missing_ok=True)
            if os.fstat(self._fd).st_nlink > 0:
                return
            try:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                with open(self.path, "xb") as out:
                    offset = 0
                    while chunk := os.pread(self._fd, 1 << 20, offset):
                        out.write(chunk)
                        offset += len(chunk)
            except OSError as exc:
                self.failure = self.failure or LocalWriteError(
                    self.path, f"the journal was deleted during the run and cannot be written back "
                               f"({exc.strerror or exc})")
                return
            self.failure = self.failure or LocalWriteError(
                self.path, "the journal was deleted during the run; written back from the open file")

    def close(self) -> None:
        """Close the file (``finish()`` first)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def _allocate(path: Path, size: int) -> None:
    """A file of ``size`` bytes whose blocks are really taken (fallocate, else zeros)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def _in_brief(value: Any, depth: int = 0) -> Any:
    """``value`` with its long strings (a command's output, a traceback) cut short, for a
    journal whose disk is full."""
    if isinstance(value, str):
        return truncate(value, SHORT_OUTPUT_CHARS)[0]
    if depth > 64:
        return value
    if isinstance(value, Mapping):
        return {k: _in_brief(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_in_brief(v, depth + 1) for v in value]
    return value


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


# -- reading ---------------------------------------------------------------------------------

# The fields each event type's readers rely on, with their types: an event without them is
# damaged (written by hand, cut, or from a broken version) and is skipped, not trusted.
_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "step.start": {"name": str},
    "host.start": {"host": str},
    "command": {"host": str, "command": str},
    "evidence": {"host": str},
    "artifact": {"path": str},
    "host.end": {"host": str, "outcome": str},
    "step.end": {"counts": dict},
    "run.end": {"status": str},
}


def read_events(path: Path, damaged: list[str] | None = None) -> list[dict[str, Any]]:
    """All sound events of a journal (see ``iter_events``)."""
    return list(iter_events(path, damaged))


def iter_events(path: Path, damaged: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """The sound events of a journal one at a time, for journals too big to hold at once (a
    5,000-host sweep's is ~100 MiB as Python objects). A damaged line -- torn by a crash
    mid-write, cut inside a UTF-8 character, not a JSON object, an event without the fields
    its readers need -- is skipped; with ``damaged`` given, "FILE:LINE: why" is added to it."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            event, why = _parse_event(raw)
            if event is not None:
                yield event
            elif damaged is not None:
                damaged.append(f"{path}:{number}: {why}")


def _parse_event(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """One journal line as an event, or None and why it is not one."""
    try:
        event = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "damaged line skipped (not UTF-8)"
    except ValueError:
        return None, "damaged line skipped (not JSON)"
    if not isinstance(event, dict):
        return None, "damaged line skipped (not an event object)"
    kind = event.get("event")
    if not isinstance(kind, str) or not isinstance(event.get("ts"), str):
        return None, "damaged line skipped (no event type or time)"
    try:
        parse_ts(event["ts"])
    except ValueError:
        return None, f"damaged {kind} event skipped (time {event['ts'][:40]!r})"
    for field, kind_of in _REQUIRED.get(kind, {}).items():
        if not isinstance(event.get(field), kind_of):
            return None, f"damaged {kind} event skipped (no {field})"
    return event, ""


def first_event(path: Path) -> dict[str, Any] | None:
    """A journal's first line as an event (run.start, normally), or None when it is damaged or
    unreadable: for listings that must not open every journal in full."""
    try:
        with open(path, "rb") as fh:
            return _parse_event(fh.readline())[0]
    except OSError:
        return None


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


def summarise(run_dir: Path, damaged: list[str] | None = None) -> RunSummary:
    """A run's line in ``runs list`` from its journal (damaged lines skipped, see ``iter_events``)."""
    events = read_events(run_dir / "journal.jsonl", damaged)
    start = next((e for e in events if e["event"] == "run.start"), {})
    end = next((e for e in reversed(events) if e["event"] == "run.end"), None)
    counts: dict[str, int] = {}
    for e in events:
        if e["event"] == "host.end":
            counts[e["outcome"]] = counts.get(e["outcome"], 0) + 1
    playbook, hosts, incident = start.get("playbook"), start.get("hosts"), start.get("incident")
    return RunSummary(
        run_id=run_dir.name, kind=str(start.get("kind", "run")), started=start.get("ts", ""),
        ended=end["ts"] if end else None,
        status=end["status"] if end else "incomplete",
        playbook=str(playbook.get("name", "")) if isinstance(playbook, dict) else "",
        incident=str(incident) if incident is not None else None,
        hosts=len(hosts) if isinstance(hosts, list) else 0, counts=counts, path=run_dir,
    )


def _started_ms(run_dir: Path) -> str:
    """run.start's timestamp: run ids sort by time only to the second."""
    start = first_event(run_dir / "journal.jsonl")
    return start["ts"] if start is not None else ""


def iter_runs(runs_dir: Path) -> Iterator[Path]:
    """Run directories, oldest first (by run id, then by run.start within the same second).
    None yet is none; a file where the runs directory should be is a LocalWriteError (no run
    could be written there either), not an empty list."""
    if not runs_dir.is_dir():
        blocking = next((p for p in (runs_dir, *runs_dir.parents) if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise LocalWriteError(blocking, f"a file where the runs directory {runs_dir} should be")
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
        start = first_event(run_dir / "journal.jsonl")
        if start is not None and start["event"] == "run.start" and start.get("incident") == incident:
            found.append(run_dir)
    return found
