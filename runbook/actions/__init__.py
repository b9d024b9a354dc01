"""What is changed (and read) on hosts: the explicit registry of actions.

``ACTIONS`` maps the name used in playbooks to the action class. A playbook is validated
against it (names, params) before any host is contacted.
"""

from __future__ import annotations

from runbook.actions.base import Action, Change, HostTask, Plan
from runbook.actions.command import CommandAction
from runbook.actions.disk import DiskUsageAction, ReleaseDeletedAction
from runbook.actions.health import HealthCheckAction
from runbook.actions.logs.analyze import LogsAnalyzeAction
from runbook.actions.logs.archive import LogsArchiveAction
from runbook.actions.logs.clean import LogsCleanAction
from runbook.actions.logs.rotate import LogsRotateAction
from runbook.actions.notify import NotifyHosterAction
from runbook.actions.processes import ProcessesHungAction, ProcessesKillAction
from runbook.actions.services import ServicesRestartAction, ServicesStatusAction

ACTIONS: dict[str, type[Action]] = {
    CommandAction.name: CommandAction,
    DiskUsageAction.name: DiskUsageAction,
    ReleaseDeletedAction.name: ReleaseDeletedAction,
    HealthCheckAction.name: HealthCheckAction,
    LogsAnalyzeAction.name: LogsAnalyzeAction,
    LogsArchiveAction.name: LogsArchiveAction,
    LogsCleanAction.name: LogsCleanAction,
    LogsRotateAction.name: LogsRotateAction,
    NotifyHosterAction.name: NotifyHosterAction,
    ProcessesHungAction.name: ProcessesHungAction,
    ProcessesKillAction.name: ProcessesKillAction,
    ServicesRestartAction.name: ServicesRestartAction,
    ServicesStatusAction.name: ServicesStatusAction,
}

__all__ = ["ACTIONS", "Action", "Change", "HostTask", "Plan"]
