"""The SSH connection against the real-sshd lab: commands, failure layers, strict host keys,
--accept-new-host-keys, and a timed-out command killed on the remote side."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.connection import ConnectOptions, connect
from runbook.connection.ssh import SSHConnection
from runbook.errors import CommandTimeout, ConnectError, HostKeyError
from runbook.inventory import load_inventory
from tests.lab import Lab, side_lab
from tests.lab.sshd import public_key_path
from tests.support.cli import (
    command_step,
    events_of,
    host_end,
    isolate,
    journal,
    lab_inventory,
    run_main,
    write_playbook,
)
from tests.support.processes import processes_with, sleeps_with, unique_marker, wait_until


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


CONNECT_TIMEOUT = 2.0


def fingerprint_of(lab: Lab, name: str) -> str:
    """The host key's SHA256 fingerprint as OpenSSH prints it (computed by ssh-keygen, not by us)."""
    line = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key_path(lab.files(name).host_key))],
                          capture_output=True, text=True, check=True).stdout
    return line.split()[1]


def known_hosts_entry(lab: Lab, name: str, public_key: str) -> str:
    host = lab.hosts[name]
    return f"[{host.address}]:{host.port} {public_key}\n"


def wrong_known_hosts(lab: Lab, path: Path, name: str) -> Path:
    """A known_hosts where ``name`` is recorded with another key (the lab's client key)."""
    other_key = public_key_path(lab.client_key).read_text().split()[:2]
    path.write_text("".join(known_hosts_entry(lab, n, lab.hosts[n].host_key_pub) for n in lab.hosts if n != name)
                    + known_hosts_entry(lab, name, " ".join(other_key)))
    return path


def ssh_to(lab: Lab, name: str, **overrides: object) -> SSHConnection:
    host = lab.hosts[name]
    settings: dict = {"identity_files": (str(lab.client_key),), "known_hosts": str(lab.known_hosts),
                      "connect_timeout": CONNECT_TIMEOUT}
    settings.update(overrides)
    return SSHConnection(name, settings.pop("address", host.address), settings.pop("port", host.port),
                         lab.user, **settings)


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


# -- ciphers ----------------------------------------------------------------------------------

