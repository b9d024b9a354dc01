"""``notify.hoster``: tell the hosting provider, once per outage, which hosts are down at the network level.

It needs no SSH connection (``needs_connection = False``), so it also runs for hosts an
earlier step found unreachable: it probes the layers itself from here (DNS, TCP to the SSH
port, the SSH banner), checks what still answers (the inventory's service ports, URLs and
service probes), and reads since when each host has failed from the run journals. Only a
failure at dns/tcp/ssh is the provider's business; a refused key or a changed host key is ours.

It is a ``RunAction``: one plan over every targeted host, because the promise is about the
run, not a host -- web1 and db1 down at the same provider are ONE message naming both. A
per-host action would have to meet its sibling hosts at apply time to write that message;
planning across hosts says it directly: probe every host (in parallel), keep those not yet
notified for this outage, group them per provider (and our customer number there), and plan
one change per group. The change is bound to the group's first host; the others' results say
which notice carries them.

The message (``runbook.actions.hoster_notice``, worded from the notice catalogue) goes by
SMTP (``runbook.mail``) from the customer's ``smtp.from``, or, without a relay, as an .eml in
the run's artifacts. Every host of it is recorded in
``<reports>/state/hoster-notifications.json`` and is not in another notice of the same
outage within ``window``; a host that goes down later gets a notice of its own.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from runbook.actions.base import RunAction
from runbook.actions.hoster_notice import DownHost, LayerCheck, Notice, OurContact, draft
from runbook.actions.params import Duration
from runbook.change import Applied, Change, Message, RunPlan
from runbook.connection.tcp import TcpError, open_tcp
from runbook.errors import ConfigError, RunbookError
from runbook.facts.reachability import ProbeResult, probe_http, probe_inventory, probe_tcp
from runbook.hostvars import HostVar, HostVars, Located
from runbook.inventory.model import Customer, Host, HosterContact
from runbook.inventory.people import Person
from runbook.journal import iso, parse_ts, read_events
from runbook.services.history import NotificationLog, outage, reached_since
from runbook.services.model import SERVICE_VARS, host_services
from runbook.task import HostTask

STATE_FILE = Path("state") / "hoster-notifications.json"
#: hosts probed at once: each probe may wait ``probe_timeout`` a few times (a tarpit)
PROBE_WORKERS = 16


@dataclass(frozen=True)
class NotifyParams:
    """window: do not notify again for the same outage within it; via: auto | smtp | eml."""

    window: Duration = 86400.0  # type: ignore[assignment]
    via: Literal["auto", "smtp", "eml"] = "auto"
    sender: str | None = None
    language: Literal["provider", "customer", "de", "en"] = "provider"
    state_file: str | None = None
    probe_timeout: Duration = 5.0  # type: ignore[assignment]


def check_layers(host: Host, timeout: float) -> list[LayerCheck]:
    """DNS, TCP to the SSH port, SSH banner -- stopping at the first layer that fails."""
    try:
        sock = open_tcp(host.address, host.port, timeout)
    except TcpError as exc:
        reason = exc.reason.rpartition(": ")[2]  # the system's words: "Connection refused"
        if exc.layer == "dns":
            return [LayerCheck("dns", False, exc.reason, reason=reason)]
        return [LayerCheck("dns", True, f"{host.address} resolves"),
                LayerCheck("tcp", False, exc.reason, reason=reason)]
    peer = sock.getpeername()[0]
    checks = [LayerCheck("dns", True, f"{host.address} resolves to {peer}", peer=peer),
              LayerCheck("tcp", True, f"TCP {peer}:{host.port} open", peer=peer)]
    with sock:
        try:
            banner = sock.makefile("rb").readline(256)
        except OSError as exc:
            return checks + [LayerCheck("ssh", False, f"no SSH banner within {timeout:g}s ({exc})", reason=str(exc))]
    if banner.startswith(b"SSH-"):
        text = banner.decode("ascii", "replace").strip()
        return checks + [LayerCheck("ssh", True, text, banner=text)]
    return checks + [LayerCheck("ssh", False, f"no SSH banner within {timeout:g}s", reason=None)]


def still_working(task: HostTask, timeout: float) -> list[ProbeResult]:
    """What answers from here although SSH does not: ports, URLs, TCP/HTTP service probes."""
    host = task.host
    results = probe_inventory(host.address, host.service_ports, host.http_checks, timeout)
    try:
        specs = list(host_services(host, task.vars).values())
    except ConfigError:
        specs = []  # a broken services var must not stop the provider notice; other steps report it
    for spec in specs:
        for probe in spec.probes:
            if probe.kind == "tcp":
                address, _, port = probe.target.rpartition(":")
                results.append(probe_tcp(address, int(port), min(timeout, probe.timeout)))
            elif probe.kind == "http":
                results.append(probe_http({"url": probe.target, "status": probe.status, "contains": probe.contains,
                                           "verify_tls": probe.verify_tls}, min(timeout, probe.timeout)))
    return results


def _optional_text(at: Located, vars: HostVars) -> str | None:
    return None if at.value is None else at.text()


HOSTER_REFERENCE: HostVar[str | None] = HostVar(
    "hoster_reference", "our customer number at the hosting provider for this host, where it differs from "
    "customer.contacts.hoster.customer_number", None, __name__, _optional_text)
HOSTER_SERVER_ID: HostVar[str | None] = HostVar("hoster_server_id", "the provider's id of the server", None,
                                                __name__, _optional_text)


@dataclass(frozen=True)
class _Found:
    """What planning found on one host: its journal data and one line, and whether it belongs
    in a notice (``down``) and to which provider."""

    data: Mapping[str, Any]
    message: str
    down: DownHost | None = None
    hoster: HosterContact | None = None
    number: str | None = None

    @property
    def mailable(self) -> bool:
        """Its provider has an e-mail address to send the notice to."""
        return self.hoster is not None and bool(self.hoster.email)


class NotifyHosterAction(RunAction[None]):
    """Send (SMTP or .eml) ONE notice per provider about every host down at the network level.

    Probes DNS/TCP/SSH from here without logging in, lists what still answers, reads since
    when each host has failed from the journals, and never tells the provider twice about one
    host's outage within ``window``. The provider comes from ``customer.contacts.hoster``
    (``customer_number``, ``language``); host vars ``hoster_server_id`` and ``hoster_reference``
    go into it; our contact from the inventory's ``operator`` and ``signature``.

    Params: ``window`` (default 24h), ``via`` (auto: SMTP if the customer or environment
    names a relay, else .eml), ``sender`` (default: the customer's ``smtp.from``),
    ``language`` (provider | customer | de | en), ``state_file`` (default
    <reports>/state/hoster-notifications.json), ``probe_timeout`` (default 5s).
    """

    name = "notify.hoster"
    Params = NotifyParams
    host_vars = SERVICE_VARS + (HOSTER_REFERENCE, HOSTER_SERVER_ID)
    confirm = True
    needs_connection = False

    def plan_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any]) -> RunPlan[None]:
        with ThreadPoolExecutor(max_workers=max(1, min(PROBE_WORKERS, len(tasks)))) as pool:
            found = dict(zip(tasks, pool.map(lambda name: _look(tasks[name], params[name]), tasks)))
        groups: dict[tuple[str, str, str | None], list[str]] = {}
        for name, f in found.items():
            if f.down is not None and f.hoster is not None:
                groups.setdefault((tasks[name].host.customer, f.hoster.name, f.number), []).append(name)
        data = {name: dict(f.data) for name, f in found.items()}
        messages = {name: f.message for name, f in found.items()}
        changes: list[tuple[str, Change]] = []
        # a provider without an e-mail fails its change (call them): after those that can be sent
        for names in sorted(groups.values(), key=lambda names: not found[names[0]].mailable):
            first = names[0]
            notice = _notice(tasks[first], params[first], [found[n] for n in names])
            subject, body = draft(notice)
            for n in names:
                data[n]["notice"] = {"hosts": notice.host_names, "to": notice.provider.email, "subject": subject,
                                     "carried_by": first}
                if n != first:
                    messages[n] = f"in the notice to {notice.provider.name} with {first}"
            data[first]["notice"]["body"] = body
            changes.append((first, _change(params[first], notice, subject, body)))
        return RunPlan(changes=tuple(changes), data=data, messages=messages)


def _look(task: HostTask, params: NotifyParams) -> _Found:
    """One host: is it down at the network level, and not yet notified for this outage?"""
    host = task.host
    customer = task.inventory.customer_of(host) if task.inventory is not None else None
    if host.connection == "local":
        return _Found({}, "local connection: no network between here and the host")
    layers = check_layers(host, params.probe_timeout)
    failing = [c for c in layers if not c.ok]
    data: dict[str, Any] = {"layers": [c.to_json() for c in layers]}
    if not failing:
        return _Found(data, "the host answers at the network level (SSH banner): nothing to tell the provider")
    hoster = customer.hoster if customer is not None else None
    if hoster is None:
        return _Found(data, f"{failing[0].detail}; but the inventory names no hosting provider "
                            "(customer.contacts.hoster)")
    runs_dir = task.journal.run_dir.parent
    now = task.clock()
    down = outage(runs_dir, host.name, now=now)
    since = down.since or now
    working = still_working(task, params.probe_timeout)
    data.update(since=iso(since), last_reached=iso(down.last_reached) if down.last_reached else None,
                still_working=[p.to_json() for p in working if p.ok],
                not_working=[p.to_json() for p in working if not p.ok], hoster=hoster.name)
    last = _log(task, params).last_for(host.name)
    if last is not None:
        sent = parse_ts(last["sent_at"])
        if now - sent < timedelta(seconds=params.window) and not reached_since(runs_dir, host.name, sent):
            data["already_notified"] = last
            if last.get("via") != "smtp":   # an .eml only written: prepared, and someone still has to send it
                return _Found(data, f"a notice to {hoster.name} about this outage was already prepared at "
                                    f"{last['sent_at']}, not sent ({last.get('eml', 'see that run')}): not again")
            return _Found(data, f"{hoster.name} was already told at {last['sent_at']} about this outage: not again")
    number = task.vars.read(HOSTER_REFERENCE) or hoster.customer_number
    return _Found(data, f"{failing[0].detail}: notify {hoster.name}",
                  DownHost(host.name, host.address, host.port, since, tuple(layers), tuple(working),
                           task.vars.read(HOSTER_SERVER_ID), params.probe_timeout), hoster, number)


def _log(task: HostTask, params: NotifyParams) -> NotificationLog:
    # <reports>/runs is the default layout; with a separate --runs-dir its parent stands in.
    reports = task.journal.run_dir.parent.parent
    return NotificationLog(Path(params.state_file) if params.state_file else reports / STATE_FILE)


def _notice(task: HostTask, params: NotifyParams, found: list[_Found]) -> Notice:
    customer = task.inventory.customer_of(task.host) if task.inventory is not None else None
    hoster = found[0].hoster
    assert hoster is not None  # only hosts with a provider are grouped
    start = _run_start(task)
    language = params.language
    if language == "provider":
        language = hoster.language or "customer"
    if language == "customer":
        language = customer.language if customer is not None else "de"
    contract = customer.contract if customer is not None else None
    return Notice(provider=hoster, customer=customer.name if customer else task.host.customer,
                  hosts=tuple(f.down for f in found if f.down is not None),
                  contact=_our_contact(customer, Person.from_json(start.get("operator"))), language=language,
                  timezone=str(contract.timezone) if contract is not None else None, number=found[0].number,
                  incident=start.get("incident"))


def _our_contact(customer: Customer | None, operator: Person | None) -> OurContact:
    """The person on call (the run's operator, else the customer's), our company, and the
    on-call line to call back (the signature's, else the operator's own)."""
    person = operator or (customer.operator if customer is not None else None)
    signature = customer.signature if customer is not None else None
    return OurContact(
        name=person.name if person else None,
        company=signature.company if signature else None, team=signature.team if signature else None,
        email=(signature.on_call_email if signature else None) or (person.email if person else None),
        phone=(signature.on_call_phone if signature else None) or (person.phone if person else None))


def _run_start(task: HostTask) -> Mapping[str, Any]:
    for event in read_events(task.journal.path)[:1]:
        if event.get("event") == "run.start":
            return event
    return {}


def notice_message(provider: str, via: str, hosts: list[str]) -> Message:
    """The report's message for the notice, naming all its hosts: "informed" once it went by
    SMTP; an .eml only written here is a notice prepared, which someone still has to send."""
    return Message("provider_notified" if via == "smtp" else "provider_notice_written",
                   {"provider": provider, "hosts": list(hosts)})


def _change(params: NotifyParams, notice: Notice, subject: str, body: str) -> Change:
    provider = notice.provider
    layers = ", ".join(sorted({h.failing.layer for h in notice.hosts}))
    sentence = (f"notify {provider.name} <{provider.email or 'no e-mail'}>: {', '.join(notice.host_names)} "
                f"unreachable ({layers}) since {iso(notice.since)}")
    return Change(sentence=sentence, apply=lambda t: _deliver(t, params, notice, subject, body),
                  details={"hosts": notice.host_names, "to": provider.email},
                  message=notice_message(provider.name, "smtp", notice.host_names))


def _deliver(task: HostTask, params: NotifyParams, notice: Notice, subject: str, body: str) -> Applied:
    from runbook.mail import SmtpSettings, build_message, default_sender, send, write_eml

    provider = notice.provider
    if not provider.email:
        raise RunbookError(f"{provider.name} has no e-mail in the inventory (customer.contacts.hoster.email): "
                           f"call {provider.phone or 'them'} about {', '.join(notice.host_names)}")
    customer = task.inventory.customer_of(task.host) if task.inventory is not None else None
    smtp_config = dict(customer.smtp) if customer is not None else {}
    via = params.via
    if via == "auto":
        via = "smtp" if smtp_config.get("host") or os.environ.get("RUNBOOK_SMTP_HOST") else "eml"
    sender = params.sender or default_sender(smtp_config)     # the customer's smtp.from first
    reply_to = notice.contact.email if notice.contact.email and notice.contact.email not in str(sender) else None
    msg = build_message(subject, body, sender=str(sender), to=[provider.email], reply_to=reply_to,
                        date=task.clock())
    stamp = task.clock().strftime("%Y%m%dT%H%M%SZ")
    path = write_eml(msg, task.artifacts_dir / f"hoster-notice-{'-'.join(notice.host_names)[:80]}-{stamp}.eml")
    raw = path.read_bytes()
    task.artifact("mail", path, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                  manifest={"to": provider.email, "subject": subject, "via": via, "hosts": notice.host_names})
    note = f"written to {path.relative_to(task.journal.run_dir)}"
    if via == "smtp":
        settings = SmtpSettings.from_mapping(smtp_config, os.environ, file=customer.file if customer else None)
        began = time.monotonic()
        send(msg, settings)
        note = f"sent by SMTP via {settings.host}:{settings.port} in {time.monotonic() - began:.1f}s; copy {note}"
    # per host: a host of this notice is in no other notice of the same outage
    _log(task, params).add(*({"host": host.name, "customer": task.host.customer, "since": iso(host.since),
                              "layers": [host.failing.layer], "sent_at": iso(task.clock()), "via": via,
                              "to": provider.email, "subject": subject, "hosts": notice.host_names,
                              "message_id": msg["Message-ID"], "run_id": task.journal.run_id, "eml": str(path)}
                             for host in notice.hosts))
    return Applied(note, message_id=notice_message(provider.name, via, notice.host_names).id)
