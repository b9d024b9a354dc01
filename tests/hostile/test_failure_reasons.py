"""A failed command's one-line result says why it failed (the last line of its stderr), not only
the command or the first line of a long message."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.errors import CommandFailed
from tests.support.cli import host_end, isolate, journal, local_inventory, run_main, write_playbook
from tests.support.loglab import fill, small_mount, write_log


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def test_the_reason_is_the_last_line_of_stderr() -> None:
    failed = CommandFailed("h1", "rm -f -- /var/log/a.1 && gzip -c /var/log/a.1 > /var/log/a.2.gz", 1,
                           output="compressing\ngzip: stdout: No space left on device\n",
                           stderr="gzip: warning\ngzip: stdout: No space left on device\n")

    assert failed.one_line() == ("h1: exit 1: gzip: stdout: No space left on device "
                                 "(rm -f -- /var/log/a.1 && gzip -c /var/log/a.1 > /var/log/a.2.gz)")
    assert str(failed).splitlines()[0].startswith("h1: exit 1: rm -f"), "the long form keeps the command first"


def test_a_rotation_that_fails_on_a_full_disk_says_so_in_its_result(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "host"
    logs = root / "var/log/nginx"
    with small_mount(logs, 1024, fstype="tmpfs"):
        write_log(logs / "access.log", 200_000, seed=1)
        write_log(logs / "access.log.1", 200_000, seed=2)  # rotated last time: now it is compressed
        fill(logs)
        inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"],
                                                                           "vars": {"log_root": str(root)}}})
        playbook = write_playbook(tmp_path / "pb.yml", {"name": "rotate", "action": "logs.rotate",
                                                        "params": {"sets": ["nginx-access"]}})

        code, _, err = run_main(capsys, "run", playbook, "-i", inventory, "--yes")

    assert code == 4, err
    result = host_end(journal(hermetic), "self1")
    assert result["outcome"] == "failed"
    assert "No space left on device" in result["message"], result["message"]
    assert "No space left on device" in err, "the terminal's result line says it too"


def test_a_failed_analysis_says_the_reason_not_the_usage_text(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An interpreter on the host that answers like an argparse program given a bad argument.
    python = tmp_path / "python3"
    python.write_text("#!/bin/sh\ncase \"$*\" in *version_info*) exit 0;; esac\n"
                      "echo 'usage: analyze [-h] [--format F] [--since T] [--until T] [--json] FILE ...' >&2\n"
                      "echo 'analyze: error: argument --since: expected one argument' >&2\nexit 2\n")
    python.chmod(0o755)
    root = tmp_path / "host"
    write_log(root / "var/log/nginx/access.log", 2000)
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"], "vars": {
        "log_root": str(root), "analysis_python": str(python)}}})
    playbook = write_playbook(tmp_path / "pb.yml", {"name": "analyse", "action": "logs.analyze",
                                                    "params": {"sets": ["nginx-access"]}})

    code, _, _ = run_main(capsys, "run", playbook, "-i", inventory)

    assert code == 4
    message = host_end(journal(hermetic), "self1")["message"]
    assert message.endswith("failed (exit 2): analyze: error: argument --since: expected one argument"), message
