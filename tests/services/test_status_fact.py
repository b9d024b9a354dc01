"""The services fact on this machine (LocalConnection): the real shell script, real processes."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from runbook.connection.local import LocalConnection
from runbook.services.control import start_command, status_command, stop_command
from runbook.services.model import ServiceSpec
from runbook.services.status import read_status


def test_status_reads_pid_file_liveness_and_start_time(tmp_path: Path) -> None:
    spawned = datetime.now(timezone.utc)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        (tmp_path / "live.pid").write_text(f"{proc.pid}\n")
        (tmp_path / "dead.pid").write_text("999999999\n")
        specs = [ServiceSpec("h", "live", "command", start="x", stop="y", pid_file=str(tmp_path / "live.pid")),
                 ServiceSpec("h", "dead", "command", start="x", stop="y", pid_file=str(tmp_path / "dead.pid")),
                 ServiceSpec("h", "gone", "command", start="x", stop="y", pid_file=str(tmp_path / "none.pid")),
                 ServiceSpec("h", "told", "command", start="x", stop="y", status="exit 3")]
        live, dead, gone, told = read_status(LocalConnection().run, specs, timeout=30)
        assert (live.state, live.main_pid) == ("running", proc.pid)
        assert live.since is not None and abs((live.since - spawned).total_seconds()) < 2
        assert (dead.state, dead.main_pid) == ("stopped", None) and gone.state == "stopped"
        assert (told.state, told.status_exit) == ("stopped", 3)
    finally:
        proc.kill()
        proc.wait()


def test_manager_commands_quote_inventory_values() -> None:
    unit = ServiceSpec("h", "x", "systemd", unit="shop; rm -rf /")
    assert start_command(unit) == "systemctl start 'shop; rm -rf /'"
    assert status_command(unit) == "systemctl is-active --quiet 'shop; rm -rf /'"
    sysv = ServiceSpec("h", "x", "sysv", script="tomcat9")
    assert stop_command(sysv) == "service tomcat9 stop"
