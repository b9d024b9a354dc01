"""The ``logs.archive`` action: secure a host's log files in one verified tar.gz per host.

The plan lists the files (path and the exact byte count the archive will hold); applying
streams them over the run's SSH connection into
``<run>/artifacts/<host>/logs-<UTC time>.tar.gz`` -- nothing is staged on the host, so it works
on a full disk -- then reads the archive back and compares every member's sha256 with the one
computed on the host over the same bytes. The journal gets an ``artifact`` event whose manifest
lists every file (path, bytes, sha256, status, verified); ``logs.clean`` deletes only files
that a verified manifest of the same run holds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

from runbook.actions.base import HostAction
from runbook.actions.logs.common import (
    DfEvidence,
    directories_in_words,
    evidence_of,
    host_log_sets,
    list_log_files,
    mounts_over,
    on_mounts,
)
from runbook.actions.params import Duration
from runbook.change import INTERNAL, Applied, Change, Message, Outcome, Plan
from runbook.errors import ActionError
from runbook.logs.archive.stream import (
    FrameReader,
    Listed,
    TarGzWriter,
    parse_shell_sums,
    python_command,
    remote_stdin,
    shell_stream_script,
    shell_sums_script,
    verify_archive,
)
from runbook.logs.files import LogFile
from runbook.task import HostTask
from runbook.units import format_bytes

ARTIFACT_KIND = "logs.archive"
# Where a Python 3 may be: python3 on PATH, else RHEL 8's platform-python (always installed).
_FIND_PYTHON = ("for p in python3 /usr/libexec/platform-python; do "
                "if command -v \"$p\" >/dev/null 2>&1 && \"$p\" -c 'import sys; sys.exit(sys.version_info < (3, 6))' "
                "2>/dev/null; then command -v \"$p\"; exit 0; fi; done; exit 1")
READ_CHUNK = 1024 * 1024
# The stream's time limit grows with the data: at least the step's timeout, and a minute plus
# one second per 2 MiB (a slow WAN link to a customer's host still finishes).
SLOWEST_BYTES_PER_SECOND = 2 * 1024 * 1024
_LISTED = ("path", "log_set", "size", "mtime", "device", "inode", "rotated", "compressed", "open_by", "mount")


@dataclass(frozen=True)
class ArchiveParams:
    """sets: log set names (empty: every set of the host); since: only files modified within
    this long (default: all); files: all, live or rotated; over: only files on mounts at or
    over the host's warning/critical disk threshold (any: no filter); mounts_from: judge
    "over" by this registered health.check result instead of now; level: gzip level 1-9;
    remote: how the host sends its files (auto: python3 if present, else POSIX sh)."""

    sets: list[str] = ()  # type: ignore[assignment]
    since: Duration | None = None
    files: Literal["all", "live", "rotated"] = "all"
    over: Literal["any", "warning", "critical"] = "any"
    mounts_from: str | None = None
    level: int = 1
    remote: Literal["auto", "python", "shell"] = "auto"


class LogsArchiveAction(HostAction):
    """Stream a host's log files as one tar.gz into the run's artifacts, verified by sha256.

    Params: ``sets`` (default: all log sets), ``since`` (mtime window, e.g. 2d; default all),
    ``files`` (all | live | rotated), ``over`` (any | warning | critical: only mounts over the
    threshold), ``mounts_from`` (a registered health.check: its verdict decides ``over``),
    ``level`` (gzip 1-9, default 1), ``remote`` (auto | python | shell).
    Each file is archived as exactly the bytes it had when listed; nothing is written on the
    host. The journal's artifact event carries the manifest (path, bytes, sha256, verified).
    """

    name = "logs.archive"
    Params = ArchiveParams
    confirm = True

    def plan(self, task: HostTask, params: ArchiveParams) -> Plan:
        if not 1 <= params.level <= 9:
            raise ActionError(f"level must be 1-9, not {params.level}")
        sets = host_log_sets(task, list(params.sets))
        found = on_mounts(list_log_files(task, sets), mounts_over(task, params.over, params.mounts_from))
        chosen = select(found, params, now=time.time())
        skipped = [f for f in found if f.kind != "file"]
        data: dict[str, Any] = {"sets": [s.name for s in sets],
                                "files": [{k: f.to_json()[k] for k in _LISTED} for f in chosen],
                                "bytes": sum(f.size for f in chosen),
                                "skipped": [{"path": f.path, "reason": f"a {f.kind}"} for f in skipped]}
        if not chosen:
            return Plan(Outcome.OK, data=data, message=f"no log files to archive in {', '.join(data['sets']) or 'no sets'}")
        listed = [Listed(f.path, f.size, f.mtime, f.device, f.inode) for f in chosen]
        sentence = (f"archive {len(listed)} log file(s), {format_bytes(data['bytes'])}, "
                    f"of {', '.join(sorted({f.log_set for f in chosen}))} into the run's artifacts")
        evidence = DfEvidence([f.mount or "/" for f in chosen])
        # The report's sentence ("Archived 5 log files from /var/log/nginx ... (1.2 MiB, checksum
        # verified)") gets the verified count and the archive's size once it is written.
        change = Change(sentence, apply=evidence.wrap(lambda t: self._apply(t, params, listed)),
                        details={"files": [{"path": f.path, "bytes": f.size} for f in listed]},
                        message=Message("logs_archived", {"count": len(listed),
                                                          "path": directories_in_words(f.path for f in listed)}))
        return Plan(Outcome.CHANGED, changes=(change,), data=data, message=sentence)

    def after(self, task: HostTask, params: ArchiveParams, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        evidence = evidence_of(plan)
        return evidence.finish(task) if evidence is not None else {}

    def _apply(self, task: HostTask, params: ArchiveParams, listed: list[Listed]) -> Applied:
        mode = params.remote
        interpreter = None
        if mode in ("auto", "python"):
            found = task.run(_FIND_PYTHON)
            interpreter = found.stdout.strip() if found.ok else None
            if interpreter is None and mode == "python":
                raise ActionError(f"{task.host.name}: no Python 3.6+ on the host (use remote: shell)")
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        final = _free_name(task.artifacts_dir / f"logs-{stamp}.tar.gz")
        partial = final.with_name(final.name + ".part")
        began = time.monotonic()
        with open(partial, "wb") as out:
            if interpreter:
                entries, sha256, size = _python_stream(task, interpreter, listed, out, params.level)
            else:
                entries, sha256, size = _shell_stream(task, listed, out, params.level)
        manifest = _verified_manifest(partial, entries, listed)
        os.replace(partial, final)
        seconds = time.monotonic() - began
        good = sum(1 for e in manifest if e["verified"])
        raw = sum(e.get("bytes", 0) for e in manifest)
        task.artifact(ARTIFACT_KIND, final, size=size, sha256=sha256, manifest={
            "files": manifest, "verified": good, "total": len(manifest), "raw_bytes": raw,
            "mode": "python" if interpreter else "shell", "level": params.level,
            "seconds": round(seconds, 3)})
        note = (f"{good}/{len(manifest)} verified, {format_bytes(raw)} -> {format_bytes(size)} "
                f"in {seconds:.1f}s, {final.name}")
        if good < len(manifest):
            bad = [f"{e['path']} ({e.get('status')})" for e in manifest if not e["verified"]][:5]
            note += "; NOT verified: " + ", ".join(bad)
        corrupt = [e["path"] for e in manifest if e.get("status") == "ok" and not e["verified"]]
        if corrupt:
            # A file the host read as listed but whose member differs: the archive is damaged,
            # not the log changed. Fail the step, so nothing is deleted on the strength of it.
            raise ActionError(f"{task.host.name}: archive {final.name} does not match the host's sha256 for "
                              f"{len(corrupt)} file(s), e.g. {corrupt[0]!r}; {note}")
        # Every file gone or replaced before it was read: nothing was secured to tell the customer.
        return Applied(note, message_id=None if good else INTERNAL, args={"count": good, "size_bytes": size})


def select(files: list[LogFile], params: ArchiveParams, *, now: float) -> list[LogFile]:
    """Regular files of the wanted kind, modified within ``since``; oldest first."""
    chosen = [f for f in files if f.kind == "file"]
    if params.files != "all":
        chosen = [f for f in chosen if f.rotated == (params.files == "rotated")]
    if params.since is not None:
        chosen = [f for f in chosen if f.mtime >= now - params.since]
    return sorted(chosen, key=lambda f: (f.mtime, f.path))


def _python_stream(task: HostTask, interpreter: str, listed: list[Listed], out: Any,
                   level: int) -> tuple[list[dict[str, Any]], str, int]:
    reader = FrameReader(out)
    # The connection only calls write() on a sink; FrameReader is that, not a full BinaryIO.
    result = task.stream(python_command(interpreter), cast(BinaryIO, reader), timeout=_time_limit(task, listed),
                         stdin=remote_stdin(listed, level=level, chunk=READ_CHUNK))
    if result.exit_code != 0 or not reader.complete:
        raise ActionError(f"{task.host.name}: archive stream failed (exit {result.exit_code}, "
                          f"{'complete' if reader.complete else 'cut off'}): {result.stderr.strip()[-300:]}")
    return reader.entries, reader.sha256.hexdigest(), reader.bytes


def _shell_stream(task: HostTask, listed: list[Listed], out: Any,
                  level: int) -> tuple[list[dict[str, Any]], str, int]:
    writer = TarGzWriter(out, listed, level=level)
    script = shell_stream_script(listed).encode("utf-8", "surrogateescape")
    result = task.stream("exec /bin/sh -s", cast(BinaryIO, writer), timeout=_time_limit(task, listed), stdin=script)
    if result.exit_code != 0:
        raise ActionError(f"{task.host.name}: archive stream failed (exit {result.exit_code}): "
                          f"{result.stderr.strip()[-300:]}")
    writer.close()
    script = shell_sums_script(listed).encode("utf-8", "surrogateescape")
    sums = task.run("exec /bin/sh -s", timeout=_time_limit(task, listed), stdin=script)
    entries = parse_shell_sums(sums.stdout, listed)
    return entries, writer.sha256, writer.bytes


def _verified_manifest(archive: Path, entries: list[dict[str, Any]], listed: list[Listed]) -> list[dict[str, Any]]:
    """The host's manifest entries, each marked verified when its member, read back from the
    local archive, has the host's byte count and sha256 and the file was as listed."""
    members = verify_archive(archive)
    by_index = {e.get("i"): e for e in entries}
    manifest = []
    for i, f in enumerate(listed):
        entry = dict(by_index.get(i) or {"path": f.path, "status": "not reported"})
        entry.pop("i", None)
        got = members.get(str(entry.get("member", "")))
        entry["archived_sha256"] = got[1] if got else None
        entry["verified"] = bool(got and entry.get("status") == "ok" and got[0] == entry.get("bytes") == f.size
                                 and got[1] == entry.get("sha256"))
        manifest.append(entry)
    return manifest


def _time_limit(task: HostTask, listed: list[Listed]) -> float:
    return max(task.timeout, 60 + sum(f.size for f in listed) / SLOWEST_BYTES_PER_SECOND)


def _free_name(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists() or candidate.with_name(candidate.name + ".part").exists():
        n += 1
        candidate = path.with_name(path.name.replace(".tar.gz", f"-{n}.tar.gz"))
    return candidate
