"""Where log bytes come from: grouping files into log sets, rotation order, decompression.

A *log set* is one log with its rotated siblings: ``access.log.2.gz``, ``access.log.1`` and
``access.log`` are one set named ``access.log``, read oldest first so events come in time
order. Numbered (logrotate), dated (``-20240101``, Tomcat's ``catalina.2024-01-01.log``) and
compressed (.gz, .bz2, .xz -- recognised by their magic bytes, not their names) files are
handled. Reading is in big chunks that end at a line break, which the fast access-log scanner
needs and which keeps a multi-byte character from being split.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import zlib
from typing import BinaryIO, Dict, Iterator, List, Tuple

CHUNK = 8 << 20  # big enough that per-chunk overhead vanishes, small enough for any server

_NUMBERED = re.compile(r"^(?P<stem>.+)\.(?P<num>\d{1,4})$")
_DATED = re.compile(r"^(?P<stem>.+)-(?P<date>\d{8}(?:\d{2,6})?)$")
_TOMCAT = re.compile(r"^(?P<prefix>.+)\.(?P<date>\d{4}-\d\d-\d\d)\.(?P<ext>log|txt)$")
_COMPRESSED = (".gz", ".bz2", ".xz")


def rotation_key(path: str) -> Tuple[str, Tuple[int, int, str]]:
    """(set name, age key): files of one set sort oldest first by the age key."""
    directory, name = os.path.split(path)
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    match = _TOMCAT.match(name)
    if match:
        stem = "%s.%s" % (match.group("prefix"), match.group("ext"))
        return os.path.join(directory, stem), (0, 0, match.group("date"))
    match = _DATED.match(name)
    if match:
        return os.path.join(directory, match.group("stem")), (0, 0, match.group("date"))
    match = _NUMBERED.match(name)
    if match:
        # access.log.2 is older than access.log.1: a bigger number sorts first.
        return os.path.join(directory, match.group("stem")), (1, -int(match.group("num")), "")
    return os.path.join(directory, name), (2, 0, "")


def log_sets(paths: List[str]) -> List[Tuple[str, List[str]]]:
    """Group paths into log sets, each ordered oldest file first; sets keep first-seen order."""
    groups: Dict[str, List[Tuple[Tuple[int, int, str], str]]] = {}
    for path in paths:
        stem, age = rotation_key(path)
        groups.setdefault(stem, []).append((age, path))
    return [(stem, [p for _, p in sorted(members)]) for stem, members in groups.items()]


def _kind(path: str) -> str:
    with open(path, "rb") as raw:
        magic = raw.read(6)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic[:3] == b"BZh":
        return "bzip2"
    if magic[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return "plain"


def open_log(path: str) -> BinaryIO:
    """Open for binary reading, decompressing gzip, bzip2 and xz transparently."""
    kind = _kind(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _gunzip_blocks(path: str, size: int) -> Iterator[bytes]:
    """Decompressed blocks of a gzip file (all members), straight from zlib.

    GzipFile inflates 8 KiB at a time in Python; feeding zlib 1 MiB at a time is several
    times faster, which is what keeps .gz input close to the speed of decompression.
    """
    with open(path, "rb") as raw:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            data = raw.read(1 << 20)
            if not data:
                break
            while data:
                out = inflater.decompress(data, size)
                if out:
                    yield out
                if inflater.eof:  # concatenated members (e.g. appended by logrotate)
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    data = inflater.unconsumed_tail
        tail = inflater.flush()
        if tail:
            yield tail


def _cut(blocks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Regroup blocks into chunks of about ``size`` ending at a line break."""
    pending: List[bytes] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        if held < size:
            continue
        data = b"".join(pending)
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            pending, held = [data], len(data)
            continue
        yield data[:cut]
        pending, held = [data[cut:]], len(data) - cut
    data = b"".join(pending)
    if data:
        yield data if data.endswith(b"\n") else data + b"\n"


def log_chunks(path: str, size: int = 0) -> Iterator[bytes]:
    """The decompressed content of ``path`` in chunks that end at a line break."""
    size = size or CHUNK
    if _kind(path) == "gzip":
        return _cut(_gunzip_blocks(path, size), size)
    return _file_chunks(path, size)


def _file_chunks(path: str, size: int) -> Iterator[bytes]:
    with open_log(path) as stream:
        for chunk in read_chunks(stream, size):
            yield chunk


def read_chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """Chunks of about ``size`` bytes, each ending with b"\\n" (a missing last one is added).

    The partial last line of a block is completed with ``readline`` rather than carried over
    to the next block: one copy of the chunk instead of two, which the fast path notices.
    A line longer than ``size`` is split (and probably counted as garbage).
    """
    while True:
        block = stream.read(size)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += stream.readline(size)
            if not block.endswith(b"\n"):
                block += b"\n"
        yield block


def head_lines(path: str, limit: int = 64, max_bytes: int = 1 << 16) -> List[str]:
    """The first non-empty lines of a file, for format detection."""
    with open_log(path) as stream:
        data = stream.read(max_bytes)
    if len(data) == max_bytes and b"\n" in data:
        data = data[:data.rfind(b"\n")]
    text = data.decode("utf-8", "replace")
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()][:limit]


def iter_lines(chunk: bytes) -> List[str]:
    """Decode a chunk into lines, tolerating bad UTF-8 and CRLF line ends."""
    lines = chunk.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
