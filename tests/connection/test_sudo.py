"""The SSH connection's sudo path against real sudo: the lab's sshd, logging in as throw-away
accounts (``sudo_accounts``) for which sudo asks a password, or not (NOPASSWD)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runbook.connection.ssh import SSHConnection
from runbook.errors import CommandTimeout
from tests.lab import Lab
from tests.lab.sudo_users import SudoAccount, SudoAccounts
from tests.support.cli import (
    command_step,
    events_of,
    host_end,
    isolate,
    journal,
    lab_inventory,
    run_dirs,
    run_main,
    write_playbook,
)
from tests.support.processes import sleeps_with, unique_marker, wait_until


CONNECT_TIMEOUT = 2.0


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def ssh_as(lab: Lab, account: SudoAccount, sudo_password: str | None, host: str = "web1") -> SSHConnection:
    """A connection to a lab host as ``account``, with the sudo password runbook was given."""
    where = lab.hosts[host]
    return SSHConnection(host, where.address, where.port, account.name,
                         identity_files=(str(lab.client_key),), known_hosts=str(lab.known_hosts),
                         connect_timeout=CONNECT_TIMEOUT, sudo_password=sudo_password)


def root_only_marker(tmp_path: Path) -> Path:
    """A path only root can create: tmp_path lies in root's private (0700) pytest directory,
    and the lab hosts are this machine."""
    return tmp_path / f"ran-as-root-{unique_marker()}"


# -- with the right password ------------------------------------------------------------------

def test_with_the_right_password_sudo_runs_the_command_as_root(lab: Lab, sudo_accounts: SudoAccounts) -> None:
    account = sudo_accounts.with_password
    conn = ssh_as(lab, account, account.password)
    try:
        plain = conn.run("id -u")
        as_root = conn.run("id -u; id -un", sudo=True)
    finally:
        conn.close()

    assert (plain.exit_code, plain.stdout, plain.stderr) == (0, f"{account.uid}\n", "")
    # Nothing of the exchange with sudo (its prompt, the password) shows in the result.
    assert (as_root.exit_code, as_root.stdout, as_root.stderr) == (0, "0\nroot\n", "")


@pytest.mark.parametrize("who", ["password-user", "nopasswd-user-given-a-password"])
def test_stdin_reaches_the_command_under_sudo_exactly(lab: Lab, sudo_accounts: SudoAccounts, who: str) -> None:
    """1 MiB in, its SHA-256 out: the password line is not part of the command's input, also
    when sudo does not ask for it (NOPASSWD) and would leave it on stdin."""
    account = sudo_accounts.with_password if who == "password-user" else sudo_accounts.without_password
    password = sudo_accounts.with_password.password
    data = os.urandom(1 << 20)
    conn = ssh_as(lab, account, password)
    try:
        result = conn.run("id -u; sha256sum", sudo=True, stdin=data)
        text = conn.run("cat", sudo=True, stdin=b"first line\nsecond line\n")
    finally:
        conn.close()

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"0\n{hashlib.sha256(data).hexdigest()}  -\n"
    assert (text.stdout, text.stderr) == ("first line\nsecond line\n", "")


# -- refused ------------------------------------------------------------------------------------

def test_a_wrong_password_is_refused_fast_and_nothing_runs(lab: Lab, sudo_accounts: SudoAccounts,
                                                            tmp_path: Path) -> None:
    """Also with input for the command: sudo must not take those lines for more attempts."""
    account = sudo_accounts.with_password
    marker = root_only_marker(tmp_path)
    conn = ssh_as(lab, account, "not-" + (account.password or ""))
    try:
        refused = conn.run(f"touch {marker}; id -u", sudo=True, stdin=b"line one\nline two\nline three\n",
                           timeout=30)  # a hang would be a CommandTimeout
        after = conn.run("id -u")
    finally:
        conn.close()

    assert refused.exit_code != 0 and refused.stdout == ""
    # one attempt, not three: the input lines were not taken for more passwords
    assert "1 incorrect password attempt" in refused.stderr, refused.stderr
    assert "line" not in refused.stderr
    assert not marker.exists(), "the command ran as root with a wrong password"
    assert after.stdout == f"{account.uid}\n"  # the connection is still usable


def test_the_password_user_without_a_password_is_refused_at_once(lab: Lab, sudo_accounts: SudoAccounts,
                                                                  tmp_path: Path) -> None:
    marker = root_only_marker(tmp_path)
    conn = ssh_as(lab, sudo_accounts.with_password, None)
    try:
        refused = conn.run(f"touch {marker}; id -u", sudo=True, timeout=30)  # a hang would time out
    finally:
        conn.close()

    assert refused.exit_code != 0 and refused.stdout == ""
    assert "a password is required" in refused.stderr, refused.stderr
    assert not marker.exists()


def test_the_nopasswd_user_needs_no_password(lab: Lab, sudo_accounts: SudoAccounts, tmp_path: Path) -> None:
    marker = root_only_marker(tmp_path)
    conn = ssh_as(lab, sudo_accounts.without_password, None)
    try:
        result = conn.run(f"touch {marker}; id -u", sudo=True)
    finally:
        conn.close()

    assert (result.exit_code, result.stdout, result.stderr) == (0, "0\n", "")
    assert marker.exists()


# -- killing ----------------------------------------------------------------------------------

def test_a_timed_out_sudo_command_is_killed_as_root(lab: Lab, sudo_accounts: SudoAccounts) -> None:
    """The command runs as root, so the kill must go through sudo (with the password) too."""
    account = sudo_accounts.with_password
    marker = unique_marker()
    conn = ssh_as(lab, account, account.password)
    try:
        with pytest.raises(CommandTimeout):
            conn.run(f"sleep 300.{marker} & sleep 301.{marker}; true", sudo=True, timeout=1)
        gone = wait_until(lambda: not sleeps_with(marker), timeout=5)
        after = conn.run("id -u", sudo=True)
    finally:
        conn.close()

    assert gone, f"left running as root: {[p.info['cmdline'] for p in sleeps_with(marker)]}"
    assert after.stdout == "0\n"


# -- through the CLI ----------------------------------------------------------------------------

@pytest.mark.parametrize("opt_in", ["step", "inventory"])
def test_runbook_run_with_the_sudo_password_from_the_environment(
        lab: Lab, sudo_accounts: SudoAccounts, tmp_path: Path, hermetic: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, opt_in: str) -> None:
    """`sudo: true` on the step (the command action's param) or on the host (inventory)."""
    account = sudo_accounts.with_password
    assert account.password
    defaults = {"user": account.name, **({"sudo": True} if opt_in == "inventory" else {})}
    inventory = lab_inventory(lab, tmp_path / "inv.yml", defaults=defaults)
    step = command_step("id -u", name="Who am I")
    if opt_in == "step":
        step["params"]["sudo"] = True
    book = write_playbook(tmp_path / "pb.yml", step)
    monkeypatch.setenv("RUNBOOK_SUDO_PASSWORD", account.password)

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "web1")

    assert code == 0, out + err
    events = journal(hermetic)
    (command,) = events_of(events, "command", host="web1")
    assert (command["exit_code"], command["stdout"], command["stderr"]) == (0, "0\n", "")
    assert host_end(events, "web1")["outcome"] == "ok"
    (run_dir,) = run_dirs(hermetic)
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert files
    secret = account.password.encode()
    assert [p for p in files if secret in p.read_bytes()] == []
    assert account.password not in out and account.password not in err


