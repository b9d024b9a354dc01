"""Starting, probing and stopping the lab's processes (sshd listeners and the tarpit).

Everything here works on plain pids so that ``python -m tests.lab down`` can stop a lab that
another process started, using only the pid files it left behind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import psutil

SSHD = "/usr/sbin/sshd"
# How often a wait loop looks again. Short, because sshd is usually up within milliseconds.
POLL_INTERVAL = 0.01


class LabError(RuntimeError):
    """The lab could not start or stop; the message names the host, the address and why."""


def lab_unavailable_reason() -> str | None:
    """Why the lab cannot run on this machine, or None if it can.

    Only missing tools or an unusable login account count: the suite should skip with this
    reason instead of failing with a confusing sshd error.
    """
    for tool in (SSHD, "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"the SSH lab needs OpenSSH's {tool!r}, which is not installed"
    account = pwd.getpwuid(os.geteuid())
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("sshd")
        except KeyError:
            return "sshd runs as root here but the privilege-separation user 'sshd' is missing"
    if Path(account.pw_shell).name in ("nologin", "false"):
        return f"the login user {account.pw_name!r} has no usable shell ({account.pw_shell})"
    return None


def ensure_privsep_dir() -> None:
    """Create /run/sshd, which sshd insists on when it runs as root (not needed otherwise)."""
    if os.geteuid() != 0:
        return
    path = Path("/run/sshd")
    path.mkdir(mode=0o755, exist_ok=True)
    # sshd refuses a group- or world-writable privsep dir, whatever mkdir's umask gave us.
    path.chmod(0o755)


def spawn(argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session, its output appended to ``log``.

    With util-linux's ``setpriv`` the process also gets SIGTERM when the thread that started
    it dies, so a test run killed with SIGKILL does not leave sshd holding the lab addresses.
    That ties the process to the *calling thread*: start labs from the main thread.
    """
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []
    with log.open("ab") as out:
        return subprocess.Popen(
            [*prefix, *argv], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )


def log_tail(log: Path, lines: int = 15) -> str:
    """The last lines of a log file, indented for an error message ("" if there is none)."""
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def listener_of(address: str, port: int) -> str:
    """Who listens on address:port (or on the wildcard), as "pid N: cmdline", if we may see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return "owner unknown"
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or not conn.pid or not conn.laddr:
            continue
        ip, bound_port = conn.laddr[0], conn.laddr[1]
        if bound_port == port and ip in (address, "0.0.0.0", "::"):
            try:
                cmdline = " ".join(psutil.Process(conn.pid).cmdline())
            except psutil.Error:
                cmdline = "?"
            return f"pid {conn.pid}: {cmdline}"
    return "owner unknown"


def ensure_free(address: str, port: int) -> None:
    """Raise LabError, naming the owner, unless ``address:port`` can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # sshd binds with SO_REUSEADDR too, so a TIME_WAIT left by the last run is not "busy".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as exc:
            owner = listener_of(address, port)
            # A lab's sshd names its config, and so the lab directory `down` needs.
            lab_dir = re.search(r" -f (\S+)/hosts/[^/\s]+/sshd_config", owner)
            raise LabError(
                f"{address}:{port} is not free ({exc.strerror}; {owner}). A lab left over "
                "from an earlier run? Stop it with 'python -m tests.lab down --dir "
                f"{lab_dir.group(1) if lab_dir else 'DIR'}', or give the test suite another "
                "subnet with RUNBOOK_LAB_SUBNET=127.0.70."
            ) from exc


def ensure_refused(address: str, port: int) -> None:
    """Raise LabError unless a TCP connection to ``address:port`` is refused at once."""
    try:
        with socket.create_connection((address, port), timeout=1.0):
            pass
    except ConnectionRefusedError:
        return
    except OSError as exc:
        raise LabError(f"{address}:{port} should refuse connections, but: {exc}") from exc
    raise LabError(f"{address}:{port} should refuse connections, but something listens there "
                   f"({listener_of(address, port)})")


def _exited(proc: subprocess.Popen[bytes], wait: float) -> bool:
    """Wait up to ``wait`` seconds for ``proc`` to exit; the pause of every poll loop here."""
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return False
    return True


