"""What a run shows in a real terminal (a pty): a live line per host at work, the [y/N] question
with the global order of an ordered restart, table cells shortened at a word with "…"; and what
it does not do to a pipe (no live lines, no shortening, no wrapping at 80 columns)."""

from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path

import pytest
from rich.console import Console

from runbook.cli.progress import LiveHosts
from runbook.connection.ssh import READ_CHUNK
from runbook.inventory import load_inventory
from runbook.journal import read_events
from runbook.paths import Paths
from runbook.playbook import load_playbook
from runbook.run.options import RunOptions
from runbook.run.start import plan_hosts, start_run
from runbook.task import HostActivity
from tests.lab import Lab
from tests.lab.services import LabStack
from tests.support.cli import command_step, lab_inventory, no_traceback, runbook_cli, write_playbook, write_yaml
from tests.support.loglab import log_root, write_inventory, write_log
from tests.support.terminal import Terminal, in_terminal

#: wider than an 80-column table's message cell, shorter than a command's message (160)
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa"


@pytest.fixture
def inventory(lab: Lab, tmp_path: Path) -> Path:
    return lab_inventory(lab, tmp_path / "inventory.yml")


def test_a_live_line_per_host_says_how_long_and_what_it_waits_for(inventory: Path, tmp_path: Path) -> None:
    term = Terminal("exec", "-i", inventory, "-l", "web1,db1", "sleep 3; echo slept",
                    env={"RUNBOOK_RUNS_DIR": str(tmp_path / "runs")}, columns=100)
    for host in ("web1", "db1"):
        term.wait_for(rf"{host}\s+\d+s\s+\S.*running: sleep 3; echo slept")
    assert term.finish() == 0
    assert re.search(r"web1 \| ok \| exit 0\s+slept", term.text) and re.search(r"db1 \| ok \| exit 0\s+slept", term.text)
    no_traceback(term.text)
    # the live lines are drawn in place and gone at the end: the last screen lines are the results
    assert "running:" not in term.text.rstrip().splitlines()[-1]

    piped = runbook_cli("exec", "-i", inventory, "-l", "web1", "sleep 1; echo slept", runs_dir=tmp_path / "piped")
    assert piped.returncode == 0, piped.stderr
    assert "running:" not in piped.stdout + piped.stderr  # no live line into a pipe or a cron mail


def test_a_long_message_is_shortened_at_a_word_in_a_terminal_and_whole_in_a_pipe(inventory: Path,
                                                                                 tmp_path: Path) -> None:
    book = write_playbook(tmp_path / "loud.yml", command_step(f"echo '{WORDS}' >&2; exit 3", name="loud"))
    status, term = in_terminal("run", book, "-i", inventory, "-l", "web1",
                               env={"RUNBOOK_RUNS_DIR": str(tmp_path / "runs")}, columns=80)
    assert status == 4
    row = next(line for line in term.text.splitlines() if "web1" in line and "│" in line and "failed" in line)
    assert len(row) <= 80
    message = row.split("│")[-2].strip()
    assert message.endswith("…"), row
    # every word shown is whole: the cut falls between words
    shown = message.removesuffix("…").removeprefix("exit 3: ").split()
    assert shown and shown == WORDS.split()[:len(shown)]

    piped = runbook_cli("run", book, "-i", inventory, "-l", "web1", runs_dir=tmp_path / "piped",
                        env={"COLUMNS": ""})
    assert piped.returncode == 4
    assert "…" not in piped.stdout + piped.stderr
    # one line with the whole message although it is far wider than 80 columns
    assert any(WORDS in line for line in (piped.stdout + piped.stderr).splitlines())


RESTART = {"name": "restart the stack", "steps": [
    {"name": "restart", "action": "services.restart", "params": {"gate_interval": 0.2}}]}