# -- the local connection, as an account that needs sudo ------------------------------------------

SYSTEM_PYTHON = Path("/usr/bin/python3")
ROOT = Path(__file__).resolve().parents[2]
# The test's interpreter lives under /root (0700), so the account runs the system python on
# runbook's sources; runbook.connection's __init__ (which needs paramiko) is skipped by
# registering the package by path. local.py, base.py, shell.py and errors.py are stdlib only.
LOCAL_RUN = """
import sys, types
sys.path.insert(0, sys.argv[1])
package = types.ModuleType("runbook.connection")
package.__path__ = [sys.argv[1] + "/runbook/connection"]
sys.modules["runbook.connection"] = package
from runbook.connection.local import LocalConnection
password = sys.argv[2] or None
result = LocalConnection("self", sudo_password=password).run("id -u; cat", sudo=True, stdin=b"data\\n")
sys.stdout.write("%d|%s|%s" % (result.exit_code, result.stdout, result.stderr))
"""


def run_local_as(account: SudoAccount, password: str | None) -> tuple[int, str, str]:
    done = subprocess.run(["runuser", "-u", account.name, "--", str(SYSTEM_PYTHON), "-I", "-c", LOCAL_RUN,
                           str(ROOT), password or ""], capture_output=True, text=True, timeout=30, cwd="/",
                          check=False)
    assert done.returncode == 0, done.stderr
    code, out, err = done.stdout.split("|", 2)
    return int(code), out, err


@pytest.mark.skipif(not SYSTEM_PYTHON.exists() or not shutil.which("runuser"), reason="needs /usr/bin/python3 and runuser")
@pytest.mark.parametrize("who", ["password-user", "nopasswd-user-given-a-password"])
def test_local_sudo_sends_the_password_only_when_sudo_asks(sudo_accounts: SudoAccounts, who: str) -> None:
    """A NOPASSWD account given a password: sudo does not read it, so sending it would make it
    the first line of the command's input."""
    account = sudo_accounts.with_password if who == "password-user" else sudo_accounts.without_password
    assert run_local_as(account, sudo_accounts.with_password.password) == (0, "0\ndata\n", "")


@pytest.mark.skipif(not SYSTEM_PYTHON.exists() or not shutil.which("runuser"), reason="needs /usr/bin/python3 and runuser")
def test_local_sudo_without_a_password_is_refused_at_once(sudo_accounts: SudoAccounts) -> None:
    code, out, err = run_local_as(sudo_accounts.with_password, None)
    assert code != 0 and out == "" and "a password is required" in err
