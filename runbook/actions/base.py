"""What an action is: it reads facts, returns a plan; the engine applies the plan.

An action never decides whether it is in check mode: it plans (reading is always allowed),
and the engine either records the plan (``--check``) or applies it change by change. Dry run
is therefore the same code path as a real run, up to the last step.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Callable, ClassVar, Iterator, Mapping

from runbook.connection.base import CommandResult, Connection
from runbook.errors import CommandFailed, CommandTimeout, ConnectError, Interrupted
from runbook.inventory.model import Host
from runbook.journal import Journal


class HostTask:
    """One action's view of one host in one step: its connection, vars and journal.

    Every command goes through ``run``/``stream`` so it lands in the journal with its exit
    code, duration and (truncated) output.
    """

    def __init__(self, *, host: Host, connect: Callable[[], Connection], journal: Journal, step: int,
                 vars: Mapping[str, Any], timeout: float, check: bool, clock: Callable[[], datetime],
                 inventory: Any = None) -> None:
        self.host = host
        self._connect = connect
        self._conn: Connection | None = None
        self.journal = journal
        self.step = step
        self.vars = vars
        self.timeout = timeout
        self.check = check
        self.clock = clock
        self.inventory = inventory

    @property
    def conn(self) -> Connection:
        """The host's connection, opened on first use (raises ConnectError naming the layer)."""
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    @property
    def artifacts_dir(self) -> Path:
        path = self.journal.artifacts_dir / self.host.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, command: str, *, sudo: bool | None = None, timeout: float | None = None,
            check: bool = False, stdin: bytes | None = None) -> CommandResult:
        sudo = self.host.sudo if sudo is None else sudo
        timeout = self.timeout if timeout is None else timeout
        conn = self.conn
        with self._recorded_if_cut_short(command):
            result = conn.run(command, sudo=sudo, timeout=timeout, stdin=stdin)
        self.journal.command(step=self.step, host=self.host.name, command=command, exit_code=result.exit_code,
                             duration=result.duration, stdout=result.stdout, stderr=result.stderr)
        if check and not result.ok:
            raise CommandFailed(self.host.name, command, result.exit_code, result.stdout + result.stderr)
        return result

    def stream(self, command: str, sink: BinaryIO, *, sudo: bool | None = None,
               timeout: float | None = None, stdin: bytes | None = None) -> CommandResult:
        sudo = self.host.sudo if sudo is None else sudo
        timeout = self.timeout if timeout is None else timeout
        conn = self.conn
        with self._recorded_if_cut_short(command):
            result = conn.stream(command, sink, sudo=sudo, timeout=timeout, stdin=stdin)
        self.journal.command(step=self.step, host=self.host.name, command=command, exit_code=result.exit_code,
                             duration=result.duration, stdout="", stderr=result.stderr)
        return result

    @contextmanager
    def _recorded_if_cut_short(self, command: str) -> Iterator[None]:
        """Journal a command that never came back: when a restart was cut short by Ctrl-C or a
        lost connection, that it was sent is what the next engineer most needs to know. (A
        command the interrupt stopped before it started is not journalled: it never ran.)"""
        started = time.monotonic()
        try:
            yield
        except (CommandTimeout, Interrupted, ConnectError) as exc:
            if not isinstance(exc, Interrupted) or exc.while_running:
                why = ("timeout" if isinstance(exc, CommandTimeout) else
                       "interrupted" if isinstance(exc, Interrupted) else "connection lost")
                self.journal.command(step=self.step, host=self.host.name, command=command, exit_code=None,
                                     duration=time.monotonic() - started, stdout="", stderr=str(exc),
                                     timed_out=isinstance(exc, CommandTimeout), cut_short=why)
            raise

    def evidence(self, phase: str, kind: str, data: Any) -> None:
        self.journal.write("evidence", step=self.step, host=self.host.name, phase=phase, kind=kind, data=data)

    def artifact(self, kind: str, path: Path, *, size: int, sha256: str, manifest: Any = None) -> None:
        self.journal.write("artifact", step=self.step, host=self.host.name, kind=kind,
                           path=str(path.relative_to(self.journal.run_dir)), bytes=size, sha256=sha256,
                           manifest=manifest)


#: The message id of a change the customer report leaves out: a step inside a bigger measure
#: (the stop before a restart, one file of many), which the report words once, on its last change.
INTERNAL = "internal"


@dataclass(frozen=True)
class Applied:
    """What an ``apply`` may return instead of a bare note, when the outcome decides how the
    report words the change: ``msg`` replaces the planned message id, ``args`` add to the
    planned args (an archive's size is known only once it is written)."""

    note: str | None = None
    msg: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One thing an action would change, with the sentence a human reads for it.

    Either ``commands`` (run in order, each must succeed) or ``apply`` (a function for changes
    that need more than commands, e.g. streaming an archive), never both. ``details["msg"]``
    and ``details["args"]`` name the report catalogue's sentence for it
    (``runbook.reports.messages``, "measure.<msg>"), so a German report says it in German;
    ``sentence`` stays the English line for the terminal and the journal.
    """

    sentence: str
    commands: tuple[str, ...] = ()
    apply: Callable[[HostTask], str | Applied | None] | None = None
    sudo: bool | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "commands": list(self.commands), "details": dict(self.details)}


@dataclass(frozen=True)
class Plan:
    """What an action found (``data``) and what it would change (``changes``).

    ``failed`` marks a finding that fails the step without changing anything (a command that
    exited non-zero, a critical check); ``unreachable`` carries the connection error of an
    action that still had something to say about an unreachable host (service probes);
    ``message`` is the one line shown for the host.
    """

    changes: tuple[Change, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""
    failed: bool = False
    skipped: bool = False
    unreachable: ConnectError | None = None


class Action:
    """Base of all actions. Subclasses set ``name``, ``Params`` and implement ``plan``.

    ``confirm`` says whether applying asks the operator first (unless ``--yes``); a
    playbook step may override it. ``after`` runs once the changes are applied (e.g. to
    take "after" evidence) and may add to the result data.
    """

    name: ClassVar[str]
    Params: ClassVar[type]
    confirm: ClassVar[bool] = False
    changes_things: ClassVar[bool] = False
    #: False for actions that work without the host's SSH connection (probes from here,
    #: journals): the engine plans them even for hosts an earlier step found unreachable.
    needs_connection: ClassVar[bool] = True
    #: "host": ``plan`` per host, in parallel. "run": ``plan_run`` once over all targeted hosts,
    #: changes applied in the plan's order (see runbook.coordinated).
    scope: ClassVar[str] = "host"

    def plan(self, task: HostTask, params: Any) -> Plan:
        raise NotImplementedError

    def after(self, task: HostTask, params: Any, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        return {}

    def plan_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any]) -> Any:
        """Run-scoped actions: one ``runbook.coordinated.RunPlan`` for all hosts."""
        raise NotImplementedError

    def after_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any], plan: Any,
                  applied: list[tuple[str, str]], failure: tuple[str, BaseException] | None
                  ) -> Mapping[str, Mapping[str, Any]]:
        """Run-scoped actions: per-host data to add after applying (e.g. what is up and down)."""
        return {}

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