def test_an_ordered_restart_asks_y_n_with_the_global_order(stack: LabStack, stack_inventory: Path,
                                                           tmp_path: Path) -> None:
    before = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}
    book = write_yaml(tmp_path / "restart.yml", RESTART)
    term = Terminal("run", book, "-i", stack_inventory, "-l", "web1,app1,db1",
                    env={"RUNBOOK_RUNS_DIR": str(tmp_path / "runs")}, columns=120)
    screen = term.wait_for(r"Apply\? \[y/N\]")
    asked = screen[screen.index("would change"):]
    assert "one after the other in this order:" in asked
    numbered = re.findall(r"^\s+(\d+)\. (\w+): (.*)$", asked, re.M)
    assert [int(n) for n, _, _ in numbered] == list(range(1, len(numbered) + 1))
    stops = [host for _, host, sentence in numbered if sentence.startswith("stop")]
    starts = [host for _, host, sentence in numbered if sentence.startswith("start")]
    # dependants stopped first, dependencies started first: the order the restart will keep
    assert stops == ["web1", "app1", "db1"] and starts == ["db1", "app1", "web1"], asked
    term.type("n\n")
    term.finish()
    assert {n: stack.main_pid(n) for n in before} == before  # "n": nothing restarted
    no_traceback(term.text)


class Recorder(HostActivity):
    """What the engine tells a live display, kept (the display itself is drawn by Rich)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []
        self.lock = threading.Lock()

    def started(self, host: str, step: str) -> None:
        with self.lock:
            self.events.append(("started", host, step))

    def waiting(self, host: str, what: str) -> None:
        with self.lock:
            self.events.append(("waiting", host, what))

    def transferred(self, host: str, nbytes: int) -> None:
        with self.lock:
            self.events.append(("bytes", host, nbytes))

    def finished(self, host: str) -> None:
        with self.lock:
            self.events.append(("finished", host, None))


def test_an_archive_reports_its_bytes_as_they_stream(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    write_log(nginx / "access.log.1", 500_000, age_days=1, seed=2)
    # hardly compressible, so the archive is streamed in many pieces
    (nginx / "access.log").write_text("".join(f"{os.urandom(40).hex()}\n" for _ in range(12_000)))
    book = load_playbook(tmp_path / "archive.yml",
                         text="name: archive\nsteps:\n  - {name: Secure logs, action: logs.archive}\n")
    inv = load_inventory([inventory])
    recorder = Recorder()
    runs = tmp_path / "runs"
    engine = start_run(inv, plan_hosts(inv, book, "web1"), book, Paths(runs, runs),
                       RunOptions(assume_yes=True), activity=recorder, argv=["test"])
    result = engine.run()
    engine.journal.close()
    assert result.outcomes[-1].outcome == "changed", result.outcomes[-1].message
    kinds = [kind for kind, _, _ in recorder.events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert recorder.events[0] == ("started", "web1", "Secure logs")
    waits = [what for kind, _, what in recorder.events if kind == "waiting"]
    assert "connecting" in waits and any(str(w).startswith("running: ") for w in waits)
    (artifact,) = [e for e in read_events(engine.journal.path) if e["event"] == "artifact"]
    archive = runs / result.run_id / artifact["path"]
    # every byte of the archive (and its manifest's few) went past the live line's counter, piece by piece
    streamed = sum(int(n) for kind, _, n in recorder.events if kind == "bytes")  # type: ignore[call-overload]
    assert archive.stat().st_size <= streamed <= archive.stat().st_size + 64 * 1024
    # at least one report per read of the channel: how many reads depends on how the bytes
    # arrive (the machine's load), never fewer than the archive in READ_CHUNK pieces
    assert archive.stat().st_size > 500_000
    assert kinds.count("bytes") >= max(2, -(-archive.stat().st_size // READ_CHUNK))


def test_a_live_line_shows_bytes_and_gives_way_at_a_word() -> None:
    live = LiveHosts(Console(width=60, file=io.StringIO()))
    live.started("web1", "Secure logs")
    live.started("db-primary", "Secure logs")
    live.transferred("web1", 35 * 1024 * 1024)
    live.waiting("web1", "running: tar -C /var/log -czf - nginx apache2 postgresql mysql")
    live.waiting("db-primary", "connecting")
    web, db = live.lines()
    assert web.startswith("web1          ") and "35.0 MiB" in web and web.endswith("…") and len(web) <= 59
    assert web.removesuffix("…").split()[-1] in "running: tar -C /var/log -czf - nginx apache2".split()
    assert db.startswith("db-primary") and db.endswith("connecting")
    assert web.index("Secure logs") == db.index("Secure logs")  # columns stay aligned
    live.finished("web1")
    assert [line.split()[0] for line in live.lines()] == ["db-primary"]
