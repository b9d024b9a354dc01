"""ssh_config as an engineer's ~/.ssh/config is written (Include, Match host, multi-hop
ProxyJump, the jump hosts' own settings, IdentitiesOnly, IdentityAgent none), keys offered in
OpenSSH's order against a server's MaxAuthTries, and a dead jump host named as such -- all
against real sshd hosts of the lab (a jump chain works on loopback: sshd forwards TCP)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.inventory import load_inventory
from tests.lab import Lab, side_lab
from tests.lab.sshd import generate_keys
from tests.support.cli import runbook_cli, write_yaml


def accepted(lab: Lab, name: str) -> int:
    return lab.files(name).log.read_text().count("Accepted publickey")


def chain_config(lab: Lab, tmp_path: Path) -> Path:
    """~/.ssh/config with an Include of the gateways' file and a Match block for the target."""
    web1, app1, db1 = (lab.hosts[n] for n in ("web1", "app1", "db1"))
    (tmp_path / "ssh" / "config.d").mkdir(parents=True)
    (tmp_path / "ssh" / "config.d" / "gateways.conf").write_text(f"""\
Host gw1
    HostName {web1.address}
    Port {web1.port}
    User {lab.user}
    IdentityFile {lab.client_key}
Host gw2
    HostName {app1.address}
    Port {app1.port}
    User {lab.user}
    IdentityFile {lab.client_key}
    ProxyJump gw1
""")
    config = tmp_path / "ssh" / "config"
    config.write_text(f"""\
Include {tmp_path / 'ssh' / 'config.d' / '*.conf'}

Match host {db1.address}
    Port {db1.port}
    ProxyJump gw2

Host *
    IdentitiesOnly yes
""")
    return config


def inventory(lab: Lab, path: Path, hosts: dict, **defaults: object) -> Path:
    return write_yaml(path, {"customer": {"name": "Jump GmbH"},
                             "defaults": {"known_hosts": str(lab.known_hosts), "connect_timeout": 5,
                                          "user": lab.user, "identity_file": str(lab.client_key), **defaults},
                             "hosts": hosts})


def test_the_chain_and_every_hops_settings_are_resolved_from_ssh_config(lab: Lab, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(chain_config(lab, tmp_path)))
    inv = load_inventory([inventory(lab, tmp_path / "inv.yml", {"db": {"address": lab.hosts["db1"].address}})])
    db = inv.hosts["db"]
    assert db.jump == "gw2" and db.identities_only is True
    # gw2's own ProxyJump puts gw1 in front of it, each hop with its HostName, Port and User
    assert [(h.name, h.address, h.port, h.user) for h in db.jumps] == [
        ("gw1", lab.hosts["web1"].address, 2222, lab.user), ("gw2", lab.hosts["app1"].address, 2222, lab.user)]
    assert all(h.identity_files == (str(lab.client_key),) and h.identities_only for h in db.jumps)


def test_a_run_goes_through_two_jump_hosts(lab: Lab, tmp_path: Path) -> None:
    config = chain_config(lab, tmp_path)
    inv = inventory(lab, tmp_path / "inv.yml", {"db": {"address": lab.hosts["db1"].address}})
    before = {n: accepted(lab, n) for n in ("web1", "app1", "db1")}
    done = runbook_cli("exec", "-i", inv, "echo $SSH_CONNECTION", runs_dir=tmp_path / "runs",
                       env={"RUNBOOK_SSH_CONFIG": str(config)})
    assert done.returncode == 0, done.stdout + done.stderr
    # db1's sshd answered (SSH_CONNECTION: client ip, port, server ip, server port) ...
    assert done.stdout.splitlines()[1].split()[2:] == [lab.hosts["db1"].address, "2222"]
    # ... and each gateway logged in the hop through it
    assert {n: accepted(lab, n) - before[n] for n in before} == {"web1": 1, "app1": 1, "db1": 1}


