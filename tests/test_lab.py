"""The SSH lab itself, proven with the OpenSSH client only (no paramiko, nothing mocked)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import pytest
import yaml

from tests.lab import Lab, LabError, lab_unavailable_reason
from tests.lab.lab import DEFAULT_HOSTS
from tests.lab.many import host_addresses
from tests.lab.processes import ensure_free

REPO = Path(__file__).resolve().parents[1]

# Generous: these bound hangs, they are not performance targets.
SSH_TIMEOUT = 30


def subnet_near(lab: Lab, offset: int) -> str:
    """A subnet ``offset`` above the session lab's, for a lab of a test's own."""
    first, second, third = lab.subnet.split(".")
    return f"{first}.{second}.{int(third) + offset}"


def ssh(argv: Sequence[str], command: str,
        *options: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``command`` through the OpenSSH client; return the result and the wall time."""
    *head, destination = argv
    began = time.monotonic()
    result = subprocess.run([*head, *options, destination, command], capture_output=True,
                            text=True, timeout=SSH_TIMEOUT, stdin=subprocess.DEVNULL,
                            check=False)
    return result, time.monotonic() - began


def with_known_hosts(argv: Sequence[str], known_hosts: Path) -> list[str]:
    """``argv`` checking host keys against another known_hosts file."""
    return [f"UserKnownHostsFile={known_hosts}" if arg.startswith("UserKnownHostsFile=")
            else arg for arg in argv]


def to_address(argv: Sequence[str], user: str, address: str) -> list[str]:
    """``argv`` pointed at another address (same port, key and options)."""
    return [*argv[:-1], f"{user}@{address}"]


def lab_pids(lab: Lab) -> list[int]:
    """Every live process of a lab: listeners, their connections and sessions, the tarpit."""
    roots = [host.pid for host in lab.hosts.values()]
    roots.append(int(lab.tarpit_pid_file.read_text()))
    pids = []
    for pid in roots:
        pids.append(pid)
        pids += [child.pid for child in psutil.Process(pid).children(recursive=True)]
    return pids


def alive(pids: Sequence[int]) -> list[int]:
    """The pids that still run. A zombie is dead: only not reaped, which this machine's PID 1
    never does for orphans (and non-root sshd orphans one per session)."""
    running = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
        except psutil.NoSuchProcess:
            pass
    return running


@pytest.mark.parametrize("name", DEFAULT_HOSTS)
def test_each_host_runs_a_command_in_its_own_tree(lab: Lab, name: str) -> None:
    host = lab.hosts[name]
    marker = host.root / "tmp" / "answered"
    result, _ = ssh(lab.ssh_argv(name),
                    f"id -un; echo $SSH_CONNECTION; echo {name} > {marker}")
    assert result.returncode == 0, result.stderr
    user, connection = result.stdout.splitlines()
    assert user == lab.user
    # SSH_CONNECTION is "client_ip client_port server_ip server_port": the right sshd answered.
    assert connection.split()[2:] == [host.address, str(host.port)]
    assert marker.read_text() == f"{name}\n"


def test_known_hosts_lists_every_host_and_strict_checking_needs_it(lab: Lab,
                                                                   tmp_path: Path) -> None:
    expected = {f"[{h.address}]:{h.port} {h.host_key_pub}" for h in lab.hosts.values()}
    assert set(lab.known_hosts.read_text().splitlines()) == expected

    empty = tmp_path / "known_hosts"
    empty.write_text("")
    result, _ = ssh(with_known_hosts(lab.ssh_argv("web1"), empty), "true")
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr


def test_replaced_host_key_is_refused_and_restored(lab: Lab, tmp_path: Path) -> None:
    old_key = lab.hosts["spare1"].host_key_pub
    old_pid = lab.hosts["spare1"].pid
    try:
        new_key = lab.replace_host_key("spare1")
        assert new_key != old_key
        assert lab.hosts["spare1"].pid != old_pid

        refused, _ = ssh(lab.ssh_argv("spare1"), "true")
        assert refused.returncode == 255
        assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in refused.stderr

        # The restarted sshd really serves the new key: trusting it lets us in.
        trusted = tmp_path / "known_hosts"
        trusted.write_text(f"[{lab.hosts['spare1'].address}]:{lab.port} {new_key}\n")
        accepted, _ = ssh(with_known_hosts(lab.ssh_argv("spare1"), trusted), "true")
        assert accepted.returncode == 0, accepted.stderr
    finally:
        assert lab.restore_host_key("spare1") == old_key
    again, _ = ssh(lab.ssh_argv("spare1"), "true")
    assert again.returncode == 0, again.stderr


