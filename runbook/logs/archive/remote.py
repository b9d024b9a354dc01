"""The remote half of ``logs.archive``: a stdlib-only program (Python 3.6+) sent over stdin.

runbook never runs it here: ``stream.py`` reads this file's text and sends it to the host,
where a fixed bootstrap (``BOOTSTRAP``) executes it. Everything variable (paths, sizes) comes
as JSON on stdin after the program, so no value from a host or a config ever appears in a
command line. Nothing is written on the remote disk: it works on a 100% full filesystem.

It writes one tar.gz stream to stdout, cut into frames (1 byte kind, 4 bytes big-endian
length, payload):

``Z``  gzip bytes of the archive, to be appended to the local .tar.gz as they are
``M``  JSON for one file: path, member name, bytes archived, sha256 over exactly those bytes,
       status ("ok"; "replaced": another file has the name now; "shrunk": truncated since the
       listing; "short": shrank while being read; "missing"; "unreadable"; "not-a-file")
``E``  JSON at the very end: files and bytes (a stream without it was cut off)

Each file is archived as exactly the bytes it had when it was listed (``size``): a log that
grows meanwhile contributes its listed prefix, which is what the listing promised. Files are
opened with O_NOFOLLOW, except a deleted-but-open file (``proc_fd`` in the job), whose
``/proc/PID/fd/N`` link is the only way to its content; only a path of exactly that shape is
followed, and its device and inode are checked like every file's. Reading
and compressing happen here, on the host, so only compressed bytes cross the network.
"""

import hashlib
import json
import os
import re
import stat
import struct
import sys
import tarfile
import zlib

BOOTSTRAP = ("import sys;b=sys.stdin.buffer;"
             "exec(compile(b.read(int(b.readline())),'runbook-archive','exec'))")
FRAME_BYTES = 256 * 1024
PROC_FD = re.compile(r"\A/proc/[0-9]+/fd/[0-9]+\Z")


class Frames:
    """Framed output; compressed bytes are collected into frames of FRAME_BYTES."""

    def __init__(self, out, level):
        self.out = out
        self.zip = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip header and trailer
        self.pending = []
        self.pending_bytes = 0

    def frame(self, kind, payload):
        self.out.write(kind + struct.pack(">I", len(payload)))
        self.out.write(payload)

    def data(self, raw):
        packed = self.zip.compress(raw)
        if packed:
            self.pending.append(packed)
            self.pending_bytes += len(packed)
            if self.pending_bytes >= FRAME_BYTES:
                self.flush_data()

    def flush_data(self, final=False):
        if final:
            self.pending.append(self.zip.flush())
        payload = b"".join(self.pending)
        if payload:
            self.frame(b"Z", payload)
        self.pending = []
        self.pending_bytes = 0

    def record(self, kind, value):
        self.flush_data()
        self.frame(kind, json.dumps(value, sort_keys=True).encode("utf-8"))
        self.out.flush()


def archive_one(frames, spec, chunk):
    """One file as a tar member of exactly the listed size; returns its manifest entry."""
    path = spec["path"]
    entry = {"path": path, "member": spec.get("member") or path.lstrip("/"), "listed_bytes": spec["size"]}
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    # A deleted-but-open file has no name left: its /proc/PID/fd/N link is the only way in,
    # so that link (and nothing else) is followed; the device/inode check below still holds.
    held = bool(spec.get("proc_fd")) and PROC_FD.match(path) is not None
    if not held:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path.encode("utf-8", "surrogateescape"), flags)
    except OSError as exc:
        entry["status"] = "missing" if exc.errno == 2 else "unreadable"
        entry["error"] = exc.strerror
        return entry
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            entry["status"] = "not-a-file"
            return entry
        want = spec["size"]
        status = "ok"
        if (st.st_dev, st.st_ino) != (spec["device"], spec["inode"]):
            status, want = "replaced", st.st_size
        elif st.st_size < want:
            status, want = "shrunk", st.st_size
        info = tarfile.TarInfo(entry["member"])
        info.size = want
        info.mtime = int(spec["mtime"]) if status == "ok" and not held else int(st.st_mtime)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        frames.data(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        digest = hashlib.sha256()
        left = want
        while left > 0:
            piece = os.read(fd, min(chunk, left))
            if not piece:
                # Truncated while we read it: pad to the size the header already promised;
                # the sha256 covers the padding too, and the status says so.
                piece = bytes(left)
                status = "short"
                entry["bytes_read"] = want - left
            digest.update(piece)
            frames.data(piece)
            left -= len(piece)
        if want % 512:
            frames.data(bytes(512 - want % 512))
        if hasattr(os, "posix_fadvise"):
            # Do not push the host's working set out of the page cache for a one-off read.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        entry.update(status=status, bytes=want, sha256=digest.hexdigest(), mtime=info.mtime,
                     device=st.st_dev, inode=st.st_ino)
        return entry
    finally:
        os.close(fd)


def main():
    source = sys.stdin.buffer
    job = json.loads(source.read(int(source.readline())).decode("utf-8"))
    frames = Frames(sys.stdout.buffer, int(job.get("level", 1)))
    chunk = int(job.get("chunk", 1024 * 1024))
    total = 0
    for index, spec in enumerate(job["files"]):
        entry = archive_one(frames, spec, chunk)
        entry["i"] = index
        total += entry.get("bytes", 0)
        frames.record(b"M", entry)
    frames.data(bytes(1024))  # tar's end-of-archive marker: two zero blocks
    frames.flush_data(final=True)
    frames.record(b"E", {"files": len(job["files"]), "bytes": total})


if __name__ == "runbook-archive" or __name__ == "__main__":
    main()