def test_multi_hop_proxyjump_from_the_inventory(lab: Lab, tmp_path: Path) -> None:
    web1, app1 = lab.hosts["web1"], lab.hosts["app1"]
    inv = inventory(lab, tmp_path / "inv.yml", {"db": {"address": lab.hosts["db1"].address, "port": lab.port, "jump":
                    f"{lab.user}@{web1.address}:{web1.port},{lab.user}@{app1.address}:{app1.port}"}})
    done = runbook_cli("exec", "-i", inv, "hostname >/dev/null; echo ok-through-two", runs_dir=tmp_path / "runs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok-through-two" in done.stdout


def test_a_dead_jump_host_is_reported_as_the_jump_hosts_failure(lab: Lab, tmp_path: Path) -> None:
    down, _ = lab.unreachable
    inv = inventory(lab, tmp_path / "inv.yml", {"db": {"address": lab.hosts["db1"].address, "port": lab.port,
                                                       "jump": f"{down}:{lab.port}"}})
    done = runbook_cli("exec", "-i", inv, "true", runs_dir=tmp_path / "runs")
    assert done.returncode == 5
    assert f"db | unreachable | db: jump: jump host {down}:{lab.port} ({down}:{lab.port}) failed: tcp:" in done.stdout
    swept = runbook_cli("sweep", "-i", inv, "--json", runs_dir=tmp_path / "sweeps")
    (host,) = json.loads(swept.stdout)["hosts"]
    # not CRITICAL "down at the network level": the target may be fine, its jump host is not
    assert (host["status"], host["layer"]) == ("UNKNOWN", "jump")


# -- keys against MaxAuthTries, IdentitiesOnly and IdentityAgent ---------------------------------

@pytest.fixture
def strict_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One more sshd that, like many hardened servers, allows only 2 authentication attempts."""
    with side_lab(tmp_path_factory.mktemp("strict"), ("strict1",), 3, ("MaxAuthTries 2",)) as lab:
        yield lab


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Our own ssh-agent holding three keys the server does not know (stopped by its pid)."""
    socket_path = tmp_path / "agent.sock"
    started = subprocess.run(["ssh-agent", "-a", str(socket_path)], capture_output=True, text=True, check=True)
    pid = int(started.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    env = {"SSH_AUTH_SOCK": str(socket_path)}
    try:
        wrong = [tmp_path / f"wrong{i}" for i in range(3)]
        generate_keys(wrong)
        for key in wrong:
            subprocess.run(["ssh-add", "-q", str(key)], env={**os.environ, **env}, check=True, capture_output=True)
        yield env
    finally:
        os.kill(pid, signal.SIGTERM)


def strict_inventory(lab: Lab, path: Path, **defaults: object) -> Path:
    host = lab.hosts["strict1"]
    return write_yaml(path, {"customer": {"name": "Strict AG"},
                             "defaults": {"known_hosts": str(lab.known_hosts), "connect_timeout": 5,
                                          "user": lab.user, **defaults},
                             "hosts": {"strict1": {"address": host.address, "port": host.port}}})


def test_the_inventory_key_is_offered_before_many_agent_keys(strict_lab: Lab, agent: dict[str, str],
                                                             tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path), **agent}  # no ~/.ssh/id_* of whoever runs the suite
    inv = strict_inventory(strict_lab, tmp_path / "inv.yml", identity_file=str(strict_lab.client_key))
    done = runbook_cli("exec", "-i", inv, "echo in", runs_dir=tmp_path / "r1", env=home)
    assert done.returncode == 0, done.stdout + done.stderr
    # the control: the same right key, but in the agent behind the three wrong ones, is never tried
    subprocess.run(["ssh-add", "-q", str(strict_lab.client_key)], env={**os.environ, **agent}, check=True,
                   capture_output=True)
    agent_only = strict_inventory(strict_lab, tmp_path / "agent-only.yml")
    done = runbook_cli("exec", "-i", agent_only, "echo in", runs_dir=tmp_path / "r2", env=home)
    assert done.returncode == 5
    assert "strict1: auth:" in done.stdout


def test_identities_only_and_identity_agent_none_keep_agent_keys_out(strict_lab: Lab, agent: dict[str, str],
                                                                     tmp_path: Path) -> None:
    subprocess.run(["ssh-add", "-q", str(strict_lab.client_key)], env={**os.environ, **agent}, check=True,
                   capture_output=True)
    host = strict_lab.hosts["strict1"]
    unknown = tmp_path / "unknown_key"
    generate_keys([unknown])
    config = tmp_path / "ssh_config"
    env = {"HOME": str(tmp_path), **agent, "RUNBOOK_SSH_CONFIG": str(config)}
    inv = strict_inventory(strict_lab, tmp_path / "inv.yml")

    config.write_text(f"Host {host.address}\n    IdentityFile {unknown}\n    IdentitiesOnly yes\n")
    done = runbook_cli("exec", "-i", inv, "echo in", runs_dir=tmp_path / "r1", env=env)
    assert done.returncode == 5 and "refused for 1 key(s) offered" in done.stdout  # the agent's right key unused

    config.write_text(f"Host {host.address}\n    IdentityFile {unknown}\n")
    done = runbook_cli("exec", "-i", inv, "echo in", runs_dir=tmp_path / "r2", env=env)
    # without IdentitiesOnly: the file, then the agent's keys -- MaxAuthTries 2 ends it before the right one
    assert done.returncode == 5

    config.write_text(f"Host {host.address}\n    IdentityAgent none\n")
    done = runbook_cli("exec", "-i", inv, "echo in", runs_dir=tmp_path / "r3", env=env)
    assert done.returncode == 5 and "no key to offer" in done.stdout

    config.write_text(f"Host {host.address}\n    IdentityAgent {agent['SSH_AUTH_SOCK']}\n    IdentitiesOnly no\n")
    done = runbook_cli("exec", "-i", inv, "echo in", runs_dir=tmp_path / "r4",
                       env={**env, "SSH_AUTH_SOCK": ""})
    # the agent named by IdentityAgent (SSH_AUTH_SOCK is empty): 3 wrong keys first, so refused again
    assert done.returncode == 5 and "auth" in done.stdout
