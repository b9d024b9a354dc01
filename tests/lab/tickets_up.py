"""Start the ticket round trip's servers by hand: Dovecot (IMAP) and the JIRA stand-in.

    python -m tests.lab.tickets_up [--subnet 127.0.10] [--dir DIR]

Prints the environment to export and the inventory lines to use, then keeps both servers
until Ctrl-C or SIGTERM and stops them. The fake JIRA holds one issue, ACME-412.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
from pathlib import Path

from tests.lab.fake_jira import PASSWORD, TOKEN, USER, FakeJira
from tests.lab.imap import MailServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subnet", default="127.0.10")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="runbook-tickets-lab-"))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    mail = MailServer(args.subnet).start()
    jira = FakeJira(args.subnet, base / "jira-tls").start()
    try:
        jira.add_issue("ACME-412", summary="Shop antwortet nicht, Kasse hängt",
                       created="2026-11-25T02:14:07.000+0100", priority="Highest")
        assert mail.cert is not None
        print(f"IMAP:  {mail.address}:{mail.imaps_port} (tls), :{mail.starttls_port} (starttls); "
              f"CA {mail.cert.ca}")
        print(f"  export RUNBOOK_IMAP_PASSWORD='{mail.password}'   # user {mail.user}")
        print(f"JIRA:  {jira.url}  CA {jira.cert.ca}")
        print(f"  export RUNBOOK_JIRA_TOKEN={TOKEN}   # or RUNBOOK_JIRA_USER={USER} RUNBOOK_JIRA_PASSWORD={PASSWORD}")
        print("Ctrl-C stops both.", flush=True)
        stop.wait()
    finally:
        jira.stop()
        mail.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
