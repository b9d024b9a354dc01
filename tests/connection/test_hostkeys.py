"""known_hosts at scale: parsed once per run however many hosts connect at once, looked up by
name (plain and hashed entries), and a recorded key joins the shared index without a re-parse."""

from __future__ import annotations

import threading
from pathlib import Path

import paramiko
import pytest

from runbook.connection import hostkeys
from runbook.connection.hostkeys import load_known_hosts, verify_host_key
from runbook.errors import HostKeyError

LINES = 1000


@pytest.fixture
def keys(tmp_path: Path) -> tuple[paramiko.PKey, paramiko.PKey]:
    """Two distinct host keys (RSA: Paramiko can generate those)."""
    return paramiko.RSAKey.generate(1024), paramiko.RSAKey.generate(1024)


def write_known_hosts(path: Path, key: paramiko.PKey, *, hashed_every: int = 10) -> Path:
    """LINES hosts [10.1.x.y]:2222 with ``key``; every ``hashed_every``-th line hashed, as
    OpenSSH's HashKnownHosts writes them."""
    lines = []
    for i in range(LINES):
        name = f"[10.1.{i // 250}.{i % 250 + 1}]:2222"
        if i % hashed_every == 0:
            name = paramiko.HostKeys.hash_host(name)
        lines.append(f"{name} {key.get_name()} {key.get_base64()}\n")
    path.write_text("# a comment\n\n" + "".join(lines))
    return path


def test_fifty_hosts_connecting_at_once_share_one_parse(tmp_path: Path, keys) -> None:
    path = str(write_known_hosts(tmp_path / "known_hosts", keys[0]))
    found: list[hostkeys.KnownHosts] = []
    start = threading.Barrier(50)

    def connect() -> None:
        start.wait()
        found.append(load_known_hosts(path))

    threads = [threading.Thread(target=connect) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 50
    assert len({id(k) for k in found}) == 1


def test_plain_and_hashed_entries_are_found_and_a_changed_key_refused(tmp_path: Path, keys) -> None:
    path = str(write_known_hosts(tmp_path / "known_hosts", keys[0]))
    verify_host_key("plain", "10.1.0.2", 2222, keys[0], path, accept_new=False)      # line 1: plain
    verify_host_key("hashed", "10.1.0.1", 2222, keys[0], path, accept_new=False)     # line 0: hashed
    with pytest.raises(HostKeyError) as changed:
        verify_host_key("hashed", "10.1.0.11", 2222, keys[1], path, accept_new=False)
    assert changed.value.changed and "CHANGED" in str(changed.value)
    with pytest.raises(HostKeyError) as unknown:
        verify_host_key("new", "10.9.9.9", 2222, keys[0], path, accept_new=False)
    assert not unknown.value.changed and "--accept-new-host-keys" in str(unknown.value)


def test_a_recorded_key_joins_the_shared_index_and_the_file(tmp_path: Path, keys) -> None:
    path = write_known_hosts(tmp_path / "known_hosts", keys[0])
    before = load_known_hosts(str(path))
    for i in range(1, 21):
        verify_host_key(f"n{i}", f"10.9.0.{i}", 22, keys[1], str(path), accept_new=True)
    assert load_known_hosts(str(path)) is before  # our own appends did not cause a re-parse
    lines = path.read_text().splitlines()
    assert lines[-20:] == [f"10.9.0.{i} {keys[1].get_name()} {keys[1].get_base64()}" for i in range(1, 21)]
    verify_host_key("n1", "10.9.0.1", 22, keys[1], str(path), accept_new=False)
    # Another program changing the file is seen: the next lookup parses it afresh.
    with path.open("a") as fh:
        fh.write(f"10.8.0.1 {keys[0].get_name()} {keys[0].get_base64()}\n")
    verify_host_key("edited", "10.8.0.1", 22, keys[0], str(path), accept_new=False)
    assert load_known_hosts(str(path)) is not before
