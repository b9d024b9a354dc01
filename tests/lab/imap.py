"""A real Dovecot IMAP server on a loopback address, for the mail intake's tests.

Its own config directory (nothing of /etc/dovecot is read), one test user with a password,
a throw-away certificate, IMAPS on one port and IMAP with STARTTLS (no login before it) on
another. Started and stopped by pid like the SSH lab; ``python -m tests.lab.tickets_up``
starts one for a human. Mails are put in with IMAP APPEND, as any mail client would.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import ssl
import tempfile
import time
from pathlib import Path

import psutil

from tests.lab.certs import ServerCert, make_server_cert
from tests.lab.processes import LabError, ensure_free, log_tail, owned_process, spawn, stop_processes

DOVECOT = "/usr/sbin/dovecot"
IMAP_OCTET = 60
IMAPS_PORT = 10993
STARTTLS_PORT = 10143
USER = "oncall"
# Non-ASCII on purpose: the login must carry UTF-8 (AUTHENTICATE PLAIN), not imaplib's ASCII LOGIN.
PASSWORD = "Pässwort-für-IMAP-7"
START_TIMEOUT = 15.0

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = {address}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{dir}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {address}
    port = {starttls_port}
  }}
  inet_listener imaps {{
    address = {address}
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


def imap_unavailable_reason() -> str | None:
    """Why Dovecot cannot run here (not installed), or None."""
    if shutil.which(DOVECOT) is None:
        return "the mail tests need Dovecot (Debian: dovecot-imapd), which is not installed"
    return None


def _accounts() -> tuple[str, str, str, str, int, int]:
    """(internal user, its group, login user, mail user name, mail uid, mail gid).

    As root, Dovecot's own accounts run its helpers and the mail processes run as nobody (a
    mail process as root is refused); as anyone else, everything runs as that user.
    """
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return "dovecot", "dovecot", "dovenull", "nobody", nobody.pw_uid, nobody.pw_gid
    me = pwd.getpwuid(os.geteuid())
    group = me.pw_name
    return me.pw_name, group, me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


class MailServer:
    """Dovecot on ``<subnet>.60``: IMAPS on 10993, STARTTLS on 10143, user ``oncall``."""

    def __init__(self, subnet: str) -> None:
        self.address = f"{subnet}.{IMAP_OCTET}"
        self.imaps_port = IMAPS_PORT
        self.starttls_port = STARTTLS_PORT
        self.user = USER
        self.password = PASSWORD
        # Dovecot's helpers run as other users, which cannot enter pytest's private (0700)
        # temp directories: the server's files live in a directory of their own.
        self.dir = Path(tempfile.mkdtemp(prefix="runbook-lab-imap-"))
        self.cert: ServerCert | None = None
        self._proc = None

    @property
    def config(self) -> Path:
        return self.dir / "dovecot.conf"

    @property
    def log(self) -> Path:
        return self.dir / "dovecot.log"

    def start(self) -> MailServer:
        """Write the config, start dovecot, return once both ports accept connections."""
        for port in (self.imaps_port, self.starttls_port):
            ensure_free(self.address, port)
        self.dir.chmod(0o755)
        self.cert = make_server_cert(self.dir / "tls", self.address, name="runbook imap lab")
        internal, group, login, _, uid, gid = _accounts()
        for sub in ("run", "state", "mail", "home"):
            (self.dir / sub).mkdir(exist_ok=True)
        for sub in ("mail", "home"):
            os.chown(self.dir / sub, uid, gid)
        (self.dir / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n", encoding="utf-8")
        (self.dir / "passwd").chmod(0o644)
        self.config.write_text(CONFIG.format(
            dir=self.dir, address=self.address, cert=self.cert.cert, key=self.cert.key, internal=internal,
            internal_group=group, login=login, uid=uid, gid=gid, imaps_port=self.imaps_port,
            starttls_port=self.starttls_port), encoding="utf-8")
        self._proc = spawn([DOVECOT, "-F", "-c", str(self.config)], log=self.dir / "stdout.log")
        deadline = time.monotonic() + START_TIMEOUT
        try:
            for port in (self.imaps_port, self.starttls_port):
                self._wait(port, deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, port: int, deadline: float) -> None:
        import socket
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise LabError(f"dovecot exited with status {self._proc.returncode}; {self.log}:\n"
                               f"{log_tail(self.log)}\n{log_tail(self.dir / 'stdout.log')}")
            try:
                with socket.create_connection((self.address, port), timeout=1.0) as sock:
                    if port == self.starttls_port:
                        greeting = sock.makefile("rb").readline(512)
                        if greeting.startswith(b"* OK"):
                            return
                    else:
                        return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise LabError(f"dovecot does not answer on {self.address}:{port}: {exc}; "
                                   f"{log_tail(self.log)}") from exc
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop dovecot and everything it started (by pid), then remove its files."""
        if self._proc is not None:
            master = owned_process(self._proc.pid, str(self.config))
            if master is not None:
                stop_processes([master])
            elif psutil.pid_exists(self._proc.pid):
                self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- what a mail client does ---------------------------------------------------------------

    def client(self) -> imaplib.IMAP4_SSL:
        """A logged-in IMAPS connection as the test user (TLS checked against the lab's CA)."""
        assert self.cert is not None
        context = ssl.create_default_context(cafile=str(self.cert.ca))
        imap = imaplib.IMAP4_SSL(self.address, self.imaps_port, ssl_context=context, timeout=10)
        imap.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
        return imap

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put one mail into ``folder`` (an IMAP modified-UTF-7 name; created if missing)."""
        imap = self.client()
        try:
            if folder != "INBOX":
                imap.create(f'"{folder}"')  # "already exists" is fine
            status, data = imap.append(f'"{folder}"', None, None, raw)
            if status != "OK":
                raise LabError(f"APPEND to {folder} failed: {data}")
        finally:
            imap.logout()

    def empty(self, folder: str = "INBOX") -> None:
        """Delete every mail in ``folder``."""
        imap = self.client()
        try:
            status, _ = imap.select(f'"{folder}"')
            if status == "OK":
                imap.store("1:*", "+FLAGS", "\\Deleted")
                imap.expunge()
        except imaplib.IMAP4.error:
            pass
        finally:
            imap.logout()

    def seen_flags(self, folder: str = "INBOX") -> list[bytes]:
        """The flags of every mail in ``folder`` (to check that reading marked nothing)."""
        imap = self.client()
        try:
            imap.select(f'"{folder}"', readonly=True)
            status, data = imap.fetch("1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]
        finally:
            imap.logout()
