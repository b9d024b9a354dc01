"""Throw-away accounts on this machine for testing the SSH connection's sudo path against real sudo.

The lab connects as root, where runbook never calls sudo. ``SudoUsers`` creates two system
accounts that log in to the lab's sshd with the lab's client key:

- ``rb-lab-sudopw-<tag>``: ``ALL=(ALL) ALL``, with a known random password;
- ``rb-lab-nopw-<tag>``: ``ALL=(ALL) NOPASSWD: ALL`` (its password is random and never used;
  it is set because with ``UsePAM no`` sshd refuses a locked account, and useradd locks it).

The tag comes from the lab's subnet, so test runs on other subnets of the same machine use
other accounts and another sudoers drop-in. Accounts left behind by a run that was killed are
recognised by their comment and replaced; an account of the same name that is not ours is an
error, never deleted.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.lab.processes import LabError
from tests.lab.sshd import LAB_ACCOUNT_PREFIX

SUDO_TOOLS = ("sudo", "visudo", "useradd", "userdel", "chpasswd")
SUDOERS_DIR = Path("/etc/sudoers.d")
# The mark of our accounts (the passwd comment field): only these are ever deleted.
COMMENT = "runbook test lab sudo account, removed after the test session"
LOGIN_SHELL = "/bin/sh"
# How long an account's last processes (sessions of closed connections) may take to exit.
PROCESS_GRACE = 5.0


@dataclass(frozen=True)
class SudoAccount:
    """One throw-away account; ``password`` is None for the NOPASSWD account."""

    name: str
    uid: int
    password: str | None


@dataclass(frozen=True)
class SudoAccounts:
    with_password: SudoAccount      # sudo asks for its password
    without_password: SudoAccount   # NOPASSWD
    sudoers_file: Path


def sudo_unavailable_reason() -> str | None:
    """Why the sudo accounts cannot be created here, or None if they can."""
    if os.geteuid() != 0:
        return "the sudo tests create system accounts and a sudoers drop-in: they need root"
    missing = [tool for tool in SUDO_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"the sudo tests need {', '.join(missing)} (tests/install-deps.sh installs sudo)"
    if not SUDOERS_DIR.is_dir():
        return f"the sudo tests need {SUDOERS_DIR} (sudoers' @includedir)"
    return None


def subnet_tag(subnet: str) -> str:
    """"127.0.130" -> "0-130": what makes one test run's names differ from another's."""
    return subnet.split(".", 1)[1].replace(".", "-")


def render_sudoers(with_password: str, without_password: str) -> str:
    """The drop-in. Per account: no tty needed, no cached credentials (every command really
    asks), no lecture on first use (tests must not depend on their order), no mail to root
    about the wrong passwords the tests type on purpose."""
    defaults = "!requiretty, timestamp_timeout=0, lecture=never, !mail_badpass"
    return (f"# Written by runbook's test suite (tests/lab/sudo_users.py); removed after the session.\n"
            f"Defaults:{with_password} {defaults}\n"
            f"Defaults:{without_password} {defaults}\n"
            f"{with_password} ALL=(ALL) ALL\n"
            f"{without_password} ALL=(ALL) NOPASSWD: ALL\n")


class SudoUsers:
    """Create the two accounts and the drop-in (``create``), and remove them again (``remove``)."""

    def __init__(self, tag: str, client_public_key: str) -> None:
        self.with_password = f"{LAB_ACCOUNT_PREFIX}sudopw-{tag}"
        self.without_password = f"{LAB_ACCOUNT_PREFIX}nopw-{tag}"
        self.sudoers_file = SUDOERS_DIR / f"runbook-lab-{tag}"
        self.client_public_key = client_public_key.strip()

    @property
    def names(self) -> tuple[str, str]:
        return self.with_password, self.without_password

    def create(self) -> SudoAccounts:
        """Create both accounts and install the drop-in; on any failure remove what was made."""
        try:
            return self._create()
        except BaseException:
            self.remove()
            raise

    def _create(self) -> SudoAccounts:
        for name in self.names:
            self._remove_leftover(name)
        self.sudoers_file.unlink(missing_ok=True)
        password = secrets.token_urlsafe(18)
        accounts = []
        for name, secret in ((self.with_password, password),
                             (self.without_password, secrets.token_urlsafe(18))):
            _run(["useradd", "--system", "--create-home", "--user-group", "--shell", LOGIN_SHELL,
                  "--comment", COMMENT, name])
            # chpasswd reads "name:password" on stdin: the password never shows in a process list.
            _run(["chpasswd"], stdin=f"{name}:{secret}\n")
            entry = pwd.getpwnam(name)
            self._authorize_key(entry)
            accounts.append(SudoAccount(name, entry.pw_uid, secret if name == self.with_password else None))
        self._install_sudoers()
        return SudoAccounts(with_password=accounts[0], without_password=accounts[1],
                            sudoers_file=self.sudoers_file)

    def _authorize_key(self, entry: pwd.struct_passwd) -> None:
        """The lab's client key in ~/.ssh/authorized_keys (the lab's sshd_config points there
        for accounts named LAB_ACCOUNT_PREFIX*)."""
        ssh_dir = Path(entry.pw_dir) / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        keys = ssh_dir / "authorized_keys"
        keys.write_text(self.client_public_key + "\n")
        keys.chmod(0o600)
        for path in (ssh_dir, keys):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _install_sudoers(self) -> None:
        """Check the drop-in with visudo, then move it into place in one rename.

        The temporary name has a dot: sudo's @includedir skips such files, so a half-written
        drop-in is never read, and a broken one never reaches /etc/sudoers.d.
        """
        fd, tmp = tempfile.mkstemp(prefix=f".{self.sudoers_file.name}.", dir=SUDOERS_DIR)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(render_sudoers(self.with_password, self.without_password))
            os.chmod(tmp, 0o440)
            _run(["visudo", "-c", "-q", "-f", tmp])
            os.replace(tmp, self.sudoers_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _remove_leftover(self, name: str) -> None:
        """An account of this name from a killed run is removed; anyone else's is an error."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return
        if entry.pw_gecos != COMMENT:
            raise LabError(f"account {name!r} exists and was not made by the test lab "
                           f"(comment {entry.pw_gecos!r}): not touching it")
        _delete_account(entry)

    def remove(self) -> None:
        """Remove the drop-in and both accounts with their homes. Safe to call twice."""
        # The drop-in first: from here on nobody has sudo rights through it.
        self.sudoers_file.unlink(missing_ok=True)
        errors = []
        for name in self.names:
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            if entry.pw_gecos != COMMENT:
                continue  # not ours (see _remove_leftover)
            try:
                _delete_account(entry)
            except LabError as exc:
                errors.append(str(exc))
        if errors:
            raise LabError("\n".join(errors))

    def __enter__(self) -> SudoAccounts:
        return self.create()

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def _delete_account(entry: pwd.struct_passwd) -> None:
    """userdel -r, once the account's processes (sessions of closed SSH connections) are gone.

    userdel refuses an account that still runs processes; after PROCESS_GRACE it is forced.
    """
    deadline = time.monotonic() + PROCESS_GRACE
    while _processes_of(entry.pw_uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    argv = ["userdel", "--remove", entry.pw_name]
    if _processes_of(entry.pw_uid):
        argv.insert(1, "--force")
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    # Exit 12: the home could not be removed (e.g. already gone); the account is.
    if result.returncode not in (0, 12):
        raise LabError(f"{' '.join(argv)} failed with exit {result.returncode}: {result.stderr.strip()}")
    with contextlib.suppress(KeyError):
        pwd.getpwnam(entry.pw_name)
        raise LabError(f"account {entry.pw_name!r} still exists after {' '.join(argv)}")


def _processes_of(uid: int) -> list[int]:
    pids = []
    for proc in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["uids"] and proc.info["uids"].real == uid:
                pids.append(proc.pid)
    return pids


def _run(argv: list[str], stdin: str | None = None) -> None:
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"{argv[0]} failed with exit {result.returncode}: "
                       f"{(result.stderr or result.stdout).strip()}")