def test_unreachable_address_refuses_at_once(lab: Lab) -> None:
    # Refused (RST), not silently dropped: a client learns it at once instead of timing out.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(lab.unreachable, timeout=5)

    result, _ = ssh(to_address(lab.ssh_argv("web1"), lab.user, lab.unreachable[0]), "true")
    assert result.returncode == 255
    assert "Connection refused" in result.stderr


def test_tarpit_accepts_tcp_but_never_sends_a_banner(lab: Lab) -> None:
    with socket.create_connection(lab.tarpit, timeout=2) as sock:
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)

    # The client gives up by its ConnectTimeout, which also bounds the banner exchange.
    result, _ = ssh(to_address(lab.ssh_argv("web1"), lab.user, lab.tarpit[0]), "true",
                    "-o", "ConnectTimeout=1")
    assert result.returncode == 255
    assert "timed out during banner exchange" in result.stderr


def test_inventory_describes_the_lab(lab: Lab, lab_inventory: Path, tmp_path: Path) -> None:
    document = yaml.safe_load(lab_inventory.read_text())
    assert document["customer"]["contacts"]["hoster"]["phone"] == "+49 711 000000"
    defaults = document["defaults"]
    assert (defaults["user"], defaults["port"]) == (lab.user, lab.port)
    assert Path(defaults["identity_file"]) == lab.client_key
    assert Path(defaults["known_hosts"]) == lab.known_hosts
    hosts = document["hosts"]
    net = lab.subnet  # 127.0.10 unless RUNBOOK_LAB_SUBNET says otherwise
    assert {name: (h["address"], h["roles"]) for name, h in hosts.items()} == {
        "web1": (f"{net}.1", ["web"]), "app1": (f"{net}.2", ["app"]),
        "db1": (f"{net}.3", ["db"]), "spare1": (f"{net}.4", ["spare"]),
        "down1": (f"{net}.250", ["spare"]), "tarpit1": (f"{net}.251", ["spare"]),
    }
    assert Path(hosts["db1"]["vars"]["lab_root"]).joinpath("var/log").is_dir()

    lean = yaml.safe_load(lab.write_inventory(tmp_path / "lean.yml", include_bad=False,
                                              extra_vars={"shop_url": "http://x"}).read_text())
    assert set(lean["hosts"]) == set(DEFAULT_HOSTS)
    # the lab is this machine: its load never turns a lab host WARNING (tests set their own)
    assert lean["defaults"]["vars"] == {"load_warn": 1000, "load_crit": 2000, "shop_url": "http://x"}


def test_fast_shell_sets_the_shell_level_sshd_starts_bash_at(lab: Lab, tmp_path: Path) -> None:
    # bash skips ~/.bashrc only when started by sshd at SHLVL >= 2 (after counting itself);
    # the lab passes SHLVL=1 so every shell counts one up from there.
    slow = Lab(tmp_path, ("web1",), subnet=subnet_near(lab, 3), fast_shell=False)
    with slow:
        without, _ = ssh(slow.ssh_argv("web1"), "echo ${SHLVL:-0}")
    with_fast, _ = ssh(lab.ssh_argv("web1"), "echo ${SHLVL:-0}")
    assert without.returncode == with_fast.returncode == 0
    assert int(with_fast.stdout) == int(without.stdout) + 1


