"""The ``command`` action: run a read-only command and record its output."""

from __future__ import annotations

from dataclasses import dataclass

from runbook.actions.base import HostAction
from runbook.change import Outcome, Plan
from runbook.task import HostTask


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
        first = (result.stdout.strip().splitlines() or [""])[0][:120]
        if result.exit_code != params.expect_exit:
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
            return Plan(Outcome.FAILED, data=data, message=f"exit {result.exit_code}: {tail[0][:160]}")
        return Plan(Outcome.OK, data=data, message=first)
