"""Process parsers: the /proc dump of the gather command and ps output of several systems."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.facts.batch import split_parts
from runbook.facts.gather import parse_gathered
from runbook.facts.processes import ProcessInfo, parse_processes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facts"
NONCE = "feedfacecafebeef"      # the nonce capture_local.py used
ODD_PID, ZOMBIE_PID = 3073, 3075


def read(rel: str) -> str:
    with open(FIXTURES / rel, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def proc_dump(gathered: str) -> list[ProcessInfo]:
    return parse_gathered(read(gathered), ["processes"], NONCE)["processes"]


@pytest.fixture(scope="module", params=["gather/debian12.txt", "gather/debian12-busybox-ash.txt"])
def debian_procs(request: pytest.FixtureRequest) -> dict[int, ProcessInfo]:
    return {p.pid: p for p in proc_dump(request.param)}


def test_newline_in_argv_and_in_name_survive(debian_procs: dict[int, ProcessInfo]) -> None:
    odd = debian_procs[ODD_PID]
    assert odd.name == "rb fix)\nx"
    # The empty last argument cannot be told from NUL padding of a rewritten title: dropped.
    assert odd.args[-1] == "--label=line one\nline two"
    assert odd.args[1] == "-c" and "\ns4.bind" in odd.args[2]
    assert odd.state == "S" and odd.user == "root" and odd.ppid == 2967
    assert odd.rss_bytes and odd.rss_bytes > 1024 * 1024
    assert odd.elapsed_seconds is not None and odd.cpu_percent is not None


def test_zombie_and_kernel_threads(debian_procs: dict[int, ProcessInfo]) -> None:
    zombie = debian_procs[ZOMBIE_PID]
    assert (zombie.state, zombie.args, zombie.command, zombie.rss_bytes) == \
        ("Z", (), "[sleep] <defunct>", 0)
    kthreadd = debian_procs[2]
    assert (kthreadd.ppid, kthreadd.args, kthreadd.command) == (0, (), "[kthreadd]")
    idle = [p for p in debian_procs.values() if p.state == "I"]
    assert idle and all(p.command.startswith("[kworker") or p.command.startswith("[rcu")
                        or p.command.startswith("[kdamond") for p in idle)


# (fixture, process count, pid, expected (ppid, user, state, command, elapsed, cpu, rss))
PS_CASES = [
    ("processes/debian12-procps.txt", 65, ZOMBIE_PID,
     (3074, "root", "Z", "[sleep] <defunct>", 1, 0.0, 0)),
    ("processes/debian12-procps.txt", 65, 3074, (2967, "root", "S", "sleep 120", 1, 0.0, 1832 * 1024)),
    ("processes/debian12-busybox.txt", 65, ZOMBIE_PID, (3074, "root", "Z", "[sleep]", None, None, 0)),
    ("processes/debian12-busybox.txt", 65, 1, None),
    ("processes/debian12-busybox-default.txt", 65, 3074, (None, "root", "?", "sleep 120", None, None, None)),
    ("processes/alpine-3.12-busybox-ps.txt", 16, 609,
     (None, "root", "?", "/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf -d", None, None, None)),
    ("processes/centos-7.7-ps-aux.txt", 109, 1,
     (None, "root", "S", "/usr/lib/systemd/systemd --switched-root --system --deserialize 22",
      None, 0.0, 6676 * 1024)),
    ("processes/centos-7.7-ps-aux.txt", 109, 2, (None, "root", "S", "[kthreadd]", None, 0.0, 0)),
    ("processes/ubuntu-18.04-ps-ef.txt", 172, 4, (2, "root", "?", "[kworker/0:0H]", None, 0.0, None)),
]


@pytest.mark.parametrize("rel, count, pid, expected", PS_CASES,
                         ids=[f"{c[0].split('/')[1][:-4]}-{c[2]}" for c in PS_CASES])
def test_parse_ps_fixture(rel: str, count: int, pid: int, expected: tuple | None) -> None:
    procs = {p.pid: p for p in parse_processes(read(rel))}
    assert len(procs) == count
    if expected is None:
        assert pid not in procs         # the capture filtered the machine's own init out
        return
    p = procs[pid]
    assert (p.ppid, p.user, p.state, p.command, p.elapsed_seconds, p.cpu_percent, p.rss_bytes) \
        == expected


def test_busybox_ps_prints_a_newline_in_comm_raw() -> None:
    # busybox shows "{comm} argv" when the name differs; the name here contains a newline,
    # so the record continues on the next output line.
    for rel in ("processes/debian12-busybox.txt", "processes/debian12-busybox-default.txt"):
        odd = {p.pid: p for p in parse_processes(read(rel))}[ODD_PID]
        assert odd.name == "rb fix)\nx"
        assert odd.args[0].endswith("python3")


def test_busybox_rss_suffixes() -> None:
    text = "PID   RSS  COMMAND\n    1  15m /init\n    7 2g   big\n    9  512 small\n"
    assert [p.rss_bytes for p in parse_processes(text)] == [15 * 1024**2, 2 * 1024**3, 512 * 1024]


@pytest.mark.parametrize("etime, seconds", [("05:07", 307), ("01:02:03", 3723),
                                            ("3-01:02:03", 262923), ("00:00", 0)])
def test_ps_etime(etime: str, seconds: int) -> None:
    text = f"  PID ELAPSED CMD\n  42 {etime} /bin/x\n"
    assert parse_processes(text)[0].elapsed_seconds == seconds


def stat_section(stat_lines: str, uptime: str = "1000.00 1900.00") -> str:
    return (f"\n@@runbook {NONCE} part clock\n{uptime}\n100\n"
            f"\n@@runbook {NONCE} part stat\n{stat_lines}"
            f"\n@@runbook {NONCE} part status\n"
            f"\n@@runbook {NONCE} part cmdline\n"
            f"\n@@runbook {NONCE} part passwd\n")


@pytest.mark.parametrize("rel, name", [
    ("processes/jc-pid-stat-newline-comm.txt", "my file with\nsp"),
    ("processes/jc-pid-stat-paren-comm.txt", "bad) S 1 2 3 4 5"),
])
def test_stat_name_with_newline_or_parens(rel: str, name: str) -> None:
    [proc] = parse_processes(stat_section(read(rel)), NONCE)
    assert (proc.pid, proc.name, proc.state, proc.ppid) == (2001, name, "S", 1888)
    assert proc.command == f"[{name}]"      # no cmdline captured for it
    # starttime 75513 ticks = 755.13 s after boot, uptime 1000 s.
    assert proc.elapsed_seconds == 244 and proc.rss_bytes == 0


def test_cpu_percent_is_lifetime_average() -> None:
    # 150 + 50 ticks of CPU at 100 Hz = 2 s, started at tick 80000 = 800 s after boot,
    # uptime 1000 s: 2 s of 200 s = 1.0 %.
    fields = ["S", "1"] + ["0"] * 9 + ["150", "50"] + ["0"] * 6 + ["80000", "0", "10"]
    [proc] = parse_processes(stat_section(f"42 (worker) {' '.join(fields)}\n"), NONCE)
    assert (proc.elapsed_seconds, proc.cpu_percent) == (200, 1.0)


def test_uid_and_rss_from_status_and_passwd() -> None:
    fields = ["S", "1"] + ["0"] * 17 + ["500", "0", "10"]
    text = stat_section(f"42 (postgres) {' '.join(fields)}\n").replace(
        "part status\n", "part status\n/proc/42/status:Uid:\t1000\t109\t109\t109\n"
        "/proc/42/status:VmRSS:\t  2048 kB\n").replace(
        "part passwd\n", "part passwd\nroot:x:0:0:root:/root:/bin/bash\n"
        "postgres:x:109:117:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n")
    [proc] = parse_processes(text, NONCE)
    assert (proc.user, proc.rss_bytes) == ("postgres", 2048 * 1024)   # effective uid, as ps


@pytest.mark.parametrize("text", ["", "garbage\n", "USER COMMAND\nroot /sbin/init\n"])
def test_not_ps_output(text: str) -> None:
    with pytest.raises(ValueError):
        parse_processes(text)


def test_fixture_sections_are_split_exactly() -> None:
    body = read("gather/debian12.txt")
    parts = split_parts(body, NONCE)
    assert {"clock", "stat", "status", "cmdline", "passwd", "mounts", "inodes", "space"} <= set(parts)
    assert parts["cmdline"].endswith("\0")


def test_to_json_lists_args() -> None:
    p = ProcessInfo(1, 0, "root", "S", "init", ("/sbin/init", "splash"), "/sbin/init splash")
    assert p.to_json()["args"] == ["/sbin/init", "splash"]
