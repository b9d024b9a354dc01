"""What a step would change and what it did: ``Change``, ``Plan``, ``RunPlan``, ``Applied``,
and the ``Message`` a customer report words in the customer's language.

Actions and the domain code under them produce these values; the engine (``runbook.run``)
applies them, or in check mode only records them. A ``Message`` is an id of the report
catalogue (``runbook.reports.messages``, "measure.<id>") with its arguments, lists kept as
lists; ``sentence`` stays the English line for the terminal and the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from runbook.errors import ConnectError

if TYPE_CHECKING:
    from runbook.task import HostTask

#: The message id of a change the customer report leaves out: a step inside a bigger measure
#: (the stop before a restart, one file of many), which the report words once, on its last change.
INTERNAL = "internal"


class Outcome(StrEnum):
    """One result per host per step."""

    OK = "ok"
    CHANGED = "changed"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Message:
    """Something to tell the customer: a catalogue message id and its arguments (no language).

    Arguments are data, never words: numbers as numbers, times as ISO text, lists as lists,
    a nested ``Message`` where a sentence contains another. ``runbook.reports.wording`` turns
    it into a sentence in the report's language (units, list joining, plural forms).
    """

    id: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What an ``apply`` may return instead of a bare note, when the outcome decides how the
    report words the change: ``message_id`` replaces the planned message's id, ``args`` add to
    its args (an archive's size is known only once it is written). ``failure``: the wording
    tells that the change did not work (a service that did not come up again), so the report
    of the host it failed needs no general "could not be carried out" besides it."""

    note: str | None = None
    message_id: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    failure: bool = False

    def message_for(self, planned: Message | None) -> Message | None:
        """The message of the change as it was applied."""
        msg_id = self.message_id or (planned.id if planned is not None else None)
        if msg_id is None:
            return None
        return Message(msg_id, {**(planned.args if planned is not None else {}), **self.args})


@dataclass(frozen=True)
class Change:
    """One thing an action would change, with the sentence a human reads for it.

    Either ``commands`` (run in order, each must succeed) or ``apply`` (a function for changes
    that need more than commands, e.g. streaming an archive), never both. ``message`` names the
    report's sentence for it; ``details`` is what the plan records about it (files, service, op).
    """

    sentence: str
    commands: tuple[str, ...] = ()
    apply: Callable[[HostTask], str | Applied | None] | None = None
    sudo: bool | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    message: Message | None = None

    def to_json(self) -> dict[str, Any]:
        """How a plan records the change (``data.planned`` in check mode or when not confirmed)."""
        found: dict[str, Any] = {"sentence": self.sentence, "commands": list(self.commands),
                                 "details": dict(self.details)}
        if self.message is not None:
            found.update(msg=self.message.id, args=dict(self.message.args))
        return found

    def journal_record(self, sentence: str, done: Applied | None = None) -> str | dict[str, Any]:
        """The journal's ``host.end.changes`` entry: the sentence, or ``{"sentence", "msg",
        "args"}`` when the change names a message (as the ``apply`` that ran may have
        replaced or completed it), with ``"failure": true`` when its wording tells a failure.
        Reports read this format; old journals have it too."""
        message = done.message_for(self.message) if done is not None else self.message
        if message is None:
            return sentence
        record: dict[str, Any] = {"sentence": sentence, "msg": message.id, "args": dict(message.args)}
        if done is not None and done.failure:
            record["failure"] = True
        return record


@dataclass(frozen=True)
class Plan:
    """What an action found on one host (``data``) and its one outcome.

    ``changed``: ``changes`` lists what would change (the only outcome with changes); ``ok``:
    nothing to do; ``failed``: a finding that fails the step without changing anything (a
    command that exited non-zero, a critical check); ``skipped``: nothing to look at;
    ``unreachable``: the host could not be reached, ``error`` says how (an action with something
    to say about it anyway: service probes from here). ``message`` is the one line shown for
    the host.
    """

    outcome: Outcome
    changes: tuple[Change, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""
    error: ConnectError | None = None
    #: the action's own state for its ``after`` (the df evidence its changes record)
    state: Any = None
    #: a failed outcome that is a judgement of the host's state (``fail_on``), not something
    #: that went wrong: in check mode, after planned changes, it judges a state the run did
    #: not bring about, so it does not fail the step
    verdict: bool = False

    def __post_init__(self) -> None:
        if (self.outcome is Outcome.CHANGED) != bool(self.changes):
            raise ValueError(f"a {self.outcome} plan with {len(self.changes)} change(s)")
        if (self.outcome is Outcome.UNREACHABLE) != (self.error is not None):
            raise ValueError(f"a {self.outcome} plan {'without' if self.error is None else 'with'} a connection error")


State = TypeVar("State")


@dataclass(frozen=True)
class RunPlan(Generic[State]):
    """A run-scoped action's plan: ordered changes across hosts, what was found per host, and
    the action's own state for ``after_run`` (a restart's record of what is up and down).

    ``data``/``messages`` are per host name; ``failed`` names hosts whose planning already
    found a failure (nothing is applied then).
    """

    changes: tuple[tuple[str, Change], ...] = ()
    data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    messages: Mapping[str, str] = field(default_factory=dict)
    failed: frozenset[str] = frozenset()
    state: State | None = None
