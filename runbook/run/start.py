"""The start of a run: hosts and playbook in, an engine with an open journal out.

``start_run`` is shared by ``runbook run`` and ``runbook sweep``: it validates everything
that can be validated before any host is contacted, opens the journal with its ``run.start``
event, and returns an engine ready to run. The CLI only adds signals and rendering.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook.actions import ACTIONS
from runbook.connection import ConnectOptions, connect
from runbook.connection.base import Connection
from runbook.errors import ConfigError, RunbookError, UsageError
from runbook.inventory import Host, Inventory, select_hosts
from runbook.inventory.people import Person, operator_from_env
from runbook.journal import Journal, current_user, new_run_id, secret_values_in
from runbook.paths import Paths
from runbook.playbook import Playbook, check_against_hosts
from runbook.playbook.loader import CHECK_MODE_RUN_ACTIONS
from runbook.playbook.hostvars import check_host_vars
from runbook.run.engine import Engine
from runbook.run.options import Confirm, RunOptions
from runbook.run.results import HostOutcome
from runbook.task import NO_ACTIVITY, HostActivity


def inventory_digest(paths: Sequence[Path]) -> str:
    """The sha256 over the inventory files' names and contents, as ``run.start`` records it."""
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def plan_hosts(inventory: Inventory, playbook: Playbook, limit: str | None) -> list[Host]:
    """The hosts a run will touch: playbook targets, then ``--limit``; for each, the templates
    and every host var the playbook's actions will read are checked (ConfigError)."""
    hosts = select_hosts(inventory, limit, playbook.targets or None)
    if not hosts:
        raise ConfigError(f"no host matches targets {list(playbook.targets) or ['all']}"
                          + (f" and limit {limit!r}" if limit else ""), file=playbook.file)
    check_against_hosts(playbook, hosts)
    check_host_vars(playbook, hosts)
    return hosts


def customers_of(hosts: Sequence[Host]) -> list[str]:
    """The slugs of the customers ``hosts`` belong to, sorted."""
    return sorted({h.customer for h in hosts})


def scope_to_incident(inventory: Inventory, hosts: Sequence[Host], incident: str | None,
                      record: dict[str, Any] | None, limit: str | None) -> tuple[list[Host], list[Host]]:
    """A run for an incident works on that incident's customer only: (the hosts kept, the
    hosts left out). A ``--limit`` that names a host of another customer is a UsageError (the
    engineer asked for it, so it is said, not silently dropped). Without an open incident
    record (no ``--incident``, or one not opened here) nothing is scoped."""
    if not incident or not record or not record.get("customer"):
        return list(hosts), []
    named = str(record["customer"])
    slugs = {c.slug for c in inventory.customers.values() if named in (c.slug, c.name)}
    if not slugs:
        raise UsageError(f"incident {incident} is of customer {named!r}, who is not in this inventory "
                         f"(customers: {', '.join(sorted(inventory.customers))})", option="--incident")
    kept = [h for h in hosts if h.customer in slugs]
    others = [h for h in hosts if h.customer not in slugs]
    if others and limit:
        which = ", ".join(f"{h.name} (customer {h.customer})" for h in others)
        raise UsageError(f"{which}: not a host of {named}, whose incident {incident} this run works; "
                         "leave it out of the limit, or run it without --incident", option="--limit")
    if not kept:
        raise UsageError(f"no targeted host belongs to {named}, whose incident {incident} this run works",
                         option="--incident")
    return kept, others


def changes_hosts(playbook: Playbook, check: bool) -> bool:
    """Whether a run of ``playbook`` may change hosts: not in check mode, and a step whose
    action asks before it changes (``confirm``), a step that says ``confirm: true``, or a
    command that does not say it only reads."""
    if check:
        return False
    return any(step.confirm or ACTIONS[step.action].confirm
               or (step.action in CHECK_MODE_RUN_ACTIONS and not step.read_only) for step in playbook.steps)


def start_run(inventory: Inventory, hosts: Sequence[Host], playbook: Playbook, paths: Paths,
              options: RunOptions, *, kind: str = "run", incident: str | None = None,
              confirm: Confirm | None = None, on_outcome: Callable[[HostOutcome], None] | None = None,
              clock: Callable[[], datetime] | None = None, argv: Sequence[str] | None = None,
              connector: Callable[[Host, ConnectOptions], Connection] = connect,
              activity: HostActivity = NO_ACTIVITY) -> Engine:
    """Validate what can be validated, open the run's journal with its ``run.start`` event and
    return the engine ready to run. ``kind``: run | sweep; ``incident``: the ``--incident`` id
    (its record becomes the templates' ``incident``); ``connector`` makes each host's connection;
    ``activity`` hears what each host is doing (a terminal's live lines)."""
    clock = clock or (lambda: datetime.now(timezone.utc))
    incident_record = incident_vars(paths, incident)  # a damaged record stops the run before it starts
    operator = run_operator(inventory, hosts)  # a malformed RUNBOOK_OPERATOR stops it too
    run_id = new_run_id(clock())
    secrets = frozenset({options.connect.sudo_password} if options.connect.sudo_password else set()).union(
        *(secret_values_in(h.vars) for h in hosts))
    journal = Journal(paths.runs / run_id, clock=clock, secret_values=secrets)
    journal.write(
        "run.start", run_id=run_id, kind=kind, user=current_user(), hostname=socket.gethostname(),
        argv=list(argv if argv is not None else sys.argv), cwd=os.getcwd(), check=options.check,
        playbook={"path": playbook.file, "name": playbook.name, "sha256": playbook.sha256},
        inventory={"paths": [str(p) for p in inventory.files], "sha256": inventory_digest(inventory.files)},
        customers={c.slug: c.name for c in inventory.customers.values()},
        operator=operator.to_json() if operator else None,
        incident=incident, hosts=[h.name for h in hosts],
        host_info={h.name: {"address": h.address, "roles": list(h.roles), "customer": h.customer}
                   for h in hosts},
        forks=options.forks,
    )
    return Engine(inventory, hosts, playbook, journal, options, confirm=confirm, on_outcome=on_outcome,
                  clock=clock, incident=incident_record, connector=connector, activity=activity)


def run_operator(inventory: Inventory, hosts: Sequence[Host]) -> Person | None:
    """Who runs this: RUNBOOK_OPERATOR, else the inventory's ``operator`` of the hosts' customer
    (when they agree on one), else nobody named. Reports show this person, never the account."""
    named = operator_from_env()
    if named is not None:
        return named
    found = {inventory.customers[h.customer].operator for h in hosts if h.customer in inventory.customers}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def incident_vars(paths: Paths, incident: str | None) -> dict[str, Any] | None:
    """The run's incident for templates (``incident``): its record as ``incident open`` wrote
    it (id, customer, category, received, channel, summary; times ISO 8601 with offset), so a
    playbook can say ``since: "{{ incident.received }}-30m"``. None without ``--incident``,
    or when it was not opened under this reports root."""
    if incident is None:
        return None
    from runbook.incidents import IncidentStore  # the SLA code (and holidays) only when needed
    try:
        record = IncidentStore(paths.reports).get(incident).to_json()
    except ConfigError:
        raise  # a malformed id or a damaged record: say so
    except RunbookError:
        return None  # not opened here
    return {k: v for k, v in record.items() if k in ("id", "customer", "category", "received", "channel",
                                                    "summary", "opened_at", "reaction_started")}
