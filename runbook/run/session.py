"""``runbook shell HOST``: an interactive session with the inventory's connection settings,
journalled like a run (kind "shell"): that it was opened, by whom, and when it was closed.

What is typed in the session is not recorded: it may hold passwords, and a journal is read by
reports. The journal says the session happened, so the incident's record shows that work was
done by hand on that host at that time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from runbook.connection import ConnectOptions, SSHConnection, connect
from runbook.connection.interactive import run_session, terminal_size
from runbook.errors import ConnectError
from runbook.inventory import Host, Inventory
from runbook.journal import Journal, current_user, new_run_id
from runbook.paths import Paths
from runbook.run.start import inventory_digest, run_operator


def open_session_journal(inventory: Inventory, host: Host, paths: Paths, *, incident: str | None,
                         clock: Callable[[], datetime]) -> Journal:
    """A journal of kind "shell" with its ``run.start``, as ``runbook runs list`` shows runs."""
    operator = run_operator(inventory, [host])
    run_id = new_run_id(clock())
    journal = Journal(paths.runs / run_id, clock=clock)
    journal.write("run.start", run_id=run_id, kind="shell", user=current_user(), hostname=socket.gethostname(),
                  argv=list(sys.argv), cwd=os.getcwd(), check=False,
                  playbook={"path": "<shell>", "name": f"shell {host.name}", "sha256": ""},
                  inventory={"paths": [str(p) for p in inventory.files], "sha256": inventory_digest(inventory.files)},
                  customers={c.slug: c.name for c in inventory.customers.values() if c.slug == host.customer},
                  operator=operator.to_json() if operator else None, incident=incident, hosts=[host.name],
                  host_info={host.name: {"address": host.address, "roles": list(host.roles),
                                         "customer": host.customer}}, forks=1)
    return journal


def interactive_shell(inventory: Inventory, host: Host, paths: Paths, options: ConnectOptions, *,
                      incident: str | None = None, notice: Callable[[str], None] = lambda text: None,
                      clock: Callable[[], datetime] | None = None) -> tuple[int, Path]:
    """Connect (raising ConnectError naming the failed layer), run the session on this
    terminal, journal its opening and closing; the remote shell's exit status and the journal."""
    clock = clock or (lambda: datetime.now(timezone.utc))
    journal = open_session_journal(inventory, host, paths, incident=incident, clock=clock)
    started = time.monotonic()
    status, outcome = 255, "failed"
    try:
        conn = connect(host, options)
        try:
            if isinstance(conn, SSHConnection):
                columns, lines = terminal_size()
                chan = conn.open_shell(os.environ.get("TERM") or "xterm", columns, lines)
                journal.write("shell.open", host=host.name, address=host.address, port=host.port, user=conn.user,
                              jump=host.jump)
                notice(f"shell on {host.name} ({conn.user}@{host.address}:{host.port}"
                       + (f" via {host.jump}" if host.jump else "") + "); exit the shell to end the session")
                status = run_session(chan)
            else:  # connection: local -- this machine's own shell
                journal.write("shell.open", host=host.name, address="local", port=None, user=current_user(), jump=None)
                status = subprocess.call([os.environ.get("SHELL") or "/bin/sh"])
            outcome = "completed"
        finally:
            conn.close()
    except ConnectError as exc:
        journal.write("shell.error", host=host.name, layer=exc.layer, message=str(exc))
        raise
    finally:
        duration = round(time.monotonic() - started, 3)
        if outcome == "completed":
            journal.write("shell.close", host=host.name, exit_status=status, duration=duration)
        journal.write("run.end", status=outcome, counts={}, duration=duration)
        journal.close()
    return status, journal.path
