"""The SSH connection, on Paramiko directly.

Why not Fabric's ``Connection`` here: we need the socket (TCP_NODELAY cut connect+auth from
65 ms to 20 ms per host), a failure that names its layer (dns, tcp, ssh banner/handshake,
hostkey, auth), strict host-key checking with OpenSSH's ``accept-new``, and a timeout that
kills the command's process group on the remote side. Fabric hides the first and does not do
the last. This module is the only one that imports paramiko for transport work; everything
else sees ``runbook.connection.base.Connection`` and the project's own errors.

Every command runs as ``printf 'RUNBOOK-PID %s' $$ >&2; exec /bin/sh -c CMD`` (or through
``sudo``). sshd puts each session in its own session and process group (setsid), so the
printed pid is also the process group to kill when the command times out or the run is
interrupted.

With a sudo password, ``sudo -S`` reads it from the command's stdin, but only when it asks for
one (not for NOPASSWD, not with cached credentials). So the password is sent only after
sudo's prompt appears on stderr, and the caller's stdin only after the root shell says it
runs: the password never reaches the command, and the command's input is never taken for a
second password attempt.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable

from runbook.sshlib import paramiko

from runbook.connection.base import KEEP_STDERR_HEAD_BYTES, KEEP_TAIL_BYTES, BoundedOutput, CommandResult
from runbook.connection.hostkeys import verify_host_key
from runbook.connection.shell import quote
from runbook.connection.tcp import TcpError, open_tcp
from runbook.errors import (
    CommandFailed,
    CommandTimeout,
    ConnectError,
    HostKeyError,
    Interrupted,
    LocalWriteError,
)

WINDOW_SIZE = 16 * 1024 * 1024      # large window: archive streaming is bound by it on fast links
MAX_PACKET = 32768
# AES-GCM first: an AEAD cipher authenticates each packet inside the cipher call, where
# CTR + HMAC also computes the MAC and compares it byte by byte in Python (Paramiko's
# constant-time compare): 7 % of the client CPU of a connection and its command on the lab.
# CBC and 3DES, which OpenSSH's own client no longer offers, are not offered either.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr")
READ_CHUNK = 256 * 1024
# How long to wait for the end of a command's output after its exit status (see _exec).
EOF_GRACE = 2.0
# How long sudo may take to show the prompt runbook gave it before the password is sent blindly.
SUDO_PROMPT_WAIT = 5.0
# Paramiko logs transport errors at WARNING; without a handler Python prints them raw on stderr
# ("Socket exception: Bad file descriptor"). Our own errors already say what failed.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False

PID_LINE = re.compile(r"^RUNBOOK-PID (\d+)\n", re.MULTILINE)
DEFAULT_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


class SSHConnection:
    """One SSH connection to one host, opened once, reused for every command of the run."""

    local = False

    def __init__(self, host: str, address: str, port: int, user: str | None, *,
                 identity_files: tuple[str, ...] = (), known_hosts: str = "~/.ssh/known_hosts",
                 connect_timeout: float = 10.0, accept_new_host_keys: bool = False,
                 sudo_password: str | None = None, jump: "SSHConnection | None" = None,
                 identities_only: bool = False, identity_agent: str | None = None) -> None:
        self.host = host
        self.address = address
        self.port = port
        self.user = user or _local_user()
        self.identity_files = identity_files
        self.known_hosts = os.path.expanduser(known_hosts)
        self.connect_timeout = connect_timeout
        self.accept_new = accept_new_host_keys
        self._sudo_password = sudo_password
        self._jump = jump
        #: offer only the identity files (ssh_config IdentitiesOnly), no other agent key
        self.identities_only = identities_only
        #: None: $SSH_AUTH_SOCK; "none": no agent; else the agent's socket path (IdentityAgent)
        self.identity_agent = identity_agent
        self._transport: paramiko.Transport | None = None
        self._running: dict[int, tuple[paramiko.Channel, int | None, bool]] = {}
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        # The socket of a handshake in progress: cancel() closes it, so a host that accepts TCP
        # and never speaks SSH does not hold up Ctrl-C for the whole connect timeout.
        self._opening: socket.socket | paramiko.Channel | None = None

    # -- connecting ----------------------------------------------------------------------------

    def open(self) -> None:
        if self._transport is not None and self._transport.is_active():
            return
        try:
            self._open()
        except ConnectError:
            if self._cancelled.is_set():  # cancel() closed the socket under the handshake
                raise Interrupted(f"{self.host}: connecting interrupted") from None
            raise
        finally:
            with self._lock:
                self._opening = None

    def _open(self) -> None:
        if self._cancelled.is_set():
            raise Interrupted(f"{self.host}: run interrupted")
        deadline = time.monotonic() + self.connect_timeout
        sock = self._dial(deadline)
        with self._lock:
            self._opening = sock
        if self._cancelled.is_set():
            sock.close()
        try:
            transport = paramiko.Transport(sock, default_window_size=WINDOW_SIZE,
                                           default_max_packet_size=MAX_PACKET)
            transport.get_security_options().ciphers = CIPHERS
            transport.banner_timeout = max(_remaining(deadline), 0.1)
            transport.handshake_timeout = max(_remaining(deadline), 0.1)
            try:
                transport.start_client(timeout=max(_remaining(deadline), 0.1))
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise ConnectError(self.host, "ssh", f"{self.address}:{self.port} did not complete "
                                   f"the SSH handshake within {self.connect_timeout:g}s: {exc}") from None
            try:
                # start_client returns quietly when its timeout passes (tarpit: TCP open, no banner);
                # only a negotiated key proves the handshake finished.
                server_key = transport.get_remote_server_key()
            except paramiko.SSHException:
                raise ConnectError(self.host, "ssh", f"{self.address}:{self.port} sent no SSH banner/handshake "
                                   f"within {self.connect_timeout:g}s") from None
            verify_host_key(self.host, self.address, self.port, server_key, self.known_hosts,
                            accept_new=self.accept_new)
            self._authenticate(transport, deadline)
            transport.set_keepalive(15)
        except BaseException:
            transport.close() if "transport" in locals() else None
            sock.close()
            raise
        self._transport = transport

    def _dial(self, deadline: float) -> socket.socket | paramiko.Channel:
        if self._jump is not None:
            try:
                self._jump.open()
            except ConnectError as exc:
                # The jump host failed, not this one: say so (layer "jump"), so the target is
                # not taken for a host that is down, and its hoster is not told it is.
                raise ConnectError(self.host, "jump", f"jump host {self._jump.host} "
                                   f"({self._jump.address}:{self._jump.port}) failed: {exc.layer}: {exc.message}"
                                   ) from None
            try:
                return self._jump._transport.open_channel(  # type: ignore[union-attr]
                    "direct-tcpip", (self.address, self.port), ("127.0.0.1", 0),
                    timeout=max(_remaining(deadline), 0.1))
            except (paramiko.SSHException, OSError) as exc:
                raise ConnectError(self.host, "tcp", f"jump host {self._jump.host} cannot reach "
                                   f"{self.address}:{self.port}: {exc or type(exc).__name__}") from None
        try:
            return open_tcp(self.address, self.port, max(_remaining(deadline), 0.1))
        except TcpError as exc:
            raise ConnectError(self.host, exc.layer, exc.reason) from None

    def _agent(self) -> paramiko.agent.AgentSSH | None:
        """The ssh-agent, if one runs (IdentityAgent may name another socket, or none): its own
        connection per host (an agent connection is not safe to share between threads), closed
        again after authentication."""
        if self.identity_agent == "none":
            return None
        if self.identity_agent is not None:
            return _agent_at(self.identity_agent)
        if not os.environ.get("SSH_AUTH_SOCK"):
            return None
        try:
            agent = paramiko.Agent()
        except paramiko.SSHException:
            return None  # no agent is a normal situation
        return agent

    def _keys(self, agent: paramiko.agent.AgentSSH | None) -> list[paramiko.PKey]:
        """The keys to offer, in OpenSSH's order: the identity files first, then the agent's
        other keys (none with IdentitiesOnly). Every offer counts against the server's
        MaxAuthTries: an agent with many keys must not use them up before the right one."""
        agent_keys: list[paramiko.PKey] = list(agent.get_keys()) if agent is not None else []
        paths = self.identity_files or tuple(p for p in DEFAULT_KEYS if os.path.exists(os.path.expanduser(p)))
        passphrase = os.environ.get("RUNBOOK_KEY_PASSPHRASE")
        keys: list[paramiko.PKey] = []
        for path in paths:
            path = os.path.expanduser(path)
            try:
                keys.append(_load_key(path, passphrase))
            except FileNotFoundError:
                raise ConnectError(self.host, "auth", f"identity file {path} does not exist") from None
            except paramiko.PasswordRequiredException:
                held = _agent_copy(path, agent_keys)  # an encrypted key the agent holds unlocked
                if held is None:
                    raise ConnectError(self.host, "auth", f"identity file {path} is encrypted: load it into "
                                       "ssh-agent or set RUNBOOK_KEY_PASSPHRASE") from None
                keys.append(held)
            except (paramiko.SSHException, ValueError, OSError) as exc:
                raise ConnectError(self.host, "auth", f"cannot load identity file {path}: {exc}") from None
        offered = {k.asbytes() for k in keys}
        if not self.identities_only:
            keys += [k for k in agent_keys if k.asbytes() not in offered]
        return keys

    def _authenticate(self, transport: paramiko.Transport, deadline: float) -> None:
        agent = self._agent()
        try:
            self._offer_keys(transport, deadline, self._keys(agent))
        finally:
            if agent is not None:
                agent._close()  # its socket is one more fd per host for the whole run otherwise

    def _offer_keys(self, transport: paramiko.Transport, deadline: float, keys: list[paramiko.PKey]) -> None:
        if not keys:
            raise ConnectError(self.host, "auth", "no key to offer: no identity_file, no ssh-agent, no ~/.ssh/id_*")
        transport.auth_timeout = max(_remaining(deadline), 1.0)
        for key in keys:
            try:
                transport.auth_publickey(self.user, key)
            except paramiko.AuthenticationException:
                continue
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise ConnectError(self.host, "auth", f"authentication as {self.user} failed: {exc}") from None
            if transport.is_authenticated():
                return
        raise ConnectError(self.host, "auth", f"authentication as {self.user!r} refused for "
                           f"{len(keys)} key(s) offered")

    # -- commands ------------------------------------------------------------------------------

    def _wrap(self, command: str, sudo: bool) -> tuple[str, _SudoPassword | None]:
        head = "printf 'RUNBOOK-PID %s\\n' \"$$\" >&2; exec "
        if sudo and self.user != "root":
            if self._sudo_password is None:
                return f"{head}sudo -n -- /bin/sh -c {quote(command)}", None
            ask = _SudoPassword(self._sudo_password)
            as_root = f"printf '%s\\n' {quote(ask.ready.decode())} >&2; exec /bin/sh -c {quote(command)}"
            return f"{head}sudo -S -p {quote(ask.prompt.decode())} -- /bin/sh -c {quote(as_root)}", ask
        return f"{head}/bin/sh -c {quote(command)}", None

    def _exec(self, command: str, sudo: bool, timeout: float | None, stdin: bytes | None,
              on_stdout: Callable[[bytes], None]) -> tuple[int, str, float]:
        if self._cancelled.is_set():
            raise Interrupted(f"{self.host}: run interrupted")
        self.open()
        line, ask = self._wrap(command, sudo)
        started = time.monotonic()
        try:
            chan = self._transport.open_session(timeout=self.connect_timeout)  # type: ignore[union-attr]
            chan.exec_command(line)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise ConnectError(self.host, "ssh", f"cannot start a command: {exc}") from None
        with self._lock:
            self._running[chan.chanid] = (chan, None, sudo)
        arrived = _output_arrived(chan)
        err = BoundedOutput(head=KEEP_STDERR_HEAD_BYTES, tail=KEEP_TAIL_BYTES)  # a flood costs no memory
        try:
            if ask is None:
                self._send_input(chan, stdin)
            deadline = None if timeout is None else started + timeout
            exited_at: float | None = None
            while True:
                progressed = False
                while chan.recv_ready():
                    data = chan.recv(READ_CHUNK)
                    try:
                        on_stdout(data)
                    except OSError as exc:  # our side (a full local disk), not the host's
                        self._kill(chan.chanid)
                        raise LocalWriteError("the local copy of the output", exc.strerror or str(exc)) from None
                    progressed = True
                while chan.recv_stderr_ready():
                    err.write(chan.recv_stderr(READ_CHUNK))
                    self._note_pid(chan, err.head)
                    progressed = True
                if ask is not None and not ask.done:
                    reply = ask.reply(err.head, stdin, time.monotonic())
                    if reply is not None:
                        self._send_input(chan, reply[0], close=reply[1])
                if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                    # sshd may send the exit status before the output still in the command's pipe
                    # (OpenSSH session.c: "there could be some more data waiting in the pipe"), so
                    # the output ends at EOF. A background process holding stdout open never sends
                    # EOF: wait for it only briefly, as before.
                    if exited_at is None:
                        exited_at = time.monotonic()
                    if chan.eof_received or chan.closed or time.monotonic() - exited_at >= EOF_GRACE:
                        break
                if self._cancelled.is_set():
                    self._kill(chan.chanid)
                    raise Interrupted(f"{self.host}: command interrupted: {command[:200]}", while_running=True)
                if deadline is not None and time.monotonic() >= deadline:
                    self._kill(chan.chanid)
                    raise CommandTimeout(self.host, command, timeout or 0)
                if not progressed and not chan.recv_ready() and not chan.recv_stderr_ready():
                    wait = 0.2 if deadline is None else min(0.2, max(deadline - time.monotonic(), 0.001))
                    # After EOF the output event stays set; then only the exit status is awaited.
                    (chan.status_event if chan.eof_received else arrived).wait(wait)
            code = chan.recv_exit_status()
            if code == -1 and self._connection_gone():
                # No exit status and the connection closed: sshd died under the command. The
                # host is lost (and skipped from now on), not the command failed with "-1".
                raise ConnectError(self.host, "ssh", "connection lost during command (no exit status)")
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise ConnectError(self.host, "ssh", f"connection lost during command: {exc}") from None
        finally:
            with self._lock:
                self._running.pop(chan.chanid, None)
            chan.close()
        said = err.text()
        if ask is not None:
            said = ask.strip(said)
        return code, PID_LINE.sub("", said, count=1), time.monotonic() - started

    def _connection_gone(self, wait: float = 2.0) -> bool:
        """The transport died (within ``wait`` s: the channel's close can come first). A
        command killed by a signal also ends without an exit status, on a live connection."""
        until = time.monotonic() + wait
        while self._transport is not None and self._transport.is_active():
            if time.monotonic() >= until:
                return False
            time.sleep(0.05)
        return True

    def _send_input(self, chan: paramiko.Channel, data: bytes | None, *, close: bool = True) -> None:
        try:
            if data:
                chan.sendall(data)
            if close:
                chan.shutdown_write()
        except OSError:
            # The command ended without reading all of its input (the analyzer's wrapper
            # exits 127 at once when there is no python3): its output and exit status
            # still stand. Only a dead transport means the connection is lost.
            if not self._transport.is_active():  # type: ignore[union-attr]
                raise

    def _note_pid(self, chan: paramiko.Channel, err: bytes | bytearray) -> None:
        with self._lock:
            entry = self._running.get(chan.chanid)
            if entry is None or entry[1] is not None:
                return
            match = PID_LINE.search(err.decode("utf-8", "replace"))
            if match:
                self._running[chan.chanid] = (entry[0], int(match.group(1)), entry[2])

    def _kill(self, chanid: int) -> None:
        """TERM, then KILL, the remote process group of a running command; then drop its channel."""
        with self._lock:
            chan, pgid, sudo = self._running.get(chanid, (None, None, False))
        if pgid is not None and self._transport is not None and self._transport.is_active():
            # "kill -SIG -PGID", not "kill -SIG -- -PGID": dash's builtin kill rejects the "--" form.
            killer = (f"kill -TERM -{pgid} 2>/dev/null; i=0; while kill -0 -{pgid} 2>/dev/null "
                      f"&& [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL -{pgid} 2>/dev/null; true")
            try:
                kchan = self._transport.open_session(timeout=self.connect_timeout)
                line, ask = self._wrap(killer, sudo)
                kchan.exec_command(line)
                if ask is not None:
                    # The killer reads no input: the password can go ahead of sudo's prompt.
                    kchan.sendall(ask.password)
                kchan.shutdown_write()
                kchan.settimeout(self.connect_timeout + 5)
                kchan.recv_exit_status()
                kchan.close()
            except (paramiko.SSHException, EOFError, OSError, socket.timeout):
                pass  # the connection is going away; the closed channel's SIGHUP is all we have left
        if chan is not None:
            chan.close()

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None,
            check: bool = False, stdin: bytes | None = None) -> CommandResult:
        out = BoundedOutput()
        code, err, duration = self._exec(command, sudo, timeout, stdin, out.write)
        result = CommandResult(self.host, command, code, out.text(), err, duration, stdout_total=out.total)
        if check and not result.ok:
            raise CommandFailed(self.host, command, code, result.stdout + result.stderr, result.stderr)
        return result

    def stream(self, command: str, sink: BinaryIO, *, sudo: bool = False,
               timeout: float | None = None, stdin: bytes | None = None) -> CommandResult:
        code, err, duration = self._exec(command, sudo, timeout, stdin, sink.write)
        return CommandResult(self.host, command, code, "", err, duration)

    def open_shell(self, term: str, columns: int, lines: int) -> paramiko.Channel:
        """An interactive login shell on a pseudo-terminal (``runbook shell``): the channel,
        for ``runbook.connection.interactive`` to connect to this terminal."""
        self.open()
        try:
            chan = self._transport.open_session(timeout=self.connect_timeout)  # type: ignore[union-attr]
            chan.get_pty(term=term, width=columns, height=lines)
            chan.invoke_shell()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise ConnectError(self.host, "ssh", f"cannot start a shell: {exc}") from None
        return chan

    def cancel(self) -> None:
        """Stop every running command and a connect in progress (SIGINT/SIGTERM of the run);
        start no new ones."""
        self._cancelled.set()
        with self._lock:
            opening = self._opening
        if opening is not None:
            opening.close()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._jump is not None:
            self._jump.close()


class _SudoPassword:
    """One ``sudo -S`` command's exchange: a prompt to answer once, and a line from the root
    shell that says sudo let the command run. Both carry a random token, so no output of the
    command can be mistaken for them."""

    def __init__(self, password: str) -> None:
        token = secrets.token_hex(8)
        self.password = (password + "\n").encode()
        self.prompt = f"[runbook sudo {token}] ".encode()
        self.ready = f"RUNBOOK-SUDO-OK {token}".encode()
        self.ready_line = self.ready + b"\n"
        self.give_up_at = time.monotonic() + SUDO_PROMPT_WAIT
        self.answered = False
        self.done = False

    def reply(self, err: bytes | bytearray, stdin: bytes | None, now: float) -> tuple[bytes, bool] | None:
        """What to send now, given stderr so far: (data, whether the command's stdin then ends)."""
        if self.ready_line in err:
            return self._last(stdin or b"")
        prompts = err.count(self.prompt)
        if prompts > 1:
            # The password was wrong. End stdin so sudo stops at once, instead of taking the
            # caller's input for two more attempts (and two more PAM delays).
            return self._last(b"")
        if prompts == 1 and not self.answered:
            self.answered = True
            return self.password, False
        if not self.answered and now >= self.give_up_at and _said_something(err):
            # Not our prompt: sudo shows a PAM module's own prompt instead of -p's when it is
            # not a plain "Password:". Answer it blindly rather than wait for ever. While
            # sudo has said nothing at all it may just be slow (a loaded host): sending the
            # password then could hand it to a command that sudo let run without one.
            return self._last(self.password + (stdin or b""))
        return None

    def _last(self, data: bytes) -> tuple[bytes, bool]:
        self.done = True
        return data, True

    def strip(self, err: str) -> str:
        """stderr without the prompts and the ready line: what sudo and the command said."""
        return err.replace(self.ready_line.decode(), "", 1).replace(self.prompt.decode(), "")


def _output_arrived(chan: paramiko.Channel) -> threading.Event:
    """An event Paramiko sets when stdout or stderr data (or EOF) arrives on ``chan``.

    Not ``select()`` on the channel: ``Channel.fileno()`` makes an OS pipe pair per channel,
    and ``select`` fails outright on an fd above 1023 ("filedescriptor out of range"), which a
    sweep of 1,000 hosts reaches. The event costs no fd. Reading a buffer empty clears it, so
    the caller checks both buffers once more after its reads and before it waits.
    """
    arrived = threading.Event()
    chan.in_buffer.set_event(arrived)
    chan.in_stderr_buffer.set_event(arrived)
    if chan.recv_ready() or chan.recv_stderr_ready() or chan.eof_received:
        arrived.set()  # the second set_event cleared what the first found
    return arrived


def _said_something(err: bytes | bytearray) -> bool:
    """Whether stderr holds more than the RUNBOOK-PID line."""
    return bool(PID_LINE.sub("", err.decode("utf-8", "replace"), count=1).strip())


_key_cache: dict[tuple[str, str | None], paramiko.PKey] = {}
_key_lock = threading.Lock()


def _load_key(path: str, passphrase: str | None) -> paramiko.PKey:
    """A private key, parsed once per run however many hosts use it."""
    with _key_lock:
        key = _key_cache.get((path, passphrase))
        if key is None:
            key = _key_cache[(path, passphrase)] = paramiko.PKey.from_path(path, passphrase)
        return key


def _agent_at(path: str) -> paramiko.agent.AgentSSH | None:
    """An ssh-agent at another socket than $SSH_AUTH_SOCK (ssh_config IdentityAgent)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None  # as OpenSSH: an agent that is not there offers no keys
    agent = paramiko.agent.AgentSSH()
    try:
        agent._connect(sock)  # Paramiko's Agent does the same with the socket of $SSH_AUTH_SOCK
    except paramiko.SSHException:
        sock.close()
        return None
    return agent


def _agent_copy(path: str, agent_keys: list[paramiko.PKey]) -> paramiko.PKey | None:
    """The agent's key whose public half is ``path``.pub (IdentitiesOnly with an encrypted key)."""
    try:
        _, blob, *_ = Path(path + ".pub").read_text().split()
    except (OSError, ValueError):
        return None
    wanted = base64.b64decode(blob)
    return next((k for k in agent_keys if k.asbytes() == wanted), None)


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _local_user() -> str:
    from runbook.journal import current_user
    return current_user()


__all__ = ["SSHConnection", "HostKeyError"]
