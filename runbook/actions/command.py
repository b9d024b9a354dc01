"""The ``command`` actions: ``command`` runs a read-only command and records its output;
``command.change`` runs one that changes something, as a planned, confirmed, journaled change."""

from __future__ import annotations

from dataclasses import dataclass

from runbook.actions.base import HostAction
from runbook.change import Applied, Change, Message, Outcome, Plan
from runbook.errors import CommandFailed
from runbook.task import HostTask
from runbook.units import shorten


@dataclass(frozen=True)
class CommandParams:
    """cmd: the shell command line to run (it should only read); sudo: run it as root."""

    cmd: str
    sudo: bool = False
    expect_exit: int = 0


class CommandAction(HostAction):
    """Run a read-only shell command and record its output (fails when the exit code differs from expect_exit).

    Params: ``cmd`` (the command line), ``sudo`` (default false), ``expect_exit`` (default 0).
    """

    name = "command"
    Params = CommandParams

    def plan(self, task: HostTask, params: CommandParams) -> Plan:
        result = task.run(params.cmd, sudo=params.sudo or None)
        data = {"exit_code": result.exit_code, "stdout": result.stdout[-4000:], "stderr": result.stderr[-2000:]}
        first = shorten((result.stdout.strip().splitlines() or [""])[0], 120)
        if result.exit_code != params.expect_exit:
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
            return Plan(Outcome.FAILED, data=data, message=f"exit {result.exit_code}: {shorten(tail[0], 160)}")
        return Plan(Outcome.OK, data=data, message=first)


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
        done: dict[str, object] = {}

        def run(on: HostTask) -> Applied:
            result = on.run(params.cmd, sudo=params.sudo or None)
            done.update(exit_code=result.exit_code, stdout=result.stdout[-4000:], stderr=result.stderr[-2000:])
            if result.exit_code != params.expect_exit:
                raise CommandFailed(on.host.name, params.cmd, result.exit_code, result.stdout + result.stderr)
            return Applied(note=f"exit {result.exit_code}")

        message = (Message("text", {"text": params.why}) if params.why else
                   Message("command_run", {}))
        change = Change(f"run {params.cmd!r}" + (" as root" if params.sudo else ""), apply=run, message=message,
                        details={"cmd": params.cmd, "sudo": params.sudo})
        return Plan(Outcome.CHANGED, changes=(change,), state=done)

    def after(self, task: HostTask, params: ChangeCommandParams, plan: Plan, applied: list[str]) -> dict[str, object]:
        return dict(plan.state)
