"""How the operator wants a run done, and how the engine asks before it changes anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from runbook.change import Change
from runbook.connection import ConnectOptions
from runbook.playbook.model import Step

DEFAULT_FORKS = 20

#: Asks the operator once per step, listing every (host, change); True means apply.
Confirm = Callable[[Step, Sequence[tuple[str, Change]]], bool]


@dataclass(frozen=True)
class RunOptions:
    """check: plan and record, change nothing; assume_yes: apply without asking; forks: hosts
    at a time (and so, at most, connections open at a time in a one-step run)."""

    check: bool = False
    assume_yes: bool = False
    forks: int = DEFAULT_FORKS
    connect: ConnectOptions = field(default_factory=ConnectOptions)
