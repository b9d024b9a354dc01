"""``notify.hoster``: tell the hosting provider when a host is down at the network level.

It needs no SSH connection (``needs_connection = False``), so it also runs for hosts an
earlier step found unreachable: it probes the layers itself from here (DNS, TCP to the SSH
port, the SSH banner), checks what still answers (the inventory's service ports, URLs and
service probes), and reads since when the host has failed from the run journals. Only a
failure at dns/tcp/ssh is the provider's business; a refused key or a changed host key is ours.

The message goes by SMTP (``runbook.mail``) or, without a relay, as an .eml in the run's
artifacts; either way it is recorded in ``<reports>/state/hoster-notifications.json`` and
not repeated for the same outage within ``window``.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.params import Duration
from runbook.change import Applied, Change, Message, Outcome, Plan
from runbook.connection.tcp import TcpError, open_tcp
from runbook.errors import ConfigError
from runbook.facts.reachability import (
    ProbeResult,
    probe_http,
    probe_inventory,
    probe_tcp,
)
from runbook.hostvars import HostVar, HostVars, Located
from runbook.inventory.model import Customer, Host
from runbook.journal import iso, parse_ts, read_events
from runbook.services.history import NotificationLog, outage, reached_since
from runbook.services.model import SERVICE_VARS, host_services
from runbook.task import HostTask

STATE_FILE = Path("state") / "hoster-notifications.json"


@dataclass(frozen=True)
class NotifyParams:
    """window: do not notify again for the same outage within it; via: auto | smtp | eml."""

    window: Duration = 86400.0  # type: ignore[assignment]
    via: Literal["auto", "smtp", "eml"] = "auto"
    sender: str | None = None
    language: Literal["customer", "de", "en"] = "customer"
    state_file: str | None = None
    probe_timeout: Duration = 5.0  # type: ignore[assignment]


@dataclass(frozen=True)
class LayerCheck:
    """One layer between here and the host: name, ok, what happened."""

    layer: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "ok": self.ok, "detail": self.detail}


def check_layers(host: Host, timeout: float) -> list[LayerCheck]:
    """DNS, TCP to the SSH port, SSH banner -- stopping at the first layer that fails."""
    try:
        sock = open_tcp(host.address, host.port, timeout)
    except TcpError as exc:
        if exc.layer == "dns":
            return [LayerCheck("dns", False, exc.reason)]
        return [LayerCheck("dns", True, f"{host.address} resolves"), LayerCheck("tcp", False, exc.reason)]
    peer = sock.getpeername()[0]
    checks = [LayerCheck("dns", True, f"{host.address} resolves to {peer}"),
              LayerCheck("tcp", True, f"TCP {peer}:{host.port} open")]
    with sock:
        try:
            banner = sock.makefile("rb").readline(256)
        except OSError as exc:
            checks.append(LayerCheck("ssh", False, f"no SSH banner within {timeout:g}s ({exc})"))
            return checks
    if banner.startswith(b"SSH-"):
        return checks + [LayerCheck("ssh", True, banner.decode("ascii", "replace").strip())]
    return checks + [LayerCheck("ssh", False, f"no SSH banner within {timeout:g}s")]


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


HOSTER_REFERENCE: HostVar[str | None] = HostVar("hoster_reference", "our customer number at the hosting provider",
                                                None, __name__, _optional_text)
HOSTER_SERVER_ID: HostVar[str | None] = HostVar("hoster_server_id", "the provider's id of the server", None,
                                                __name__, _optional_text)


class NotifyHosterAction(HostAction):
    """Draft and send (SMTP or .eml) a notice to the hosting provider for a host down at the network level.

    Probes DNS/TCP/SSH from here without logging in, lists what still answers, reads since
    when the host has failed from the journals, and never notifies twice for the same outage
    within ``window``. The provider comes from ``customer.contacts.hoster``; host vars
    ``hoster_reference`` (our customer number there) and ``hoster_server_id`` go into it.

    Params: ``window`` (default 24h), ``via`` (auto: SMTP if the customer or environment
    names a relay, else .eml), ``sender``, ``language`` (customer | de | en), ``state_file``
    (default <reports>/state/hoster-notifications.json), ``probe_timeout`` (default 5s).
    """

    name = "notify.hoster"
    Params = NotifyParams
    host_vars = SERVICE_VARS + (HOSTER_REFERENCE, HOSTER_SERVER_ID)
    confirm = True
    needs_connection = False

    def plan(self, task: HostTask, params: NotifyParams) -> Plan:
        host = task.host
        customer = task.inventory.customer_of(host) if task.inventory is not None else None
        if host.connection == "local":
            return Plan(Outcome.SKIPPED, message="local connection: no network between here and the host")
        layers = check_layers(host, params.probe_timeout)
        failing = [c for c in layers if not c.ok]
        data: dict[str, Any] = {"layers": [c.to_json() for c in layers]}
        if not failing:
            return Plan(Outcome.OK, data=data, message="the host answers at the network level (SSH banner): "
                        "nothing to tell "
                        "the provider")
        hoster = customer.hoster if customer is not None else None
        if hoster is None:
            return Plan(Outcome.SKIPPED, data=data, message=f"{failing[0].detail}; but the inventory names no hosting "
                        "provider (customer.contacts.hoster)")
        runs_dir = task.journal.run_dir.parent
        now = task.clock()
        down = outage(runs_dir, host.name, now=now)
        since = down.since or now
        working = still_working(task, params.probe_timeout)
        data.update(since=iso(since), last_reached=iso(down.last_reached) if down.last_reached else None,
                    still_working=[p.to_json() for p in working if p.ok],
                    not_working=[p.to_json() for p in working if not p.ok], hoster=hoster.name)
        log = NotificationLog(Path(params.state_file) if params.state_file else _reports_root(runs_dir) / STATE_FILE)
        last = log.last_for(host.name)
        if last is not None:
            sent = parse_ts(last["sent_at"])
            if now - sent < timedelta(seconds=params.window) and not reached_since(runs_dir, host.name, sent):
                data["already_notified"] = last
                return Plan(Outcome.OK, data=data, message=f"{hoster.name} was already told at {last['sent_at']} about this "
                            "outage: not again")
        if not hoster.email:
            return Plan(Outcome.FAILED, data=data, message=f"{failing[0].detail}; {hoster.name} has no e-mail in the "
                        f"inventory: call {hoster.phone or 'them'}")
        language = (customer.language if customer else "de") if params.language == "customer" else params.language
        incident = _incident(task)
        subject, body = _draft(language, host, customer, failing, layers, since, working, incident, task.vars)
        data.update(subject=subject, body=body, to=hoster.email)
        sentence = f"notify {hoster.name} <{hoster.email}>: {host.name} unreachable ({failing[0].layer}) since {iso(since)}"
        return Plan(Outcome.CHANGED, changes=(Change(sentence=sentence, apply=lambda t: _deliver(
            t, params, customer, subject, body, str(hoster.email), log, since, [c.layer for c in failing],
            hoster.name), message=notice_message(hoster.name, "smtp")),), data=data)


def notice_message(provider: str, via: str) -> Message:
    """The report's message for the notice: "informed" once it went by SMTP; an .eml only
    written here is a notice prepared, which someone still has to send."""
    return Message("provider_notified" if via == "smtp" else "provider_notice_written", {"provider": provider})


def _reports_root(runs_dir: Path) -> Path:
    # <reports>/runs is the default layout; with a separate --runs-dir its parent stands in.
    return runs_dir.parent


def _incident(task: HostTask) -> str | None:
    for event in read_events(task.journal.path)[:1]:
        if event.get("event") == "run.start":
            return event.get("incident")
    return None


def _draft(language: str, host: Host, customer: Customer | None, failing: list[LayerCheck],
           layers: list[LayerCheck], since: datetime, working: list[ProbeResult], incident: str | None,
           vars: HostVars) -> tuple[str, str]:
    zone = customer.contract.timezone if customer is not None and customer.contract is not None else None
    local = since.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if zone else ""
    when = f"{local} ({since.strftime('%Y-%m-%d %H:%M')} UTC)" if local else f"{since.strftime('%Y-%m-%d %H:%M')} UTC"
    ref = vars.read(HOSTER_REFERENCE) or (customer.name if customer else "")
    server = vars.read(HOSTER_SERVER_ID)
    answering = [p for p in working if p.ok]
    silent = [p for p in working if not p.ok]
    de = language == "de"
    lines = [("Guten Tag," if de else "Hello,"), "",
             (f"der Server {host.name} ({host.address}) ist von uns aus nicht erreichbar." if de else
              f"the server {host.name} ({host.address}) cannot be reached from our side."), "",
             f"{'Seit' if de else 'Since'}: {when}",
             f"{'Kundenreferenz' if de else 'Customer reference'}: {ref}"]
    if server:
        lines.append(f"{'Server-ID' if de else 'Server id'}: {server}")
    if incident:
        lines.append(f"{'Unser Vorgang' if de else 'Our incident'}: {incident}")
    lines += ["", "Ebenen (von uns aus geprüft):" if de else "Layers (checked from our side):"]
    lines += [f"  {c.layer.upper():4} {'ok' if c.ok else 'FEHLER' if de else 'FAILED'}: {c.detail}" for c in layers]
    if answering:
        lines += ["", "Was noch antwortet:" if de else "What still answers:"]
        lines += [f"  {p.kind} {p.target}: {p.detail}" for p in answering]
    if silent:
        lines += ["", "Was nicht antwortet:" if de else "What does not answer:"]
        lines += [f"  {p.kind} {p.target}: {p.detail}" for p in silent]
    lines += ["", ("Bitte prüfen Sie Netzwerk und Server und geben Sie uns Bescheid. Vielen Dank." if de else
                   "Please check the network and the server and let us know. Thank you.")]
    layer = failing[0].layer.upper()
    subject = (f"{ref}: {host.name} nicht erreichbar ({layer}) seit {when}" if de else
               f"{ref}: {host.name} unreachable ({layer}) since {when}")
    return subject, "\n".join(lines) + "\n"


def _deliver(task: HostTask, params: NotifyParams, customer: Customer | None, subject: str, body: str, to: str,
             log: NotificationLog, since: datetime, layers: list[str], provider: str) -> Applied:
    from runbook.mail import SmtpSettings, build_message, default_sender, send, write_eml

    smtp_config = dict(customer.smtp) if customer is not None else {}
    via = params.via
    if via == "auto":
        via = "smtp" if smtp_config.get("host") or os.environ.get("RUNBOOK_SMTP_HOST") else "eml"
    sender = params.sender or default_sender(smtp_config)
    msg = build_message(subject, body, sender=str(sender), to=[to], date=task.clock())
    stamp = task.clock().strftime("%Y%m%dT%H%M%SZ")
    path = write_eml(msg, task.artifacts_dir / f"hoster-notice-{task.host.name}-{stamp}.eml")
    raw = path.read_bytes()
    task.artifact("mail", path, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                  manifest={"to": to, "subject": subject, "via": via})
    note = f"written to {path.relative_to(task.journal.run_dir)}"
    if via == "smtp":
        settings = SmtpSettings.from_mapping(smtp_config, os.environ, file=customer.file if customer else None)
        began = time.monotonic()
        send(msg, settings)
        note = f"sent by SMTP via {settings.host}:{settings.port} in {time.monotonic() - began:.1f}s; copy {note}"
    log.add({"host": task.host.name, "customer": task.host.customer, "since": iso(since), "layers": layers,
             "sent_at": iso(task.clock()), "via": via, "to": to, "subject": subject,
             "message_id": msg["Message-ID"], "run_id": task.journal.run_id,
             "eml": str(path)})
    return Applied(note, message_id=notice_message(provider, via).id)
