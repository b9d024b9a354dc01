"""Decompression on the second core: a forked child inflates while this process parses.

The access scanner reads an nginx log at about 1 M lines/s on one core; zlib inflates the
same log, gzipped, at about 4 M lines/s. In one process the two costs add up (a .gz took 1.25x
as long as the plain file). A thread does not help, as measured: zlib releases the GIL while it
inflates, but its output buffer grows in steps and each step needs the GIL back, which the
scanner holds for tens of milliseconds at a time inside one ``findall``.

So a child process runs the chunk generator instead. ``os.fork`` costs no interpreter start
and no import, and works just as well from the in-memory bundle on a server. The chunks come
back through shared memory:

    child                                      parent
    chunk -> a free slot of the shared map
            ---- b"D", slot, length -------->  copies the slot out, gives the slot back
            <--- slot number ----------------
    error   ---- b"E", length, message ----->  raises it (after the chunks before it)
    end     ---- b"Z" ---------------------->  stops

There are ``SLOTS`` slots of ``capacity`` bytes each. The child is at most that many chunks
ahead, so memory stays bounded whatever the size of the file. The parent copies a chunk out
before giving its slot back (about 1 ms for 8 MiB), so callers get plain ``bytes``.

Forking happens only where it is safe and pays off (``usable``): ``os.fork`` exists, and this
process runs a single thread. Forking a threaded process can leave the child stuck on a lock
that another thread held. Otherwise the same chunks are made in process, with the same results.

The child ends by itself if the parent goes away: its next write finds the pipe closed, or its
wait for a free slot reads end-of-file. When the consumer stops early (a closed generator,
Ctrl-C), the parent kills the child and reaps it.
"""

from __future__ import annotations

import errno
import mmap
import os
import signal
import struct
import threading
from typing import Callable, Iterator, List

SLOTS = 2
#: Below this many compressed bytes a fork costs more than it saves.
MIN_BYTES = 1 << 20
_HEAD = struct.Struct("=cBI")  # kind, slot, length


class UnreadableLog(OSError):
    """The rest of a log cannot be read: corrupt or cut-off compressed data, or a read error.

    It is raised only after every chunk that could be read has been handed over. The caller
    keeps those chunks and reports the file as read up to that point.
    """


def usable() -> bool:
    """Whether chunks may be made in a forked child here."""
    return hasattr(os, "fork") and threading.active_count() == 1


def chunks_aside(produce: Callable[[], Iterator[bytes]], capacity: int) -> Iterator[bytes]:
    """The chunks of ``produce()``, made in a child process. Each chunk must fit ``capacity``.

    The fork happens at the first ``next()``, so an iterator that is never read costs nothing.
    """
    shared = mmap.mmap(-1, capacity * SLOTS)
    full_r, full_w = os.pipe()  # child -> parent: messages
    free_r, free_w = os.pipe()  # parent -> child: slot numbers given back
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: slower, but still read
        for fd in (full_r, full_w, free_r, free_w):
            os.close(fd)
        shared.close()
        yield from produce()
        return
    if pid == 0:  # pragma: no cover -- the child's coverage is not collected
        os.close(full_r)
        os.close(free_w)
        _child(produce, shared, capacity, full_w, free_r)
    os.close(full_w)
    os.close(free_r)
    try:
        while True:
            kind, slot, length = _HEAD.unpack(_read_exact(full_r, _HEAD.size))
            if kind == b"D":
                start = slot * capacity
                chunk = shared[start:start + length]
                try:
                    os.write(free_w, bytes((slot,)))
                except BrokenPipeError:  # the child has made its last chunk and left
                    pass
                yield chunk
            elif kind == b"E":
                raise _error(_read_exact(full_r, length))
            else:
                return
    finally:
        os.close(full_r)
        os.close(free_w)
        try:
            os.kill(pid, signal.SIGKILL)  # finished (a zombie by now) or no longer wanted
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        shared.close()


def _child(produce: Callable[[], Iterator[bytes]], shared: mmap.mmap, capacity: int,
           full_w: int, free_r: int) -> None:  # pragma: no cover -- runs in the child
    """Make the chunks, hand them over, leave with ``os._exit`` (never a parent's cleanup)."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        free: List[int] = list(range(SLOTS))
        chunks = produce()
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                _send(full_w, b"Z")
                break
            except Exception as error:  # noqa: BLE001 -- every error goes to the parent
                _send(full_w, b"E", 0, _describe(error))
                break
            if len(chunk) > capacity:  # callers size capacity so that this cannot happen
                _send(full_w, b"E", 0, _describe(UnreadableLog(
                    errno.EFBIG, "a chunk of %d bytes is bigger than the slot" % len(chunk))))
                break
            if not free:
                returned = os.read(free_r, SLOTS)
                if not returned:  # the parent has gone
                    break
                free.extend(returned)
            slot = free.pop(0)
            shared[slot * capacity:slot * capacity + len(chunk)] = chunk
            _send(full_w, b"D", slot, b"", len(chunk))
    except BaseException:  # noqa: BLE001 -- a closed pipe means the parent stopped reading
        code = 1
    finally:
        os._exit(code)


def _send(fd: int, kind: bytes, slot: int = 0, payload: bytes = b"", length: int = -1) -> None:
    message = _HEAD.pack(kind, slot, len(payload) if length < 0 else length) + payload
    while message:
        message = message[os.write(fd, message):]


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            raise UnreadableLog(errno.EPIPE, "the decompressing process ended unexpectedly")
        data += more
    return data


def _describe(error: BaseException) -> bytes:
    """An error as bytes for the pipe: class tag, errno and message."""
    tag = "U" if isinstance(error, UnreadableLog) else "O" if isinstance(error, OSError) else "X"
    number = getattr(error, "errno", None) or 0
    text = getattr(error, "strerror", None) if tag != "X" else None
    return ("%s\t%d\t%s" % (tag, number, text or "%s: %s" % (type(error).__name__, error))
            ).encode("utf-8", "replace")


def _error(payload: bytes) -> OSError:
    """The error the child described, rebuilt so that callers can catch it as usual."""
    tag, number, text = payload.decode("utf-8", "replace").split("\t", 2)
    if tag == "O":
        return OSError(int(number), text)
    return UnreadableLog(int(number) or errno.EIO, text)
