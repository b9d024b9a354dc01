"""Sending what ``runbook.sweeps.alerts`` decided: to whom, in what words, and the provider notice.

Alerts go by e-mail (``runbook.mail``, the customer's SMTP settings or RUNBOOK_SMTP_*) to
``customer.contacts.on_call``, or to ``--alert-to`` instead. One message per change; more than
``DIGEST_OVER`` changes of one customer in one sweep (a network outage takes every host at
once) go as one message listing them all. The texts are for the on-call engineer, in English.
Outside the contract's service hours each message says whether the contract has on-call now.

A message that cannot be sent leaves its check's state as it was, so the next sweep tries
again; the error is reported (the cron job's own mail carries it). For hosts that became
unreachable at the network level, the hosting provider is told through ``notify.hoster``
(its own run and journal, and its own rule never to notify twice for one outage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from runbook.sweeps.alerts import Alert, AlertPolicy, ItemState, decide, locked, read_state, state_path, write_state
from runbook.errors import ConfigError
from runbook.sweeps.history import REACHABILITY, points_of
from runbook.hostvars import HostVars
from runbook.inventory.model import Customer, Host, Inventory
from runbook.mail import MailError, SmtpSettings, build_message, default_sender, send
from runbook.health.verdict import Sweep

DIGEST_OVER = 10
NETWORK_LAYERS = ("dns", "tcp", "ssh")
HEADLINE = {"problem": "PROBLEM", "recovery": "RECOVERED", "worse": "WORSE", "better": "BETTER",
            "repeat": "STILL", "flapping": "FLAPPING", "settled": "SETTLED"}


@dataclass(frozen=True)
class AlertTarget:
    """Where one customer's alerts go, and where its alert state is kept."""

    customer: Customer
    recipients: tuple[str, ...]
    smtp: SmtpSettings
    state: Path
    inventory_files: tuple[Path, ...]


@dataclass(frozen=True)
class Delivered:
    """One alert and what became of it: error None when it was sent."""

    alert: Alert
    to: tuple[str, ...]
    error: str | None


def alert_targets(inventory: Inventory, hosts: Sequence[Host], state_dir: Path, alert_to: Sequence[str],
                  env: Mapping[str, str]) -> dict[str, AlertTarget]:
    """The target of every customer among ``hosts``; ConfigError, before any host is contacted,
    for a customer with nowhere to send to, and for bad alert_* host vars."""
    targets: dict[str, AlertTarget] = {}
    for host in hosts:
        AlertPolicy.from_vars(HostVars.of(host))
        if host.customer in targets:
            continue
        customer = inventory.customers[host.customer]
        recipients = tuple(alert_to) or customer.on_call
        if not recipients:
            raise ConfigError("nowhere to send alerts: set contacts.on_call or use --alert-to",
                              file=customer.file, field="customer.contacts.on_call")
        smtp = SmtpSettings.from_mapping(customer.smtp, env, file=customer.file)
        customer.contract  # noqa: B018 - parsed now: a bad contract stops the sweep before it starts
        targets[host.customer] = AlertTarget(customer, recipients, smtp,
                                             state_path(state_dir, inventory.files, customer.slug),
                                             tuple(inventory.files))
    return targets


def alert_after_sweep(sweep: Sweep, targets: Mapping[str, AlertTarget], policies: Mapping[str, AlertPolicy],
                      now: datetime, *, journal: Path, env: Mapping[str, str] | None = None) -> list[Delivered]:
    """Decide, send and remember the alerts of one finished sweep, customer by customer."""
    points = points_of(sweep)
    done: list[Delivered] = []
    for slug, target in targets.items():
        mine = [p for p in points if p.customer == slug]
        if not mine:
            continue
        with locked(target.state):
            previous, last_run = read_state(target.state)
            if last_run == sweep.run_id:
                continue  # this sweep was already alerted on (a retried command)
            alerts, state = decide(previous, mine, policies, now)
            sent = _send(target, alerts, now, sweep.run_id, journal, env)
            for item in sent:
                if item.error is not None:  # not announced: the next sweep tries again
                    _restore(state, previous, item.alert.key)
            write_state(target.state, state, run_id=sweep.run_id, customer=slug,
                        inventory_files=target.inventory_files, now=now)
            done.extend(sent)
    return done


def _restore(state: dict[str, ItemState], previous: Mapping[str, ItemState], key: str) -> None:
    if key in previous:
        state[key] = previous[key]
    else:
        state.pop(key, None)


