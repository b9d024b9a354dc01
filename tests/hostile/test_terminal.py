"""Whatever came from a host or a file reaches the engineer's terminal as text: no escape
sequence of its own (a retitled window, a cleared screen, a hyperlink), no bidirectional
override, no Rich markup interpreted, no MarkupError -- on a real terminal (a pty, colours on),
to a pipe, and with NO_COLOR."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import REPO, cli_env, local_inventory, no_traceback, run_dirs, write_playbook, write_yaml

# A host's output and a playbook's words, as an attacker (or a broken program) might make them.
OSC_TITLE = "\x1b]0;PWNED\x07"
CLEAR = "\x1b[2J"
MARKUP = "[/bold] [red]red[/red] [link=https://evil.example]click[/link]"
RLO = "\u202e"
HOSTILE = f"{OSC_TITLE}{CLEAR}{MARKUP} {RLO}txt.exe"

# Rich's own colours (SGR) and, on a terminal, the live progress lines' own cursor moves
# (hide/show the cursor, erase the line, go up a line) are allowed; nothing else that starts
# with ESC: no title (OSC), no screen clear.
SGR = re.compile(r"\x1b\[(?:[0-9;]*m|\?25[lh]|2K|[0-9]*A)")


def shows_as_text(output: str) -> None:
    """No control sequence but Rich's colours; the hostile words visible as what they are."""
    bare = SGR.sub("", output)
    assert "\x1b" not in bare and "\x07" not in bare and "\x9b" not in bare, repr(bare[:2000])
    assert RLO not in bare, "a right-to-left override would show the line reversed"
    # the sequence is shown written out (Rich itself drops BEL, backspace and CR from text)
    assert "\\x1b]0;PWNED" in bare and "\\x1b[2J" in bare
    assert "[/bold]" in bare and "[link=https://evil.example]" in bare, "markup is shown, not interpreted"
    no_traceback(output)
    assert "MarkupError" not in output and "internal error" not in output


def run_in(mode: str, *args: object, runs: Path, cwd: Path = REPO) -> tuple[int, str]:
    """``python -m runbook ARGS`` with stdout and stderr on a pty ("tty"), or on a pipe with or
    without NO_COLOR: exit status and everything it wrote."""
    env = cli_env(runs)
    env.pop("NO_COLOR", None)
    if mode == "pipe-no-color":
        env["NO_COLOR"] = "1"
    argv = [sys.executable, "-m", "runbook", *map(str, args)]
    if mode != "tty":
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120, check=False)
        return done.returncode, done.stdout + done.stderr
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120  # a bound against a hang, not a timing
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the pty closed: the process is gone
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    code = proc.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace")


MODES = ["tty", "pipe", "pipe-no-color"]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """One run whose playbook, step and command output carry the hostile words; (inventory,
    playbook, runs dir)."""
    base = tmp_path_factory.mktemp("terminal")
    inventory = local_inventory(base / "inv.yml", hosts={"self1": {"roles": ["web"], "vars": {"motd": HOSTILE}}})
    printf = json.dumps(HOSTILE)[1:-1].replace("'", "")  # \u001b etc. for printf's %b
    playbook = write_playbook(base / "pb.yml", {
        "name": f"say {HOSTILE}", "action": "command",
        "params": {"cmd": f"printf '%b\\n' '{printf}'; printf '%b\\n' '{printf}' >&2"}, "check_mode": "run"},
        name=f"book {HOSTILE}")
    runs = base / "runs"
    code, output = run_in("pipe", "run", playbook, "-i", inventory, runs=runs)
    assert code == 0, output
    return inventory, playbook, runs


@pytest.mark.parametrize("mode", MODES)
def test_runbook_run_shows_host_output_as_text(hostile_run: tuple[Path, Path, Path], tmp_path: Path,
                                               mode: str) -> None:
    inventory, playbook, _ = hostile_run

    code, output = run_in(mode, "run", playbook, "-i", inventory, runs=tmp_path / "runs")

    assert code == 0, output
    shows_as_text(output)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", ["show", "show-json", "list"])
def test_runs_show_and_list_show_journals_as_text(hostile_run: tuple[Path, Path, Path], mode: str,
                                                   command: str) -> None:
    _, _, runs = hostile_run
    (run,) = run_dirs(runs)
    args = {"show": ("runs", "show", run.name), "show-json": ("runs", "show", run.name, "--json"),
            "list": ("runs", "list")}[command]

    code, output = run_in(mode, *args, runs=runs)

    assert code == 0, output
    if command == "show-json":  # JSON writes control characters as \u001b: text, and the data kept
        assert "\x1b" not in SGR.sub("", output) and "\\u001b]0;PWNED" in output
    elif command == "list":  # the playbook's name, in a narrow column
        bare = SGR.sub("", output)
        assert "\x1b" not in bare and "\x07" not in bare and "MarkupError" not in output
    else:
        shows_as_text(output)


@pytest.mark.parametrize("mode", MODES)
def test_inventory_show_shows_a_var_as_text(hostile_run: tuple[Path, Path, Path], tmp_path: Path,
                                            mode: str) -> None:
    inventory, _, _ = hostile_run

    code, output = run_in(mode, "inventory", "show", "self1", "-i", inventory, runs=tmp_path / "runs")

    assert code == 0, output
    shows_as_text(output.replace("\\\\x1b", "\\x1b"))  # repr() of the var writes the backslash twice


@pytest.mark.parametrize("mode", MODES)
def test_logs_analyze_shows_log_lines_as_text(tmp_path: Path, mode: str) -> None:
    log = tmp_path / "error.log"
    log.write_text("".join(f"2026/11/25 02:{m:02d}:00 [error] 1#1: *{m} {HOSTILE} failed, client: 10.0.0.{m}\n"
                           for m in range(5)), encoding="utf-8")

    code, output = run_in(mode, "logs", "analyze", log, runs=tmp_path / "runs")

    assert code == 0, output
    bare = SGR.sub("", output)
    assert "\x1b" not in bare and "\x07" not in bare and RLO not in bare, repr(bare[:2000])
    assert "MarkupError" not in output and "internal error" not in output
    assert "[link=https://evil.example]" in bare


@pytest.mark.parametrize("mode", MODES)
def test_an_error_about_a_hostile_key_is_one_line_of_text(tmp_path: Path, mode: str) -> None:
    inventory = write_yaml(tmp_path / "inv.yml", {"customer": {"name": "X"}, "hosts": {"web1": {HOSTILE: 1}}})

    code, output = run_in(mode, "inventory", "list", "-i", inventory, runs=tmp_path / "runs")

    assert code == 78
    assert len(output.strip().splitlines()) == 1, output
    shows_as_text(output)


@pytest.mark.parametrize("mode", ["tty", "pipe"])
def test_an_incidents_summary_and_notes_show_as_text(tmp_path: Path, mode: str) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    reports = tmp_path / "reports"
    received = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    for args in (("incident", "open", "X-1", "-c", "2", "--received", received, "--summary", HOSTILE, "-i", inventory),
                 ("incident", "note", "X-1", HOSTILE, "--by", "Eva Berger <eva@service.example>")):
        code, output = run_in("pipe", *args, "--reports-dir", reports, runs=tmp_path / "runs")
        assert code == 0, output

    for args in (("incident", "show", "X-1"), ("incident", "list")):
        code, output = run_in(mode, *args, "--reports-dir", reports, runs=tmp_path / "runs")
        assert code == 0, output
        shows_as_text(output)
