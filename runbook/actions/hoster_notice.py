"""The fault notice to a hosting provider as values, and its text in the provider's language.

``notify.hoster`` (``runbook.actions.notify``) finds the hosts that are down at the network
level and groups them per provider; a ``Notice`` is one such message: every affected host with
its address, server id, failing layer, since when and what still answers, plus who we are and
how the provider reaches us. ``draft`` words it from the notice catalogue
(``runbook.reports.messages.notice``): no sentence is written here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from runbook.facts.reachability import ProbeResult
from runbook.inventory.model import HosterContact
from runbook.reports import i18n
from runbook.reports.messages.notice import NOTICE


@dataclass(frozen=True)
class LayerCheck:
    """One layer between here and the host: name, ok, a line for the terminal and the journal,
    and the parts the notice words itself (the system's reason, the address it resolved to,
    the SSH banner)."""

    layer: str
    ok: bool
    detail: str
    reason: str | None = None
    peer: str | None = None
    banner: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "ok": self.ok, "detail": self.detail, "reason": self.reason,
                "peer": self.peer, "banner": self.banner}


@dataclass(frozen=True)
class DownHost:
    """One host the notice is about, as checked from here."""

    name: str
    address: str
    port: int
    since: datetime
    layers: tuple[LayerCheck, ...]
    working: tuple[ProbeResult, ...] = ()
    server_id: str | None = None
    probe_timeout: float = 5.0

    @property
    def failing(self) -> LayerCheck:
        """The first layer that failed (the layers stop there)."""
        return next(c for c in self.layers if not c.ok)


@dataclass(frozen=True)
class OurContact:
    """Who the provider answers to: the person on call, our company and team, the callback
    number and the e-mail address (from the inventory's ``operator`` and ``signature``)."""

    name: str | None = None
    company: str | None = None
    team: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Notice:
    """One message to one provider about every host of one outage not yet notified."""

    provider: HosterContact
    customer: str
    hosts: tuple[DownHost, ...]
    contact: OurContact
    language: str
    timezone: str | None = None
    number: str | None = None
    incident: str | None = None

    @property
    def since(self) -> datetime:
        """When the first of its hosts stopped answering."""
        return min(h.since for h in self.hosts)

    @property
    def host_names(self) -> list[str]:
        return [h.name for h in self.hosts]


class _Words:
    """The notice catalogue in one language, with the few formats a notice needs."""

    def __init__(self, lang: str, tz: str | None) -> None:
        self.lang = i18n.check_lang(lang)
        self.tz = tz

    def t(self, msgid: str, /, **args: Any) -> str:
        return NOTICE[self.lang][msgid].format(**args)

    def has(self, msgid: str) -> bool:
        return msgid in NOTICE[self.lang]

    def join(self, items: Sequence[str]) -> str:
        return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {self.t('list.and')} {items[-1]}"

    def moment(self, ts: datetime) -> str:
        """"03.12.2026, 02:14 Uhr (MEZ)" / "3 Dec 2026, 02:14 CET (01:14 UTC)", in the
        contract's time zone; in UTC when the contract names none."""
        utc = ts.astimezone(timezone.utc)
        if self.tz is None:
            return self.t("time.utc", date=i18n.format_date(utc, self.lang, "UTC"),
                          time=i18n.format_time(utc, self.lang, "UTC"))
        abbr = ts.astimezone(ZoneInfo(self.tz)).tzname() or self.tz
        zone = self.t(f"zone.{abbr}") if self.has(f"zone.{abbr}") else abbr
        return self.t("time", date=i18n.format_date(ts, self.lang, self.tz),
                      time=i18n.format_time(ts, self.lang, self.tz), zone=zone, utc=utc.strftime("%H:%M"))

    def reason(self, text: str | None, seconds: float) -> str:
        """The system's reason, in words where it is one we know ("timed out")."""
        if text is None or "timed out" in text:
            return self.t("reason.timeout", seconds=f"{seconds:g}")
        return text

    def layer(self, host: DownHost, check: LayerCheck) -> str:
        msgid = f"layer.{check.layer}.{'ok' if check.ok else 'failed'}"
        return self.t(msgid, address=host.address, port=host.port, peer=check.peer or host.address,
                      banner=check.banner or "", reason=self.reason(check.reason, host.probe_timeout))

    def probe(self, probe: ProbeResult, seconds: float) -> str:
        target = self.t("probe.tcp", target=probe.target) if probe.kind == "tcp" else probe.target
        if probe.ok:
            if probe.kind == "http":
                return self.t("probe.http", target=probe.target, status=probe.http_status or "")
            return target
        why = probe.reason or "other"
        if why == "timeout":
            reason = self.t("reason.timeout", seconds=f"{seconds:g}")
        elif self.has(f"reason.{why}") and why != "other":
            reason = self.t(f"reason.{why}", http_status=probe.http_status, expected=probe.expected)
        else:
            reason = self.t("reason.other", detail=probe.detail)
        return self.t("probe.failed", target=target, reason=reason)


def draft(notice: Notice) -> tuple[str, str]:
    """The notice's subject and plain-text body in its language."""
    w = _Words(notice.language, notice.timezone)
    since = w.moment(notice.since)
    names = w.join(notice.host_names)
    subject = (w.t("subject.number", number=notice.number, hosts=names, since=since) if notice.number
               else w.t("subject", hosts=names, since=since))
    intro = "intro.one" if len(notice.hosts) == 1 else "intro.many"
    lines = [w.t("greeting"), "", w.t(intro, customer=notice.customer, count=len(notice.hosts), since=since)]
    references = ([w.t("number", number=notice.number)] if notice.number else []) + (
        [w.t("incident", incident=notice.incident)] if notice.incident else [])
    if references:
        lines += [""] + references
    for host in notice.hosts:
        lines += ["", _host_block(w, host)]
    lines += ["", w.t("request")]
    if notice.contact.phone:
        lines.append(w.t("callback", phone=notice.contact.phone))
    lines.append(w.t("reply"))
    lines += ["", w.t("regards")] + _signature(w, notice.contact)
    return subject, "\n".join(lines) + "\n"


def _host_block(w: _Words, host: DownHost) -> str:
    head = (w.t("host.server_id", host=host.name, address=host.address, server_id=host.server_id)
            if host.server_id else w.t("host", host=host.name, address=host.address))
    lines = [head, f"  {w.t('since', since=w.moment(host.since))}",
             f"  {w.t('failing', layer=host.failing.layer.upper())}", f"  {w.t('checked')}"]
    # an address that is already an IP needs no DNS: its "resolves to itself" says nothing
    lines += [f"    {w.layer(host, c)}" for c in host.layers if not (c.layer == "dns" and c.ok and _is_ip(host.address))]
    answering = [p for p in host.working if p.ok]
    silent = [p for p in host.working if not p.ok]
    if answering:
        lines.append(f"  {w.t('answering')}")
        lines += [f"    {w.probe(p, host.probe_timeout)}" for p in answering]
    else:
        lines.append(f"  {w.t('answering.none')}")
    if silent:
        lines.append(f"  {w.t('silent')}")
        lines += [f"    {w.probe(p, host.probe_timeout)}" for p in silent]
    return "\n".join(lines)


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _signature(w: _Words, contact: OurContact) -> list[str]:
    lines = [line for line in (contact.name, ", ".join(p for p in (contact.company, contact.team) if p)) if line]
    if contact.email:
        lines.append(w.t("sig.email", email=contact.email))
    if contact.phone:
        lines.append(w.t("sig.phone", phone=contact.phone))
    return lines
