"""Exit statuses, in one place. Only ``runbook.cli.main`` calls ``sys.exit``.

0-3 follow the monitoring-plugins convention for ``runbook sweep`` (OK, WARNING, CRITICAL,
UNKNOWN, worst host wins). ``runbook run`` uses 0, 4 and 5. Bad input is never 0: 78 for
the inventory, a playbook or a contract, 65 for a ticket or an e-mail that cannot be taken,
64 for a command-line value. 73 when a local file or directory cannot be written (the run's
verdict is still printed).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0              # everything succeeded / sweep: all OK
    WARNING = 1         # sweep: worst status WARNING
    CRITICAL = 2        # sweep: worst status CRITICAL
    UNKNOWN = 3         # sweep: worst status UNKNOWN (e.g. a host unreachable)
    FAILED = 4          # run: a step failed on a host, or the run was aborted; logs analyze: nothing read
    UNREACHABLE = 5     # run: a host could not be reached (and nothing failed)
    USAGE = 64          # bad command line (sysexits EX_USAGE)
    DATA = 65           # bad input data: a ticket or an e-mail (sysexits EX_DATAERR)
    SOFTWARE = 70       # a bug in runbook (sysexits EX_SOFTWARE); the message says where to look
    OSERR = 71          # this machine's limits (open files) cannot carry the run (sysexits EX_OSERR)
    CANTCREAT = 73      # a local file or directory cannot be written; the message names it (EX_CANTCREAT)
    CONFIG = 78         # bad inventory, playbook or contract (sysexits EX_CONFIG)
    INTERRUPTED = 130   # stopped by SIGINT/SIGTERM; the journal is closed


def for_run(status: str, counts: dict[str, int], *, local_failure: bool = False) -> ExitCode:
    """A run's exit status: interrupted, then a local file that could not be written (the
    journal, an archive), then failed or aborted, then unreachable, else OK."""
    if status == "interrupted":
        return ExitCode.INTERRUPTED
    if local_failure:
        return ExitCode.CANTCREAT
    if status == "aborted" or counts.get("failed"):
        return ExitCode.FAILED
    if counts.get("unreachable"):
        return ExitCode.UNREACHABLE
    return ExitCode.OK
