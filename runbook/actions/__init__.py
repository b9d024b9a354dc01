"""What is changed (and read) on hosts: the explicit registry of actions.

``ACTIONS`` maps the name used in playbooks to the action class. A playbook is validated
against it (names, params) before any host is contacted.
"""

from __future__ import annotations

from runbook.actions.base import Action, Change, HostTask, Plan
from runbook.actions.command import CommandAction
from runbook.actions.health import HealthCheckAction

ACTIONS: dict[str, type[Action]] = {
    CommandAction.name: CommandAction,
    HealthCheckAction.name: HealthCheckAction,
}

__all__ = ["ACTIONS", "Action", "Change", "HostTask", "Plan"]
