"""The local connection: same results as SSH for the same command; timeouts and cancel kill the
whole process group."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from runbook.connection import LocalConnection
from runbook.connection.ssh import SSHConnection
from runbook.errors import CommandFailed, CommandTimeout, Interrupted
from tests.lab import Lab
from tests.support.processes import processes_with, sleeps_with, unique_marker, wait_until

# Output on both streams, quoting, a pipe, a non-zero exit: what a read-only probe looks like.
PROBES = [
    "echo out; echo err >&2; exit 3",
    "printf '%s|' 'a b' \"c'd\" $((6 * 7)); echo",
    "seq 1 5 | tac | paste -sd, -",
    "test -d / && echo dir || echo no-dir",
    "exit 0",
]


def test_a_command_returns_output_and_exit_code() -> None:
    conn = LocalConnection("self")
    result = conn.run("echo out; echo err >&2; exit 3")

    assert (result.host, result.exit_code, result.stdout, result.stderr) == ("self", 3, "out\n", "err\n")
    assert not result.ok and result.duration >= 0
    assert conn.run("tr a-z A-Z", stdin=b"piped\n").stdout == "PIPED\n"
    with pytest.raises(CommandFailed) as failed:
        conn.run("echo disk full >&2; exit 2", check=True)
    assert failed.value.exit_code == 2 and "disk full" in str(failed.value)


def test_local_and_ssh_give_the_same_results(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    web1 = lab.hosts["web1"]
    ssh = SSHConnection("web1", web1.address, web1.port, lab.user, identity_files=(str(lab.client_key),),
                        known_hosts=str(lab.known_hosts), connect_timeout=5)
    local = LocalConnection("web1")
    try:
        over_ssh = [ssh.run(cmd) for cmd in PROBES]
    finally:
        ssh.close()
    over_local = [local.run(cmd) for cmd in PROBES]

    def essence(results: list) -> list[tuple]:
        return [(r.host, r.command, r.exit_code, r.stdout, r.stderr) for r in results]

    assert essence(over_local) == essence(over_ssh)
    assert over_local[1].stdout == "a b|c'd|42|\n"


def test_a_timeout_kills_the_whole_process_group() -> None:
    marker = unique_marker()
    conn = LocalConnection("self")

    with pytest.raises(CommandTimeout) as timed_out:
        conn.run(f"sleep 300.{marker} & sleep 301.{marker}", timeout=0.5)

    assert timed_out.value.timeout == 0.5 and "timed out after 0.5s" in str(timed_out.value)
    gone = wait_until(lambda: not processes_with(marker), timeout=5)
    assert gone, f"left running: {[p.info['cmdline'] for p in processes_with(marker)]}"


def test_cancel_stops_a_running_command_and_refuses_new_ones(tmp_path: Path) -> None:
    marker = unique_marker()
    conn = LocalConnection("self")
    raised: list[BaseException] = []

    def run() -> None:
        try:
            conn.run(f"sleep 300.{marker} & sleep 301.{marker}")
        except BaseException as exc:  # noqa: BLE001 -- handed to the test thread
            raised.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert wait_until(lambda: len(sleeps_with(marker)) == 2, timeout=10)
    conn.cancel()
    worker.join(timeout=15)

    assert not worker.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], Interrupted)
    assert wait_until(lambda: not processes_with(marker), timeout=5)
    with pytest.raises(Interrupted):
        conn.run("echo too late")


FLOOD_STDERR = ("echo first >&2; head -c 20971520 /dev/zero | tr '\\000' e >&2; "
                "echo >&2; echo the reason is at the end >&2; exit 3")


def _kept_first_and_last(result) -> None:
    assert result.exit_code == 3
    assert result.stderr.startswith("first\neee") and result.stderr.endswith("the reason is at the end\n")
    assert "bytes of output not kept ...]" in result.stderr and len(result.stderr) < 3 * 1024 * 1024


def test_a_command_flooding_stderr_keeps_its_first_and_last_lines_as_over_ssh() -> None:
    _kept_first_and_last(LocalConnection("self").run(FLOOD_STDERR, timeout=60))


def test_a_stream_into_a_file_keeps_stderr_bounded_too(tmp_path: Path) -> None:
    # the command writes its stdout into the file itself; its stderr is still read as it comes
    with (tmp_path / "out").open("wb") as sink:
        result = LocalConnection("self").stream("echo into the file; " + FLOOD_STDERR, sink, timeout=60)
    _kept_first_and_last(result)
    assert (tmp_path / "out").read_text() == "into the file\n"
