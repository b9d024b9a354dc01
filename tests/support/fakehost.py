"""A host that answers an action's commands from a table: given these facts, expect this plan.

``FakeConnection`` answers each command with the first ``Reply`` whose pattern the command
matches, and fails the test on any other command, so a plan that runs something it should
not (or a change applied by mistake) is caught. Replies may carry ``{nonce}``: it becomes the
nonce of the command they answer, as a real host's output would carry it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from runbook.actions import ACTIONS
from runbook.actions.params import build
from runbook.change import Plan, RunPlan
from runbook.connection.base import CommandResult
from runbook.inventory import load_inventory
from runbook.journal import Journal
from runbook.task import HostTask

NOW = datetime(2026, 11, 25, 1, 14, tzinfo=timezone.utc)
_NONCE = re.compile(r"@@(?:runbook |service-)([0-9a-f]{8,64})")


@dataclass(frozen=True)
class Reply:
    """What the host prints for a command that ``pattern`` (a regex) is found in."""

    pattern: str
    stdout: str = ""
    exit_code: int = 0


@dataclass
class FakeConnection:
    """The host's side of the table; ``ran`` lists every command it answered."""

    host: str
    replies: Sequence[Reply]
    ran: list[str] = field(default_factory=list)
    local: bool = False

    def open(self) -> None:
        """Nothing to connect."""

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None,
            check: bool = False, stdin: bytes | None = None) -> CommandResult:
        for reply in self.replies:
            if re.search(reply.pattern, command, re.DOTALL):
                self.ran.append(command)
                nonce = _NONCE.search(command)
                stdout = reply.stdout.replace("{nonce}", nonce.group(1) if nonce else "")
                return CommandResult(self.host, command, reply.exit_code, stdout, "", 0.01)
        raise AssertionError(f"{self.host}: unexpected command: {command[:400]}")

    def stream(self, command: str, sink: BinaryIO, **kw: Any) -> CommandResult:
        raise AssertionError(f"{self.host}: unexpected stream: {command[:400]}")

    def cancel(self) -> None:
        """Nothing runs."""

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class FakeHosts:
    """An inventory of hosts (no SSH: each answers from its table), their tasks in one step."""

    tmp_path: Path
    hosts: Mapping[str, Mapping[str, Any]]
    replies: Mapping[str, Sequence[Reply]]
    connections: dict[str, FakeConnection] = field(default_factory=dict)

    def tasks(self, *, check: bool = True) -> dict[str, HostTask]:
        """One task per host, as the engine makes them for a step."""
        path = self.tmp_path / "inventory.yml"
        path.write_text(yaml.safe_dump({"customer": {"name": "Table GmbH"},
                                        "hosts": {name: dict(spec) for name, spec in self.hosts.items()}}))
        inventory = load_inventory([path])
        journal = Journal(self.tmp_path / "runs" / "20261125T011400Z-7ab1", clock=lambda: NOW)
        tasks = {}
        for name in self.hosts:
            conn = self.connections.setdefault(name, FakeConnection(name, list(self.replies.get(name, ()))))
            host = inventory.hosts[name]
            tasks[name] = HostTask(host=host, connect=lambda conn=conn: conn, journal=journal, step=0,
                                   vars=dict(host.vars), timeout=30.0, check=check, clock=lambda: NOW,
                                   inventory=inventory)
        return tasks


def plan_host(tmp_path: Path, action: str, params: Mapping[str, Any], replies: Sequence[Reply], *,
              roles: Sequence[str] = ("web",), host_vars: Mapping[str, Any] | None = None) -> Plan:
    """``action``'s plan for one host ``web1`` whose commands are answered by ``replies``."""
    fake = FakeHosts(tmp_path, {"web1": {"address": "192.0.2.11", "roles": list(roles),
                                         "vars": dict(host_vars or {})}}, {"web1": replies})
    task = fake.tasks()["web1"]
    return ACTIONS[action]().plan(task, build(ACTIONS[action].Params, dict(params), rendered=True))


def plan_run(fake: FakeHosts, action: str, params: Mapping[str, Any]) -> RunPlan[Any]:
    """A run-scoped action's plan over every host of ``fake`` (the same params for each)."""
    tasks = fake.tasks()
    typed = build(ACTIONS[action].Params, dict(params), rendered=True)
    return ACTIONS[action]().plan_run(tasks, {name: typed for name in tasks})