def test_stop_leaves_no_process_behind(lab: Lab, tmp_path: Path) -> None:
    own = Lab(tmp_path, ("web1", "db1"), subnet=subnet_near(lab, 2)).start()
    # An open session, so stop() has connection and session processes to clean up too.
    session = subprocess.Popen([*own.ssh_argv("db1"), "sleep 60"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        listener = psutil.Process(own.hosts["db1"].pid)
        deadline = time.monotonic() + 10
        while not any(p.name() == "sleep" for p in listener.children(recursive=True)):
            assert time.monotonic() < deadline, "the ssh session never started"
            time.sleep(0.01)
        pids = lab_pids(own)
        pid_files = [own.files(name).pid_file for name in own.hosts] + [own.tarpit_pid_file]
        assert len(pids) > 3 and all(path.exists() for path in pid_files)

        own.stop()
        assert alive(pids) == []
        assert not any(path.exists() for path in pid_files)
        for address in (own.address_of("web1"), own.address_of("db1"), own.tarpit[0]):
            ensure_free(address, own.port)
        own.stop()  # idempotent
    finally:
        own.stop()
        session.wait(timeout=SSH_TIMEOUT)
    assert session.returncode == 255  # the client saw its server go away


def test_fifty_hosts_start_answer_and_stop(
        lab: Lab, tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    names = [f"h{i:02d}" for i in range(1, 51)]
    big = Lab(tmp_path, names, subnet=subnet_near(lab, 1))  # 127.0.11 by default
    began = time.monotonic()
    try:
        big.start()
        took = time.monotonic() - began
        record_property("start_seconds", round(took, 2))
        print(f"50-host lab started in {took:.2f}s")   # a figure for the log, not a bound
        assert big.hosts["h50"].address == f"{big.subnet}.50"
        for name in ("h01", "h50"):
            result, _ = ssh(big.ssh_argv(name), "echo $SSH_CONNECTION")
            assert result.stdout.split()[2] == big.hosts[name].address
        inventory = yaml.safe_load(big.write_inventory(tmp_path / "inv.yml").read_text())
        assert {tuple(inventory["hosts"][name]["roles"]) for name in names} == {("web",)}
        pids = lab_pids(big)
        assert len(pids) == len(names) + 1  # every listener and the tarpit
    finally:
        big.stop()
    assert alive(pids) == []


def test_many_hosts_addresses_skip_network_and_broadcast_and_stay_on_loopback() -> None:
    addresses = host_addresses("127.30.0.250", 10)
    assert addresses[:5] == ["127.30.0.250", "127.30.0.251", "127.30.0.252", "127.30.0.253", "127.30.0.254"]
    assert addresses[5:7] == ["127.30.1.1", "127.30.1.2"]
    with pytest.raises(LabError, match="leave 127.0.0.0/8"):
        host_addresses("127.255.255.250", 10)


def test_a_person_starts_and_stops_a_many_hosts_lab(tmp_path: Path) -> None:
    """`python -m tests.lab up --count 40 --first ...`: 40 hosts from 3 sshd processes, each
    address its own SSH host with a known key; `down` stops it."""
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(reason)
    third = os.environ.get("RUNBOOK_LAB_SUBNET", "127.0.10").split(".")[2]
    first = f"127.{third}.200.1"
    base = tmp_path / "many"
    up = subprocess.Popen([sys.executable, "-m", "tests.lab", "up", "--count", "40", "--first", first,
                           "--dir", str(base)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert up.stdout is not None
        said = up.stdout.readline()
        assert said.startswith(f"lab up: 40 hosts on {first}-127.{third}.200.40:2222 (3 sshd processes)"), said
        known = (base / "known_hosts").read_text().splitlines()
        assert len(known) == 40
        ssh = ["ssh", "-i", str(base / "client_ed25519"), "-o", f"UserKnownHostsFile={base / 'known_hosts'}",
               "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-F", "none", "-p", "2222"]
        last = subprocess.run([*ssh, f"127.{third}.200.40", "echo", "hello"], capture_output=True, text=True,
                              timeout=30)
        assert last.stdout == "hello\n", last.stderr
    finally:
        down = subprocess.run([sys.executable, "-m", "tests.lab", "down", "--dir", str(base)], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        up.wait(timeout=30)
    assert "stopped: up" in down.stdout
    assert subprocess.run([*ssh, f"127.{third}.200.1", "true"], capture_output=True, timeout=30).returncode != 0
