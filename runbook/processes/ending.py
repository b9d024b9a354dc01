"""Ending a process safely: TERM, a grace period, KILL only if it is still the same process.

Before every signal the pid must still have the start time and command line it had when it
was found (``runbook.processes.identity``), so a reused pid is never hit. A stopped process
gets CONT after TERM so it can act on it. Each signal and its result goes to the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from runbook.change import INTERNAL, Applied, Message
from runbook.errors import ActionError
from runbook.facts.processes import ProcessInfo
from runbook.processes.identity import ProcessIdentity, signal_script, wait_gone_script
from runbook.task import HostTask

KILL_WAIT = 5.0


def ended_message(proc: ProcessInfo, *, hung: bool) -> Message:
    """The report's message for ending ``proc``: "the hung process" only when the host's hung
    rules chose it."""
    # the pid as text: an identifier reads "PID 4242", never the number "4.242"
    return Message("process_killed" if hung else "process_ended", {"name": proc.name, "pid": str(proc.pid)})


def ender(identity: ProcessIdentity, command: str, grace: float) -> Callable[[HostTask], str | Applied]:
    """The ``apply`` of a change that ends the process ``identity`` names (TERM, ``grace``, KILL)."""
    return lambda task: _end(task, identity, command, grace)


def _end(task: HostTask, identity: ProcessIdentity, command: str, grace: float) -> str | Applied:
    began = time.monotonic()
    first = _signal(task, identity, command, "TERM")
    if first != "sent":
        # Gone or someone else's pid by now: we ended nothing, the customer's report says nothing.
        return Applied(_not_sent(first), message_id=INTERNAL)
    if identity.state == "T":
        _signal(task, identity, command, "CONT")   # a stopped process handles TERM only once continued
    after = task.run(wait_gone_script(identity, grace), timeout=grace + 30).stdout.split()
    if after and after[0] != "alive":
        _note(task, identity, command, "TERM", f"ended after {time.monotonic() - began:.1f}s")
        return f"ended by TERM after {time.monotonic() - began:.1f}s"
    second = _signal(task, identity, command, "KILL")
    if second != "sent":
        return _not_sent(second)
    final = task.run(wait_gone_script(identity, KILL_WAIT), timeout=KILL_WAIT + 30).stdout.split()
    if final and final[0] == "alive":
        state = final[1] if len(final) > 1 else "?"
        _note(task, identity, command, "KILL", f"still alive in state {state}")
        raise ActionError(f"pid {identity.pid} survived KILL (state {state}"
                          + ("; uninterruptible I/O: only the I/O completing or a reboot ends it)" if state == "D" else ")"))
    _note(task, identity, command, "KILL", f"ended after {time.monotonic() - began:.1f}s")
    return f"did not end within {grace:g}s of TERM; ended by KILL"


def _signal(task: HostTask, identity: ProcessIdentity, command: str, signal: str) -> str:
    words = task.run(signal_script(identity, signal)).stdout.split()
    result = words[-1] if words else "gone"
    _note(task, identity, command, signal, result)
    return result


def _note(task: HostTask, identity: ProcessIdentity, command: str, signal: str, result: str) -> None:
    task.journal.write("signal", step=task.step, host=task.host.name, pid=identity.pid, command=command,
                       signal=signal, result=result, start_ticks=identity.start_ticks)


def _not_sent(result: str) -> str:
    return {"gone": "already gone before the signal",
            "reused": "not signalled: the pid now belongs to another process (start time differs)",
            "changed": "not signalled: the pid runs another command line now"}.get(result, result)