def wait_for_banner(name: str, address: str, port: int, proc: subprocess.Popen[bytes], *,
                    log: Path, deadline: float) -> None:
    """Return once sshd at ``address:port`` sends its ``SSH-2.0-`` banner.

    Raises LabError with the tail of the sshd log if the process exits or the deadline passes.
    """
    last_error = "no answer yet"
    while True:
        if _exited(proc, 0):
            raise LabError(f"sshd for {name} ({address}:{port}) exited with status "
                           f"{proc.returncode} before answering; {log}:\n{log_tail(log)}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LabError(f"sshd for {name} ({address}:{port}) sent no SSH banner in time "
                           f"({last_error}); {log}:\n{log_tail(log)}")
        try:
            with socket.create_connection((address, port), timeout=min(remaining, 2.0)) as sock:
                banner = sock.makefile("rb").readline(256)
            if banner.startswith(b"SSH-"):
                return
            last_error = f"unexpected greeting {banner[:60]!r}"
        except ConnectionRefusedError:
            last_error = "connection refused"
        except OSError as exc:
            last_error = str(exc)
        _exited(proc, POLL_INTERVAL)


def wait_for_listener(name: str, address: str, port: int, proc: subprocess.Popen[bytes], *,
                      log: Path, deadline: float) -> None:
    """Return once ``address:port`` accepts TCP (for the tarpit, which never says anything)."""
    while True:
        if _exited(proc, 0):
            raise LabError(f"{name} ({address}:{port}) exited with status {proc.returncode}; "
                           f"{log}:\n{log_tail(log)}")
        try:
            with socket.create_connection((address, port), timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise LabError(f"{name} ({address}:{port}) does not accept connections: {exc}; "
                               f"{log}:\n{log_tail(log)}") from exc
        _exited(proc, POLL_INTERVAL)


def read_pid(path: Path) -> int | None:
    """The pid in a pid file, or None if the file is missing or garbled."""
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def owned_process(pid: int, marker: str) -> psutil.Process | None:
    """The live process ``pid`` if its command line contains ``marker``.

    The marker (a config or script path) keeps a stale pid file from killing a stranger that
    happens to have reused the pid.
    """
    try:
        proc = psutil.Process(pid)
        if marker in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    except psutil.Error:
        return None
    return None


def _gone(proc: psutil.Process) -> bool:
    """True once ``proc`` has exited and is reaped, or will be reaped by us or by nobody.

    A zombie whose parent lives (an sshd monitor, say) is waited for: if that parent were
    stopped before it reaps, the zombie would pass to this machine's PID 1, which never
    reaps. Our own children are reaped by ``Popen.wait`` afterwards.
    """
    try:
        if proc.status() != psutil.STATUS_ZOMBIE:
            return False
        parent = proc.parent()
        return (parent is None or parent.pid in (1, os.getpid())
                or parent.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def _signal_all(procs: Iterable[psutil.Process], signum: int) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signum)


def _wait_gone(procs: list[psutil.Process], grace: float) -> list[psutil.Process]:
    """Poll until every process is gone or ``grace`` seconds pass; return the survivors."""
    deadline = time.monotonic() + grace
    alive = [p for p in procs if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
        alive = [p for p in alive if not _gone(p)]
    return alive


def terminate(procs: list[psutil.Process], grace: float) -> None:
    """SIGTERM, then SIGKILL whatever is still there after ``grace`` seconds."""
    _signal_all(procs, signal.SIGTERM)
    survivors = _wait_gone(procs, grace)
    if survivors:
        _signal_all(survivors, signal.SIGKILL)
        _wait_gone(survivors, grace)


def _descendants_by_depth(roots: Sequence[psutil.Process]) -> list[list[psutil.Process]]:
    """All descendants of ``roots``, grouped by depth (children, grandchildren, ...)."""
    levels: list[list[psutil.Process]] = []
    current = list(roots)
    while current:
        below: list[psutil.Process] = []
        for proc in current:
            with contextlib.suppress(psutil.NoSuchProcess):
                below.extend(proc.children())
        if below:
            levels.append(below)
        current = below
    return levels


def stop_processes(listeners: Sequence[psutil.Process], grace: float = 3.0) -> None:
    """Stop each listener and everything it forked, deepest processes first.

    sshd puts every connection in a session of its own (setsid), so signalling the
    listener's process group does not reach them. Killing leaves first lets each parent
    reap its children: this container's PID 1 reaps no orphans, so stopping the listener
    first would leave a zombie per open connection.
    """
    # A connection accepted while we work would be missed by one snapshot; look again.
    for _ in range(3):
        levels = _descendants_by_depth(listeners)
        if not levels:
            break
        for level in reversed(levels):
            terminate(level, grace)
    for proc in listeners:
        # start_new_session made the listener a group leader: the group is its own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    survivors = _wait_gone(list(listeners), grace)
    if survivors:
        _signal_all(survivors, signal.SIGKILL)
        _wait_gone(survivors, grace)
