"""What one lab host's sshd is made of: a directory of files, keys, and its sshd_config."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.lab.processes import SSHD, LabError

HOST_KEY = "ssh_host_ed25519_key"
# Throw-away accounts of the lab other than the lab user (tests.lab.sudo_users) are named so.
LAB_ACCOUNT_PREFIX = "rb-lab-"
# The host's own tree, for tests that need "/var/log" or "/run" without touching the real ones.
ROOT_DIRS = ("var/log", "run", "tmp", "etc")


@dataclass(frozen=True)
class HostFiles:
    """Where one lab host keeps its sshd files: ``base_dir/hosts/<name>/``.

    The host's ``root`` tree sits beside them, so tests that rotate or delete logs under
    ``root/var/log`` never see sshd's own log.
    """

    dir: Path

    @property
    def config(self) -> Path:
        return self.dir / "sshd_config"

    @property
    def host_key(self) -> Path:
        return self.dir / HOST_KEY

    @property
    def pid_file(self) -> Path:
        return self.dir / "sshd.pid"

    @property
    def log(self) -> Path:
        return self.dir / "sshd.log"

    @property
    def authorized_keys(self) -> Path:
        return self.dir / "authorized_keys"

    @property
    def root(self) -> Path:
        return self.dir / "root"

    def create(self, client_public_key: str) -> None:
        """Create the directory, the root tree and an authorized_keys holding the client key."""
        for sub in ROOT_DIRS:
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.authorized_keys.write_text(client_public_key.strip() + "\n")


def public_key_path(private_key: Path) -> Path:
    """ssh-keygen's name for the public half: the private key's name plus ``.pub``."""
    return private_key.with_name(private_key.name + ".pub")


def generate_keys(private_keys: Sequence[Path], comment: str = "runbook-lab") -> None:
    """Create an ed25519 key pair without passphrase at each path, replacing any old one.

    All ssh-keygen runs are started at once and then awaited, so 50 hosts cost about as
    much wall time as a handful.
    """
    runs: list[tuple[Path, subprocess.Popen[bytes]]] = []
    for key in private_keys:
        key.unlink(missing_ok=True)
        public_key_path(key).unlink(missing_ok=True)
        argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)]
        runs.append((key, subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    failures = []
    for key, run in runs:
        output, _ = run.communicate(timeout=60)
        if run.returncode != 0:
            failures.append(f"{key}: exit {run.returncode}: {output.decode(errors='replace')}")
    if failures:
        raise LabError("ssh-keygen failed:\n" + "\n".join(failures))


def read_public_key(private_key: Path) -> str:
    """The public key as "<type> <base64>", without ssh-keygen's comment."""
    kind, blob, *_ = public_key_path(private_key).read_text().split()
    return f"{kind} {blob}"


def known_hosts_line(address: str, port: int, public_key: str) -> str:
    """One OpenSSH known_hosts entry; a non-default port must be written as [addr]:port."""
    where = address if port == 22 else f"[{address}]:{port}"
    return f"{where} {public_key}"


def render_config(files: HostFiles, address: str | Sequence[str], port: int, *, host_key: Path,
                  fast_shell: bool, options: Sequence[str] = ()) -> str:
    """The sshd_config for one lab host, or for several that share one sshd (``address`` a
    list: one ListenAddress each, at most 16 as sshd allows).

    Every path is absolute: sshd re-executes itself for each connection and checks paths
    again there.
    """
    addresses = [address] if isinstance(address, str) else list(address)
    lines = [
        *(f"ListenAddress {a}:{port}" for a in addresses),
        f"HostKey {host_key}",
        f"PidFile {files.pid_file}",
        f"AuthorizedKeysFile {files.authorized_keys}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        # No PAM: it would need a PAM service file and, when not root, cannot work at all.
        "UsePAM no",
        # The lab's files live in a temp dir whose modes sshd's strict checks would reject.
        "StrictModes no",
        # Tests open many connections at once (a 50-host run, parallel actions); sshd's
        # default 10:30:100 would drop some of them at random.
        "MaxStartups 200",
        "MaxSessions 50",
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
        "PrintMotd no",
        "PrintLastLog no",
    ]
    if fast_shell:
        # bash reads ~/.bashrc when started by sshd at shell level < 2; root's .bashrc here
        # runs `pyenv init` (~120 ms) for every command. From SHLVL=1 bash counts up to 2 and
        # skips it, which is also what a lean production account looks like.
        lines.append("SetEnv SHLVL=1")
    lines += list(options)  # a test's own settings (MaxAuthTries 2, ...), before the Match block
    # sshd opens AuthorizedKeysFile as the user logging in, and the lab's file sits in the
    # lab user's private (0700) pytest directory: the lab's other accounts keep the lab's
    # client key in their own home. A Match block must come last.
    lines += [f"Match User {LAB_ACCOUNT_PREFIX}*",
              "    AuthorizedKeysFile .ssh/authorized_keys"]
    return "\n".join(lines) + "\n"


def sshd_argv(files: HostFiles) -> list[str]:
    """The command line of a lab sshd: in the foreground, logging to its own file."""
    return [SSHD, "-D", "-E", str(files.log), "-f", str(files.config)]


def client_argv(client_key: Path, known_hosts: Path, user: str, address: str, port: int) -> list[str]:
    """The OpenSSH client command line for one lab host, strict about its host key; append
    the remote command."""
    return [
        "ssh", "-i", str(client_key),
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes",
        "-F", "none", "-o", "IdentitiesOnly=yes",
        "-p", str(port), f"{user}@{address}",
    ]
