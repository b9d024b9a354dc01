"""An action of your own, in the ``actions/`` directory beside your inventory.

Copy this file to ``<inventory dir>/actions/maintenance_flag.py`` (``chmod go-w`` it: runbook
refuses action files that others could have written), then::

    runbook actions -i customers/                    # lists example.maintenance_flag, "local ..."
    runbook run maintenance.yml -i customers/ --check   # shows what it would do
    runbook run maintenance.yml -i customers/          # asks, then applies; journaled

with a playbook step such as::

    - name: Maintenance page on
      action: example.maintenance_flag
      params: {path: "{{ maintenance_flag | default('/var/www/maintenance.flag') }}"}

The web server shows its maintenance page while the flag file exists (nginx:
``if (-f /var/www/maintenance.flag) { return 503; }``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from runbook.actions.base import HostAction
from runbook.change import Change, Outcome, Plan
from runbook.task import HostTask


@dataclass(frozen=True)
class MaintenanceFlagParams:
    """path: the flag file the web server checks; on: true puts it there, false removes it."""

    path: str
    on: bool = True


class MaintenanceFlagAction(HostAction):
    """Turn the web server's maintenance page on or off (create or remove its flag file).

    Params: ``path`` (the flag file), ``on`` (default true).
    """

    name = "example.maintenance_flag"   # "<yours>.<what>": a dot, so it never clashes with a built-in
    Params = MaintenanceFlagParams
    confirm = True                      # applying asks first (unless --yes); --check only shows it

    def plan(self, task: HostTask, params: MaintenanceFlagParams) -> Plan:
        # Read first (allowed in --check too): is the flag there now?
        there = task.run(f"test -e {shlex.quote(params.path)}").exit_code == 0
        if there == params.on:
            return Plan(Outcome.OK, data={"path": params.path, "on": there},
                        message=f"maintenance page already {'on' if there else 'off'}")
        # What would change, as a sentence and the commands that do it; every value quoted.
        command = f"touch {shlex.quote(params.path)}" if params.on else f"rm -f -- {shlex.quote(params.path)}"
        change = Change(f"{'create' if params.on else 'remove'} the maintenance flag {params.path}",
                        commands=(command,))
        return Plan(Outcome.CHANGED, changes=(change,), data={"path": params.path, "on": there})