def _send(target: AlertTarget, alerts: Sequence[Alert], now: datetime, run_id: str, journal: Path,
          env: Mapping[str, str] | None) -> list[Delivered]:
    if not alerts:
        return []
    note = hours_note(target.customer, now)
    sender = default_sender(target.customer.smtp, env)
    footer = f"Sweep {run_id}; journal {journal}\n"
    if len(alerts) > DIGEST_OVER:
        messages = [(list(alerts), _digest(target.customer, alerts, note, footer, sender, target.recipients, now))]
    else:
        messages = [([a], _single(target.customer, a, note, footer, sender, target.recipients, now)) for a in alerts]
    delivered = []
    for covered, msg in messages:
        try:
            send(msg, target.smtp, env=env)
            error = None
        except MailError as exc:
            error = str(exc)
        delivered.extend(Delivered(a, target.recipients, error) for a in covered)
    return delivered


def describe(alert: Alert, customer: Customer) -> str:
    """One line: "web1 reachability CRITICAL since 2026-12-03 02:14 CET (was OK)"."""
    since = _local(customer, alert.since)
    was = f" (was {alert.previous})" if alert.previous and alert.previous != alert.status else ""
    what = {"flapping": f"is flapping, now {alert.status}", "settled": f"settled at {alert.status}"}.get(
        alert.kind, alert.status)
    return f"{alert.host} {alert.check} {what} since {since}{was}"


def _single(customer: Customer, alert: Alert, note: str | None, footer: str, sender: str,
            to: Sequence[str], now: datetime) -> EmailMessage:
    head = HEADLINE[alert.kind] + (f" {alert.status}" if alert.kind == "repeat" else "")
    subject = _one_line(f"[runbook] {head}: {alert.host} {alert.check} {alert.status} ({customer.name})")
    body = [f"{customer.name}: {describe(alert, customer)}", alert.message, ""]
    if note:
        body += [note, ""]
    return build_message(subject, "\n".join(body) + footer, sender=sender, to=list(to), date=now)


def _digest(customer: Customer, alerts: Sequence[Alert], note: str | None, footer: str, sender: str,
            to: Sequence[str], now: datetime) -> EmailMessage:
    counts: dict[str, int] = {}
    for a in alerts:
        counts[HEADLINE[a.kind]] = counts.get(HEADLINE[a.kind], 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    subject = _one_line(f"[runbook] {len(alerts)} changes at {customer.name}: {summary}")
    body = [f"{customer.name}: {len(alerts)} changes in one sweep ({summary}).", ""]
    body += [f"{HEADLINE[a.kind]:<9} {describe(a, customer)}: {a.message}" for a in alerts]
    body.append("")
    if note:
        body += [note, ""]
    return build_message(subject, "\n".join(body) + footer, sender=sender, to=list(to), date=now)


def _one_line(text: str) -> str:
    """A subject without line breaks or control characters, whatever a host reported."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def hours_note(customer: Customer, now: datetime) -> str | None:
    """Outside service hours: whether the contract has on-call now. None within service hours."""
    from runbook.sla import in_service_hours
    from runbook.sla.calendar import service_windows
    from runbook.sla.deadline import on_call_windows

    contract = customer.contract
    if in_service_hours(contract, now):
        return None
    hours = contract.service_hours
    where = f"{hours.start:%H:%M}-{hours.end:%H:%M} {contract.timezone.key}"
    on_call = contract.on_call
    covered = on_call.mode == "permanent" or (
        on_call.mode == "periods" and any(a <= now < b for a, b in on_call_windows(contract)))
    if covered:
        reaction = ", ".join(f"category {c} within {_duration(d)}" for c, d in sorted(on_call.reaction.items()))
        return (f"Outside service hours ({where}): the contract has on-call now"
                + (f" (reaction: {reaction})." if reaction else ", without reaction times."))
    begins = next(service_windows(contract, now))[0].astimezone(contract.timezone)
    return (f"Outside service hours ({where}): the contract has no on-call now; the customer expects "
            f"a reaction from the next service hours, {begins:%a %Y-%m-%d %H:%M %Z}.")


def _duration(value: Any) -> str:
    from runbook.sla import format_duration
    return format_duration(value)


def _local(customer: Customer, stamp: str) -> str:
    from runbook.journal import parse_ts
    try:
        zone = customer.contract.timezone
    except ConfigError:
        zone = None
    when = parse_ts(stamp)
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M %Z}" if zone else f"{when:%Y-%m-%d %H:%M} UTC"


def network_outages(sweep: Sweep, delivered: Sequence[Delivered]) -> list[str]:
    """Hosts whose reachability problem was announced now and who fail at dns, tcp or ssh:
    the ones the hosting provider is to hear about."""
    layers = {h.name: h.layer for h in sweep.hosts}
    return sorted({d.alert.host for d in delivered
                   if d.alert.check == REACHABILITY and d.alert.kind in ("problem", "repeat", "worse")
                   and layers.get(d.alert.host) in NETWORK_LAYERS})