@pytest.fixture
def ctr_only_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One more sshd that, like an older hardened server, offers no AES-GCM: only aes256-ctr."""
    with side_lab(tmp_path_factory.mktemp("ctr"), ("old1",), 4, ("Ciphers aes256-ctr",)) as lab:
        yield lab


def test_the_connection_is_encrypted_with_aes_gcm_where_the_server_offers_it(lab: Lab) -> None:
    conn = ssh_to(lab, "web1")
    try:
        assert conn.run("true").ok
        transport = conn._transport
        assert transport is not None
        assert (transport.local_cipher, transport.remote_cipher) == ("aes128-gcm@openssh.com",) * 2
    finally:
        conn.close()


def test_a_server_without_aes_gcm_is_reached_with_aes_ctr(ctr_only_lab: Lab) -> None:
    conn = ssh_to(ctr_only_lab, "old1")
    try:
        assert conn.run("echo hello").stdout == "hello\n"
        assert conn._transport is not None and conn._transport.local_cipher == "aes256-ctr"
    finally:
        conn.close()


# -- commands ---------------------------------------------------------------------------------

def test_a_command_returns_output_and_exit_code_over_one_reused_connection(lab: Lab) -> None:
    conn = ssh_to(lab, "web1")
    try:
        conn.open()
        first = conn.run("echo out; echo err >&2; exit 7")
        second = conn.run("echo $SSH_CONNECTION")
        piped = conn.run("tr a-z A-Z", stdin=b"piped in\n")
        third = conn.run("echo $SSH_CONNECTION")
    finally:
        conn.close()

    assert (first.exit_code, first.stdout, first.stderr, first.ok) == (7, "out\n", "err\n", False)
    assert first.host == "web1" and first.duration >= 0
    client_ip, client_port, server_ip, server_port = second.stdout.split()
    assert (server_ip, int(server_port)) == (lab.hosts["web1"].address, lab.hosts["web1"].port)
    assert third.stdout == second.stdout  # same client port: the same TCP connection, reused
    assert piped.stdout == "PIPED IN\n" and piped.ok


def test_a_command_that_exits_without_reading_its_input_keeps_its_exit_code(lab: Lab) -> None:
    """8 MiB for stdin, more than sshd's window: the sender finds the channel closed by the
    command's exit. That is the command's answer, not a lost connection."""
    conn = ssh_to(lab, "web1")
    try:
        quick = conn.run("echo gone >&2; exit 127", stdin=b"x" * (8 << 20))
        after = conn.run("echo still here")
    finally:
        conn.close()
    assert (quick.exit_code, quick.stderr) == (127, "gone\n")
    assert after.stdout == "still here\n"


def test_inventory_hosts_connect_as_the_inventory_says(lab: Lab, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(tmp_path / "none"))
    inv = load_inventory([lab_inventory(lab, tmp_path / "inv.yml")])
    conn = connect(inv.hosts["db1"], ConnectOptions())
    try:
        conn.open()
        result = conn.run("id -un; echo $SSH_CONNECTION")
    finally:
        conn.close()

    user, _, _, server_ip, server_port = result.stdout.split()
    assert (user, server_ip, int(server_port)) == (lab.user, lab.hosts["db1"].address, lab.hosts["db1"].port)


# -- which layer failed -------------------------------------------------------------------------

@pytest.mark.parametrize("where, layer, says", [
    ("unreachable", "tcp", "Connection refused"),
    ("tarpit", "ssh", f"within {CONNECT_TIMEOUT:g}s"),   # given up at the connect timeout
    ("dns", "dns", "cannot resolve 'nonexistent.invalid'"),
])
def test_an_unreachable_host_names_the_failed_layer_within_the_connect_timeout(
        lab: Lab, where: str, layer: str, says: str) -> None:
    address, port = {"unreachable": lab.unreachable, "tarpit": lab.tarpit,
                     "dns": ("nonexistent.invalid", lab.port)}[where]
    conn = ssh_to(lab, "web1", address=address, port=port)

    with pytest.raises(ConnectError) as failed:
        conn.open()

    assert failed.value.layer == layer
    assert failed.value.host == "web1" and str(failed.value).startswith(f"web1: {layer}: ")
    assert says in str(failed.value)


def test_a_key_the_server_does_not_accept_fails_at_the_auth_layer(lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    conn = ssh_to(lab, "app1", identity_files=(str(wrong),))

    with pytest.raises(ConnectError) as failed:
        conn.open()

    assert failed.value.layer == "auth"
    assert f"{lab.user!r}" in failed.value.message and "refused" in failed.value.message


def test_a_missing_identity_file_fails_at_the_auth_layer(lab: Lab, tmp_path: Path) -> None:
    conn = ssh_to(lab, "app1", identity_files=(str(tmp_path / "no_such_key"),))

    with pytest.raises(ConnectError) as failed:
        conn.open()

    assert failed.value.layer == "auth" and "no_such_key" in failed.value.message


# -- host keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("accept_new", [False, True], ids=["strict", "accept-new"])
def test_a_changed_host_key_is_refused_naming_host_and_fingerprint(lab: Lab, tmp_path: Path,
                                                                   accept_new: bool) -> None:
    known = wrong_known_hosts(lab, tmp_path / "known_hosts", "spare1")
    before = known.read_text()
    conn = ssh_to(lab, "spare1", known_hosts=str(known), accept_new_host_keys=accept_new)

    with pytest.raises(HostKeyError) as refused:
        conn.open()

    assert refused.value.changed is True and refused.value.layer == "hostkey"
    offered = fingerprint_of(lab, "spare1")
    assert refused.value.fingerprint.endswith(offered)
    assert "spare1" in str(refused.value) and offered in str(refused.value) and "CHANGED" in str(refused.value)
    assert known.read_text() == before  # nothing recorded, nothing replaced


@pytest.mark.parametrize("flags", [(), ("--accept-new-host-keys",)], ids=["strict", "accept-new"])
def test_runbook_run_refuses_a_changed_host_key(lab: Lab, tmp_path: Path, hermetic: Path,
                                                capsys: pytest.CaptureFixture[str], flags: tuple[str, ...]) -> None:
    known = wrong_known_hosts(lab, tmp_path / "known_hosts", "db1")
    inventory = lab_inventory(lab, tmp_path / "inv.yml", defaults={"known_hosts": str(known)})
    book = write_playbook(tmp_path / "pb.yml", command_step("echo reached"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "db1,web1", *flags)

    assert code == 5, out + err
    events = journal(hermetic)
    refused = host_end(events, "db1")
    assert refused["outcome"] == "unreachable" and refused["error"]["layer"] == "hostkey"
    offered = fingerprint_of(lab, "db1")
    assert "db1" in refused["message"] and offered in refused["message"]
    assert offered in out  # the operator sees it too
    assert host_end(events, "web1")["outcome"] == "ok"
    assert [e["host"] for e in events_of(events, "command")] == ["web1"]


def test_an_unknown_host_is_refused_then_recorded_with_accept_new(lab: Lab, tmp_path: Path, hermetic: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    known = tmp_path / "ssh" / "known_hosts"  # does not exist yet
    inventory = lab_inventory(lab, tmp_path / "inv.yml", defaults={"known_hosts": str(known)})
    book = write_playbook(tmp_path / "pb.yml", command_step("echo reached"))
    offered = fingerprint_of(lab, "app1")

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "app1")
    assert code == 5
    assert "app1" in out and offered in out and "not known" in out
    assert not known.exists()

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "app1", "--accept-new-host-keys")
    assert code == 0, out + err
    assert known.read_text() == known_hosts_entry(lab, "app1", lab.hosts["app1"].host_key_pub)

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "app1")
    assert code == 0, out + err
    assert known.read_text().count("\n") == 1  # nothing recorded twice


def test_accept_new_records_every_unknown_host_of_a_parallel_run_once(lab: Lab, tmp_path: Path, hermetic: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    inventory = lab_inventory(lab, tmp_path / "inv.yml", defaults={"known_hosts": str(known)})
    book = write_playbook(tmp_path / "pb.yml", command_step("true"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--accept-new-host-keys")

    assert code == 0, out + err
    recorded = sorted(known.read_text().splitlines(keepends=True))
    assert recorded == sorted(known_hosts_entry(lab, n, h.host_key_pub) for n, h in lab.hosts.items())


# -- timeouts ---------------------------------------------------------------------------------

def test_a_command_over_its_timeout_is_killed_on_the_remote_side(lab: Lab, tmp_path: Path, hermetic: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    marker = unique_marker()
    started = lab.hosts["web1"].root / "tmp" / f"started-{marker}"
    inventory = lab_inventory(lab, tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml",
                          command_step(f"touch {started}; sleep 300.{marker} & sleep 301.{marker}",
                                       name="Hangs", timeout="1s"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "web1")

    assert code == 4
    assert started.exists(), "the command never ran"
    gone = wait_until(lambda: not processes_with(marker), timeout=5)
    assert gone, f"left running on the host: {[p.info['cmdline'] for p in processes_with(marker)]}"
    events = journal(hermetic)
    (command,) = events_of(events, "command")
    assert command["timed_out"] is True and command["exit_code"] is None
    end = host_end(events, "web1")
    assert end["outcome"] == "failed" and "timed out after 1s" in end["message"]
    assert end["error"]["type"] == "CommandTimeout"


def test_a_timed_out_command_is_killed_and_the_connection_stays_usable(lab: Lab) -> None:
    marker = unique_marker()
    started = lab.hosts["db1"].root / "tmp" / f"started-{marker}"
    conn = ssh_to(lab, "db1")
    try:
        with pytest.raises(CommandTimeout):
            conn.run(f"touch {started}; sleep 300.{marker} & sleep 301.{marker}; true", timeout=1)
        assert started.exists(), "the command never ran"
        assert wait_until(lambda: not sleeps_with(marker), timeout=5)
        after = conn.run("echo still here")
    finally:
        conn.close()

    assert after.stdout == "still here\n"


def test_a_command_flooding_stderr_keeps_its_first_and_last_lines_and_its_exit_code(lab: Lab) -> None:
    conn = ssh_to(lab, "web1")
    try:
        # 50 MiB on stderr between a first and a last line: the run keeps a bounded head and tail
        result = conn.run("echo first >&2; head -c 52428800 /dev/zero | tr '\\000' e >&2; "
                          "echo >&2; echo the reason is at the end >&2; exit 3", timeout=60)
    finally:
        conn.close()
    assert result.exit_code == 3
    assert result.stderr.startswith("first\neee") and result.stderr.endswith("the reason is at the end\n")
    assert "bytes of output not kept ...]" in result.stderr and len(result.stderr) < 3 * 1024 * 1024
    assert "RUNBOOK-PID" not in result.stderr
