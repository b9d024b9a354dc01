"""Built-in log rotation with logrotate's semantics, for hosts without logrotate or without a
config for a log set (the ``logs.rotate`` action uses ``logrotate -f`` where it can).

Plan, then apply -- the same code path for check mode and for real:

1. read: ``read_log_state(conn, path)`` runs ``state_command(path)`` and ``parse_state`` turns
   its output into a LogFileState and the RotatedFile siblings;
2. plan: ``plan_rotation(log, siblings, options, now, force)`` is pure and returns a
   RotationPlan: Rename / Copy / Truncate / Create / Compress / Remove / RunCommand operations,
   each with a one-line ``sentence``, in logrotate's order;
3. apply: ``apply_plan(conn, plan, timeout=...)`` runs ``plan_to_commands(plan)`` one line per
   operation and stops at the first failure; or ``plan_to_changes(plan)`` hands the same
   sentences and lines to the engine as Changes (check mode records them unapplied).

``RotationOptions.from_mapping`` reads the options from a playbook, named like logrotate's
directives. The test suite checks file names, contents and modes against Debian's logrotate.
"""

from __future__ import annotations

from runbook.logs.rotation.model import (
    Compress,
    Copy,
    Create,
    LogFileState,
    Operation,
    Remove,
    Rename,
    RotatedFile,
    RotationPlan,
    RunCommand,
    Truncate,
    show_path,
)
from runbook.logs.rotation.options import RotationOptions, parse_logrotate_size
from runbook.logs.rotation.plan import existing_scheme, format_date, plan_rotation
from runbook.logs.rotation.shell import (
    apply_plan,
    operation_command,
    parse_state,
    plan_to_changes,
    plan_to_commands,
    read_log_state,
    state_command,
)

__all__ = [
    "Compress", "Copy", "Create", "LogFileState", "Operation", "Remove", "Rename", "existing_scheme",
    "RotatedFile", "RotationOptions", "RotationPlan", "RunCommand", "Truncate", "apply_plan",
    "format_date", "operation_command", "parse_logrotate_size", "parse_state",
    "plan_rotation", "plan_to_changes", "plan_to_commands", "read_log_state", "show_path",
    "state_command",
]
