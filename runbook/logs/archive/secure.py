"""Securing log files: stream them from the host into one tar.gz in the run's artifacts, verify
it, and say which files a run has secured (what ``logs.clean`` may delete).

The archive is ``<run>/artifacts/<host>/logs-<UTC time>.tar.gz``; nothing is staged on the
host, so it works on a full disk. Every member's sha256 is compared with the one computed on
the host over the same bytes. The journal gets an ``artifact`` event whose manifest lists
every file (path, bytes, sha256, status, verified).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from runbook.change import INTERNAL, Applied
from runbook.errors import ActionError, LocalWriteError, last_line
from runbook.journal import read_events
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


def secure(task: HostTask, listed: list[Listed], *, level: int, remote: str) -> Applied:
    """Stream ``listed`` from the host into ``<run>/artifacts/<host>/logs-<UTC time>.tar.gz``,
    read it back and verify every member against the host's sha256; journal it as an
    ``artifact`` with its manifest. ``remote``: auto | python | shell (how the host sends)."""
    mode = remote
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
    try:
        with open(partial, "wb") as out:
            if interpreter:
                entries, sha256, size = _python_stream(task, interpreter, listed, out, level)
            else:
                entries, sha256, size = _shell_stream(task, listed, out, level)
        manifest = _verified_manifest(partial, entries, listed)
        os.replace(partial, final)
    except (OSError, LocalWriteError) as exc:  # this machine's disk, not the host's: it must not stay full
        partial.unlink(missing_ok=True)
        why = exc.reason if isinstance(exc, LocalWriteError) else (exc.strerror or str(exc))
        raise LocalWriteError(partial, f"{why} (the partial archive was removed; nothing deleted on the host)") from None
    except BaseException:
        partial.unlink(missing_ok=True)  # a half archive secures nothing and fills the disk
        raise
    seconds = time.monotonic() - began
    good = sum(1 for e in manifest if e["verified"])
    raw = sum(e.get("bytes", 0) for e in manifest)
    task.artifact(ARTIFACT_KIND, final, size=size, sha256=sha256, manifest={
        "files": manifest, "verified": good, "total": len(manifest), "raw_bytes": raw,
        "mode": "python" if interpreter else "shell", "level": level,
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


def _python_stream(task: HostTask, interpreter: str, listed: list[Listed], out: Any,
                   level: int) -> tuple[list[dict[str, Any]], str, int]:
    reader = FrameReader(out)
    # The connection only calls write() on a sink; FrameReader is that, not a full BinaryIO.
    result = task.stream(python_command(interpreter), cast(BinaryIO, reader), timeout=_time_limit(task, listed),
                         stdin=remote_stdin(listed, level=level, chunk=READ_CHUNK))
    if result.exit_code != 0 or not reader.complete:
        raise ActionError(f"{task.host.name}: archive stream failed (exit {result.exit_code}, "
                          f"{'complete' if reader.complete else 'cut off'}): {last_line(result.stderr)[-300:]}")
    return reader.entries, reader.sha256.hexdigest(), reader.bytes


def _shell_stream(task: HostTask, listed: list[Listed], out: Any,
                  level: int) -> tuple[list[dict[str, Any]], str, int]:
    writer = TarGzWriter(out, listed, level=level)
    script = shell_stream_script(listed).encode("utf-8", "surrogateescape")
    result = task.stream("exec /bin/sh -s", cast(BinaryIO, writer), timeout=_time_limit(task, listed), stdin=script)
    if result.exit_code != 0:
        raise ActionError(f"{task.host.name}: archive stream failed (exit {result.exit_code}): "
                          f"{last_line(result.stderr)[-300:]}")
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
        if f.held is not None:
            entry.update(f.held.to_json())
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


def secured_files(task: HostTask) -> dict[str, dict[str, Any]]:
    """Files in verified ``logs.archive`` manifests of this run for this host, by path, whose
    archive is still on disk with the sha256 the journal recorded. In check mode, the files a
    ``logs.archive`` step of this run planned count too: check mode shows what the real run
    would delete once that archive is made and verified."""
    found: dict[str, dict[str, Any]] = {}
    for event, intact in _archives_of_host(task):
        if event["event"] == "artifact":
            if not intact:
                continue
            for entry in (event.get("manifest") or {}).get("files", []):
                # A deleted file's old name may belong to a new live log now: never by path.
                if entry.get("verified") and not entry.get("deleted"):
                    found[entry["path"]] = {**entry, "archive": str(event.get("path"))}
        else:
            for f in event["data"].get("files", []):
                found.setdefault(f["path"], {"path": f["path"], "device": f["device"], "inode": f["inode"],
                                             "bytes": f["size"], "archive": f"planned in step {event['step'] + 1}"})
    return found


def secured_held(task: HostTask) -> dict[tuple[int, int], dict[str, Any]]:
    """Deleted-but-open files in this run's ``logs.archive`` manifests for this host, by
    (device, inode): the last entry of each, verified or not (``verified`` says), with the
    archive it is in. An archive no longer intact on disk counts as not verified. In check
    mode, a ``logs.archive`` step's planned deleted files count as secured (as planned)."""
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for event, intact in _archives_of_host(task):
        if event["event"] == "artifact":
            for entry in (event.get("manifest") or {}).get("files", []):
                if entry.get("deleted") and "device" in entry and "inode" in entry:
                    found[(int(entry["device"]), int(entry["inode"]))] = {
                        **entry, "verified": bool(entry.get("verified") and intact), "archive": str(event["path"])}
        else:
            for f in event["data"].get("deleted", []):
                found[(int(f["device"]), int(f["inode"]))] = {
                    **f, "bytes": f["size"], "verified": True, "archive": f"the archive planned in step {event['step'] + 1}"}
    return found


def _archives_of_host(task: HostTask) -> Iterator[tuple[dict[str, Any], bool]]:
    """This host's ``logs.archive`` artifact events of the run, each with whether its archive
    is still intact; in check mode also the ``host.end`` of each planned ``logs.archive`` step."""
    actions: dict[Any, str] = {}
    for event in read_events(task.journal.path):
        if event.get("event") == "step.start":
            actions[event.get("step")] = str(event.get("action"))
        if event.get("host") != task.host.name:
            continue
        if event.get("event") == "artifact" and event.get("kind") == ARTIFACT_KIND:
            yield event, _intact(task.journal.run_dir / str(event.get("path")), str(event.get("sha256")))
        elif (task.check and event.get("event") == "host.end" and actions.get(event.get("step")) == ARTIFACT_KIND
              and (event.get("data") or {}).get("check")):
            yield event, True


def _intact(archive: Path, sha256: str) -> bool:
    """The archive is still there, byte for byte as the journal recorded it."""
    digest = hashlib.sha256()
    try:
        with open(archive, "rb") as fh:
            while piece := fh.read(1 << 20):
                digest.update(piece)
    except OSError:
        return False
    return digest.hexdigest() == sha256
