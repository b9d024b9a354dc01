"""The ``command`` actions.

``command`` runs a shell command on each host and records its output. A command may change
anything, so it is planned, not run: ``--check`` shows the command line and runs nothing, and
a step that says ``confirm: true`` asks before it runs. A step that only reads says
``check_mode: run``: then the command runs at once, in check mode too, and its output is the
step's result (diagnostics: ``uname -r``, ``df -h /var``).

``command.change`` (what ``runbook exec --change`` runs) always asks before it runs, and its
``why`` is the report's words for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook.actions.base import HostAction
from runbook.change import Applied, Change, Message, Outcome, Plan
from runbook.connection.base import CommandResult
from runbook.errors import ActionError
from runbook.task import HostTask
from runbook.units import shorten

STDOUT_CHARS = 4000
STDERR_CHARS = 2000


@dataclass(frozen=True)
class CommandParams:
    """cmd: the shell command line to run; sudo: run it as root; expect_exit: the exit code
    that means success."""

    cmd: str
    sudo: bool = False
    expect_exit: int = 0


@dataclass
class _Ran:
    """What the applied command printed, for ``after`` (the step's result and ``register``)."""

    result: dict[str, Any] = field(default_factory=dict)


class CommandAction(HostAction):
    """Run a shell command and record its output (shown, not run, in check mode unless the step says `check_mode: run`).

    Params: ``cmd`` (the command line), ``sudo`` (default false), ``expect_exit`` (default 0).
    A different exit code fails the host, with the last line the command printed.
    """

    name = "command"
    Params = CommandParams

    def plan(self, task: HostTask, params: CommandParams) -> Plan:
        if task.read_only:
            result = task.run(params.cmd, sudo=params.sudo or None)
            data = _output(result)
            if result.exit_code != params.expect_exit:
                return Plan(Outcome.FAILED, data=data, message=_failure(result))
            return Plan(Outcome.OK, data=data, message=_first_line(result))
        ran = _Ran()

        def apply(t: HostTask) -> Applied:
            return Applied(_first_line(_run_expected(t, params, ran)) or None)

        change = Change(f"run: {params.cmd}", apply=apply, sudo=params.sudo or None,
                        message=Message("command_run", {"step": task.step_name}))
        return Plan(Outcome.CHANGED, changes=(change,), message=f"run: {params.cmd}", state=ran)

    def after(self, task: HostTask, params: CommandParams, plan: Plan, applied: list[str]) -> dict[str, Any]:
        return _after(plan)


def _run_expected(task: HostTask, params: CommandParams | ChangeCommandParams, ran: _Ran) -> CommandResult:
    """Apply the command: its output kept for the step's result, an unexpected exit an error."""
    result = task.run(params.cmd, sudo=params.sudo or None)
    ran.result = _output(result)
    if result.exit_code != params.expect_exit:
        raise ActionError(f"{task.host.name}: {_failure(result)}")
    return result


def _after(plan: Plan) -> dict[str, Any]:
    """What the applied command printed (the step's result data, and ``register``)."""
    return dict(plan.state.result) if isinstance(plan.state, _Ran) else {}


def _output(result: CommandResult) -> dict[str, Any]:
    return {"exit_code": result.exit_code, "stdout": result.stdout[-STDOUT_CHARS:],
            "stderr": result.stderr[-STDERR_CHARS:]}


def _first_line(result: CommandResult) -> str:
    return shorten((result.stdout.strip().splitlines() or [""])[0], 120)


def _failure(result: CommandResult) -> str:
    """Why it failed: the exit code and the last line it printed (stderr first)."""
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
    return f"exit {result.exit_code}: {shorten(tail[0], 160)}"


@dataclass(frozen=True)
class ChangeCommandParams:
    """cmd: the shell command line that changes something; sudo: run it as root; why: what it
    does, in words a customer report may quote (else the report says a step was done by hand)."""

    cmd: str
    sudo: bool = False
    expect_exit: int = 0
    why: str | None = None


class ChangeCommandAction(HostAction):
    """Run a shell command that changes something: --check shows it, applying asks first, the journal records it as a change.

    Params: ``cmd``, ``sudo`` (default false), ``expect_exit`` (default 0), ``why`` (the report's words for it).
    ``runbook exec --change`` runs this action.
    """

    name = "command.change"
    Params = ChangeCommandParams
    confirm = True

    def plan(self, task: HostTask, params: ChangeCommandParams) -> Plan:
        ran = _Ran()

        def run(on: HostTask) -> Applied:
            return Applied(note=f"exit {_run_expected(on, params, ran).exit_code}")

        message = (Message("text", {"text": params.why}) if params.why else
                   Message("command_run", {}))
        change = Change(f"run {params.cmd!r}" + (" as root" if params.sudo else ""), apply=run, message=message,
                        details={"cmd": params.cmd, "sudo": params.sudo})
        return Plan(Outcome.CHANGED, changes=(change,), state=ran)

    def after(self, task: HostTask, params: ChangeCommandParams, plan: Plan, applied: list[str]) -> dict[str, Any]:
        return _after(plan)
