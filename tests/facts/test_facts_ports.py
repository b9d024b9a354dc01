"""Listening-port parsers: ss, net-tools and busybox netstat, /proc/net/tcp{,6}."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.facts.ports import ListeningPort, parse_ports

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facts"
PID = 3073      # the fixture listener of capture_local.py


def read(rel: str) -> str:
    return (FIXTURES / rel).read_text(encoding="utf-8")


# (fixture, number of TCP listeners, one expected port)
CASES = [
    ("ports/debian12-ss.txt", 2, ListeningPort("::1", 47613, "ipv6", PID, "rb fix")),
    ("ports/debian12-netstat.txt", 2, ListeningPort("127.0.0.1", 47613, "ipv4", PID, "python3")),
    ("ports/debian12-busybox-netstat.txt", 2, ListeningPort("::1", 47613, "ipv6")),
    ("ports/debian12-proc-net-tcp.txt", 2, ListeningPort("::1", 47613, "ipv6")),
    ("ports/ubuntu-18.04-ss-tulpen.txt", 58,
     ListeningPort("127.0.0.53", 53, "ipv4", 1117, "systemd-resolve")),
    ("ports/ubuntu-18.04-netstat-lnp.txt", 4, ListeningPort("0.0.0.0", 22, "ipv4", 1127, "sshd")),
    ("ports/centos-7.7-netstat-lnp.txt", 4, ListeningPort("::", 22, "ipv6", 1206, "sshd")),
    ("ports/jc-proc-net-tcp.txt", 4, ListeningPort("127.0.0.53", 53, "ipv4")),
    ("ports/jc-proc-net-tcp6.txt", 1, ListeningPort("::", 22, "ipv6")),
]


@pytest.mark.parametrize("rel, count, expected", CASES, ids=[c[0].split("/")[1][:-4] for c in CASES])
def test_parse_ports_fixture(rel: str, count: int, expected: ListeningPort) -> None:
    ports = parse_ports(read(rel))
    assert len(ports) == count
    assert expected in ports


def test_udp_and_non_listening_lines_are_ignored() -> None:
    ports = parse_ports(read("ports/ubuntu-18.04-ss-tulpen.txt"))
    assert 68 not in {p.port for p in ports}          # dhclient, UDP


@pytest.mark.parametrize("line, expected", [
    # Old iproute2 (RHEL 6/7): "*" for any IPv4 address, users without "pid=".
    ('LISTEN     0      128          *:22         *:*    users:(("sshd",1234,3))',
     ListeningPort("*", 22, "any", 1234, "sshd")),
    ('LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=812,fd=6),("nginx",pid=811,fd=6))',
     ListeningPort("0.0.0.0", 80, "ipv4", 811, "nginx")),
    ("LISTEN 0 128 [fe80::1%eth0]:8080 [::]:*", ListeningPort("fe80::1", 8080, "ipv6")),
    ("LISTEN 0 4096 [::ffff:127.0.0.1]:9000 *:*", ListeningPort("::ffff:127.0.0.1", 9000, "ipv6")),
])
def test_ss_line_variants(line: str, expected: ListeningPort) -> None:
    header = "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    assert parse_ports(header + line + "\n") == [expected]


def test_nothing_listening() -> None:
    assert parse_ports("") == []
    assert parse_ports("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n") == []


def test_unknown_text_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_ports("ss: command not found\n")


def test_to_json() -> None:
    assert ListeningPort("::", 22, "ipv6").to_json() == {
        "address": "::", "port": 22, "family": "ipv6", "pid": None, "process": None}
