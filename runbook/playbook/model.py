"""What is asked of hosts: a playbook and its steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Step:
    """One step: an action with params, run on every targeted host.

    ``on_failure``: "abort" stops the run after this step when a host failed it (hosts
    already running finish); "continue" goes on. ``confirm``: ask before applying changes
    (None = the action's default). ``register``: the name under which each host's result
    data is available to later steps' ``when`` and templates. ``serial``: one host at a time.
    ``read_only`` (``check_mode: run``): a command step that only reads; it runs in check mode
    too, and never asks. Any other command is shown in check mode, not run.
    """

    index: int
    name: str
    action: str
    params: Mapping[str, Any]
    when: str | None
    on_failure: str
    confirm: bool | None
    timeout: float | None
    register: str | None
    serial: bool
    file: str
    line: int
    when_line: int | None = None  # where ``when:`` is written, for errors in the condition
    read_only: bool = False
    #: ``vars:`` of the includes around this step (outermost first), then its own: each layer
    #: is rendered with the ones before it in view, above the host's vars and below ``-e``
    vars: tuple[Mapping[str, Any], ...] = ()
    #: the step's index in its own file (``index`` counts the whole run, includes expanded)
    local_index: int | None = None
    #: " (included from on-call.yml:12)" and further out, for every message about the step
    included_from: str = ""

    @property
    def where(self) -> str:
        """How messages name the step: ``steps[3]`` of its own file."""
        return f"steps[{self.index if self.local_index is None else self.local_index}]"

    def var_names(self) -> set[str]:
        """Every name the step's ``vars:`` layers define."""
        return {name for layer in self.vars for name in layer}


@dataclass(frozen=True)
class Playbook:
    """A named list of steps, limited to ``targets`` (roles or host names; empty = all)."""

    name: str
    description: str
    targets: tuple[str, ...]
    steps: tuple[Step, ...]
    file: str
    sha256: str
