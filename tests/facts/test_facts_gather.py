"""The batching protocol: one sh command for all facts, sections framed by nonce markers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from runbook.facts import FACT_NAMES, FactError
from runbook.facts.batch import new_nonce, split_parts
from runbook.facts.disk import DiskUsage
from runbook.facts.gather import collect_local, gather_command, parse_gathered
from runbook.facts.load import LoadInfo
from runbook.facts.memory import MemoryInfo
from tests.support.processes import wait_until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facts"
NONCE = "feedfacecafebeef"


def read(rel: str) -> str:
    with open(FIXTURES / rel, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def run(shell: list[str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*shell, "-c", command], capture_output=True, text=True,
                          errors="surrogateescape", timeout=30, check=False)


@pytest.mark.parametrize("rel", ["gather/debian12.txt", "gather/debian12-busybox-ash.txt"])
def test_parse_captured_gather_output(rel: str) -> None:
    facts = parse_gathered(read(rel), FACT_NAMES, NONCE)
    assert not [v for v in facts.values() if isinstance(v, FactError)]
    assert isinstance(facts["memory"], MemoryInfo) and isinstance(facts["load"], LoadInfo)
    assert facts["load"].cpu_count == 2
    assert [d.mount for d in facts["disk"]] == ["/", "/mnt/rb fixture/data volume"]
    assert {p.port for p in facts["ports"]} == {47613}
    assert len(facts["processes"]) == 65


def test_command_is_one_line_and_sections_follow_fact_names_order() -> None:
    cmd = gather_command(["disk", "memory"], NONCE)
    assert "\n" not in cmd
    assert cmd.index("begin memory") < cmd.index("begin disk")
    assert "begin load" not in cmd


def test_unknown_fact_and_bad_nonce_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fact"):
        gather_command(["disk", "dsik"])
    with pytest.raises(ValueError, match="nonce"):
        gather_command(["disk"], "'; rm -rf /; '")


SHELLS = [["sh"], ["bash"], ["dash"], ["busybox", "ash"]]


@pytest.mark.parametrize("shell", SHELLS, ids=[" ".join(s) for s in SHELLS])
def test_gather_runs_in_posix_shells(shell: list[str]) -> None:
    if not shutil.which(shell[0]):
        pytest.skip(f"{shell[0]} is not installed")
    nonce = new_nonce()
    result = run(shell, gather_command(FACT_NAMES, nonce))
    assert result.returncode == 0, result.stderr
    facts = parse_gathered(result.stdout, FACT_NAMES, nonce, stderr=result.stderr)
    errors = {k: v for k, v in facts.items() if isinstance(v, FactError)}
    assert not errors
    assert any(d.mount == "/" for d in facts["disk"])
    assert any(p.pid == 1 for p in facts["processes"])


def test_output_cannot_forge_a_section() -> None:
    # A process whose command line carries marker lines (with a guessed nonce and without)
    # is parsed as a process; the section is not ended early.
    forged = f"x\n@@runbook {'0' * 16} end processes 0\n@@runbook {NONCE} part passwd\n"
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", forged])
    try:
        # the decoy's command line is Python's (and so the forged text) once it has exec'd
        assert wait_until(lambda: forged in psutil.Process(decoy.pid).cmdline(), timeout=30)
        nonce = new_nonce()
        result = run(["sh"], gather_command(["processes", "memory"], nonce))
        facts = parse_gathered(result.stdout, ["processes", "memory"], nonce)
        assert isinstance(facts["memory"], MemoryInfo)
        mine = [p for p in facts["processes"] if p.pid == decoy.pid]
        assert mine and mine[0].args[-1] == forged
    finally:
        decoy.kill()
        decoy.wait()


def section(name: str, body: str, status: int, nonce: str = NONCE) -> str:
    return f"@@runbook {nonce} begin {name}\n{body}\n@@runbook {nonce} end {name} {status}\n"


def test_failed_missing_and_cut_off_sections_become_fact_errors() -> None:
    meminfo = read("memory/debian12.txt")
    stdout = (section("memory", meminfo, 0) + section("ports", "", 127)
              + f"@@runbook {NONCE} begin disk\nFilesystem 1024-blocks")
    stderr = (f"@@runbook {NONCE} begin memory\n@@runbook {NONCE} begin ports\n"
              "sh: 1: ss: not found\nsh: 1: cat: /proc/net/tcp: No such file or directory\n"
              f"@@runbook {NONCE} begin disk\n")
    facts = parse_gathered(stdout, ["memory", "ports", "load", "disk"], NONCE, stderr=stderr)
    assert isinstance(facts["memory"], MemoryInfo)
    assert facts["ports"] == FactError(
        "ports", "exit 127: sh: 1: cat: /proc/net/tcp: No such file or directory")
    assert isinstance(facts["load"], FactError) and "stopped before" in facts["load"].reason
    assert isinstance(facts["disk"], FactError) and "cut off" in facts["disk"].reason


def test_unparsable_output_is_a_fact_error_and_nonzero_status_with_output_is_kept() -> None:
    df = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 50 50% /\n"
    disk_body = f"\n@@runbook {NONCE} part space\n{df}"
    stdout = section("memory", "no meminfo here", 1) + section("disk", disk_body, 1)
    facts = parse_gathered(stdout, ["memory", "disk"], NONCE)
    assert isinstance(facts["memory"], FactError) and "unparsable" in facts["memory"].reason
    # df exits 1 when one filesystem cannot be read; the others are still facts.
    assert facts["disk"] == [DiskUsage("/dev/sda1", None, "/", 102400, 51200, 51200, 50.0)]


def test_a_marker_with_another_nonce_right_before_a_real_one_is_output() -> None:
    # Output that ends in a forged marker without its newline: the real marker's own leading
    # newline must still start the real one, and the forged text stays output.
    other = "0" * 16
    body = read("memory/debian12.txt").rstrip("\n") + f"\nX: 1 kB\n@@runbook {other} end memory 0"
    stdout = f"@@runbook {NONCE} begin memory\n{body}\n@@runbook {NONCE} end memory 0\n"
    assert isinstance(parse_gathered(stdout, ["memory"], NONCE)["memory"], MemoryInfo)
    parts = f"\n@@runbook {NONCE} part a\nA\n@@runbook {other} part b\n@@runbook {NONCE} part c\nC\n"
    assert split_parts(parts, NONCE) == {"a": f"A\n@@runbook {other} part b", "c": "C\n"}
    stderr = f"@@runbook {NONCE} begin disk\n@@runbook {other} begin memory\noops\n"
    failed = parse_gathered(f"@@runbook {NONCE} begin disk\nx", ["disk"], NONCE, stderr=stderr)["disk"]
    assert isinstance(failed, FactError) and failed.reason.endswith(": oops")


def test_nonce_is_recovered_from_the_first_marker() -> None:
    stdout = "motd from .bashrc\n" + section("memory", read("memory/debian12.txt"), 0, "abcdef0123456789")
    assert isinstance(parse_gathered(stdout, ["memory"], None)["memory"], MemoryInfo)


def test_fact_error_to_json() -> None:
    assert FactError("disk", "exit 1").to_json() == {"error": True, "fact": "disk", "reason": "exit 1"}


@pytest.fixture(scope="module")
def spaced_mounts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A 30%-full ext4 loop mount and a tmpfs, both at paths with spaces, when we are root
    (CI is); else no extra mounts and the comparison covers the machine's own."""
    if shutil.which("mkfs.ext4") is None or os.geteuid() != 0:
        yield []
        return
    base = tmp_path_factory.mktemp("rb mounts")
    image, data, scratch = base / "fs.img", base / "data vol", base / "tmp space"
    data.mkdir()
    scratch.mkdir()
    subprocess.run(["truncate", "-s", "32M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    mounted = []
    try:
        for argv, where in ((["mount", "-o", "loop", str(image), str(data)], data),
                            (["mount", "-t", "tmpfs", "-o", "size=4m", "rb test tmpfs", str(scratch)],
                             scratch)):
            if subprocess.run(argv, capture_output=True, check=False).returncode == 0:
                mounted.append(str(where))
        if str(data) in mounted:
            (data / "fill").write_bytes(b"\0" * 9 * 1024 * 1024)
        yield mounted
    finally:
        for where in reversed(mounted):
            subprocess.run(["umount", where], check=False)


@pytest.mark.parametrize("include_pseudo", [False, True])
def test_local_psutil_facts_agree_with_shell_parsed_facts(spaced_mounts: list[str],
                                                          include_pseudo: bool) -> None:
    """The same machine seen both ways: disk used % per mount within 1 point, memory and
    swap totals within 1 %, same CPU count, same processes for pid 1."""
    nonce = new_nonce()
    result = run(["sh"], gather_command(FACT_NAMES, nonce))
    remote = parse_gathered(result.stdout, FACT_NAMES, nonce, stderr=result.stderr,
                            include_pseudo=include_pseudo)
    local = collect_local(FACT_NAMES, include_pseudo=include_pseudo)
    assert not [v for v in (*remote.values(), *local.values()) if isinstance(v, FactError)]

    shell_disks = {d.mount: d for d in remote["disk"]}
    local_disks = {d.mount: d for d in local["disk"]}
    assert "/" in shell_disks and "/" in local_disks
    if os.geteuid() == 0:
        assert len(spaced_mounts) == 2, "root could not mount the loop and tmpfs test mounts"
    expected = spaced_mounts if include_pseudo else spaced_mounts[:1]
    for mount in expected:          # mount points with spaces, seen by both sources
        assert mount in shell_disks and mount in local_disks
    if not include_pseudo:
        assert not set(spaced_mounts[1:]) & shell_disks.keys()      # tmpfs is pseudo
    for mount in shell_disks.keys() & local_disks.keys():
        assert shell_disks[mount].used_percent == pytest.approx(local_disks[mount].used_percent, abs=1)
        assert shell_disks[mount].fstype == local_disks[mount].fstype
        if shell_disks[mount].inodes_used_percent is not None:
            assert shell_disks[mount].inodes_used_percent == pytest.approx(
                local_disks[mount].inodes_used_percent, abs=1)

    mem_sh, mem_local = remote["memory"], local["memory"]
    assert mem_sh.total_bytes == pytest.approx(mem_local.total_bytes, rel=0.01)
    assert mem_sh.swap_total_bytes == pytest.approx(mem_local.swap_total_bytes, rel=0.01)
    assert mem_sh.available_bytes == pytest.approx(mem_local.available_bytes, rel=0.05)

    assert remote["load"].cpu_count == local["load"].cpu_count
    assert remote["load"].uptime_seconds == pytest.approx(local["load"].uptime_seconds, abs=5)

    init_sh = next(p for p in remote["processes"] if p.pid == 1)
    init_local = next(p for p in local["processes"] if p.pid == 1)
    assert (init_sh.user, init_sh.args, init_sh.name) == (init_local.user, init_local.args, init_local.name)
    assert init_sh.rss_bytes == pytest.approx(init_local.rss_bytes, rel=0.2)
