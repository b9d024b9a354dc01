"""Messages and values in one language and timezone: what templates call as ``w``.

Every sentence comes from the catalogue (``runbook.reports.messages``); this module only
picks the variant a message needs (a plural "one", the probe's reason, the layer that failed)
and formats its arguments by what they are, named by their key:

- ``*_bytes``: "4,2 GiB"; ``*_percent``: "93 %"; ``load_*``: two decimals; ``*_at``: "02:41";
  other numbers localized ("1.234"), ``http_status``/``expected`` as they are ("504");
- ``layer``, ``status``, ``tier``, ``reason``: a catalogue word;
- a list: its items formatted by the key's singular ("services" -> "service") and joined
  ("a, b und c"); ``needs`` and ``service_keys`` hold "host:service" keys ("postgresql auf db1");
- a nested ``Message``: its sentence; anything else: as it is (paths, URLs, names).

Every method returns plain ``str``: the HTML templates autoescape it, so hostile server text
stays text. Only ``runbook.reports.charts`` returns markup, and it escapes every label itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date as _date
from datetime import datetime, timedelta
from typing import Any

from runbook.analysis.fingerprint import elide_placeholders
from runbook.analysis.timeline import TimelineEvent
from runbook.journal import parse_ts
from runbook.reports import i18n
from runbook.reports.model import Finding, Measure, Message, Observation, SlaSummary

#: Messages whose sentence depends on one argument: the id gets ".<value>" when the catalogue has it.
VARIANT_BY = {"check.probe": "reason", "check.unreachable": "layer", "check.access": "layer",
              "cause.logs": "tier"}
#: Arguments that are words from the catalogue: key -> catalogue prefix.
WORD_ARGS = {"layer": "layer", "status": "status", "tier": "tier", "channel": "channel", "aspect": "aspect",
             "action": "action"}
#: Arguments shown exactly as they are, whatever they look like.
VERBATIM = {"http_status", "expected", "pid", "text", "summary", "by", "operator"}


def _digits(value: float) -> int:
    """One decimal where it carries information: "93,4 %", but "90 %"."""
    return 0 if float(value).is_integer() else 1


class Wording:
    """Formats and words report values for one language (``de``/``en``) and timezone."""

    def __init__(self, lang: str, tz: str) -> None:
        self.lang = i18n.check_lang(lang)
        self.tz = tz

    # -- plain formatting --------------------------------------------------------------------
    def t(self, msgid: str, /, **args: Any) -> str:
        return i18n.t(self.lang, msgid, **args)

    def has(self, msgid: str) -> bool:
        return i18n.has(self.lang, msgid)

    def dt(self, ts: datetime | None) -> str:
        return i18n.format_datetime(ts, self.lang, self.tz) if ts else "–"

    def time(self, ts: datetime | None, seconds: bool = False) -> str:
        return i18n.format_time(ts, self.lang, self.tz, seconds=seconds) if ts else "–"

    def clock(self, ts: datetime | None) -> str:
        """A time of day as a sentence says it: "02:41 Uhr" / "02:41"."""
        return self.t("clock", time=self.time(ts)) if ts else "–"

    def date(self, day: _date | datetime | None) -> str:
        return i18n.format_date(day, self.lang, self.tz) if day else "–"

    def day(self, day: _date | None) -> str:
        return i18n.format_day(day, self.lang) if day else "–"

    def bytes(self, n: int | float | None) -> str:
        return i18n.format_bytes(n, self.lang) if n is not None else "–"

    def num(self, x: int | float | None, digits: int = 0) -> str:
        return i18n.format_number(x, self.lang, digits) if x is not None else "–"

    def pct(self, x: int | float | None, digits: int | None = None) -> str:
        if x is None:
            return "–"
        return i18n.format_percent(x, self.lang, _digits(round(x, 1)) if digits is None else digits)

    def secs(self, s: float | None) -> str:
        return i18n.format_seconds(s, self.lang) if s is not None else "–"

    def span(self, delta: timedelta | None) -> str:
        return i18n.format_timedelta(delta, self.lang) if delta is not None else "–"

    def zone(self, ts: datetime) -> str:
        return self.t("meta.timezone", tz=self.tz, abbr=i18n.zone_label(ts, self.tz))

    def join(self, items: Sequence[str]) -> str:
        """"web1, web2 and web3" / "web1, web2 und web3"."""
        items = [i for i in items if i]
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.t('list.and')} {items[-1]}"

    def word(self, prefix: str, key: Any) -> str:
        """A catalogue word like ``status.CRITICAL``; unknown keys are shown as they are."""
        msgid = f"{prefix}.{key}"
        return self.t(msgid) if self.has(msgid) else str(key)

    def status(self, s: str) -> str:
        return self.word("status", s)

    def value(self, v: Any) -> str:
        """A value from an analysis table: numbers localized, times local."""
        if isinstance(v, bool):
            return self.t("yes" if v else "no")
        if isinstance(v, datetime):
            return self.dt(v)
        if isinstance(v, int):
            return self.num(v)
        if isinstance(v, float):
            return self.num(v, _digits(v))
        return "–" if v is None else str(v)

    # -- messages ----------------------------------------------------------------------------
    def say(self, message: Message | str) -> str:
        """The sentence of ``message`` in this language (a plain string is already words)."""
        if isinstance(message, str):
            return message
        msgid = self._variant(message)
        args = {k: self.arg(k, v) for k, v in message.args.items()}
        try:
            return self.t(msgid, **args)
        except (KeyError, IndexError):
            # A newer producer's message, or args that do not fit: say what is known, in words.
            return self.t("unknown_message")

    def _variant(self, message: Message) -> str:
        msgid = message.id
        key = VARIANT_BY.get(msgid)
        if key is not None and self.has(f"{msgid}.{message.args.get(key)}"):
            msgid = f"{msgid}.{message.args.get(key)}"
        if message.args.get("answering") and self.has(f"{msgid}.answering"):
            msgid += ".answering"
        if message.args.get("count") == 1 and self.has(f"{msgid}.one"):
            msgid += ".one"
        hosts = message.args.get("host")
        if isinstance(hosts, (list, tuple)) and len(hosts) > 1 and self.has(f"{msgid}.many"):
            msgid += ".many"  # "down1 und tarpit1 sind …"
        return msgid

    def arg(self, key: str, v: Any) -> str:
        """One argument of a message, formatted by what its key says it is."""
        v = i18n.localized(v, self.lang)  # {"de": ..., "en": ...} from journals of older versions
        if isinstance(v, Message):
            return self.say(v)
        if isinstance(v, (list, tuple)):
            return self.join([self._item(key, item) for item in v])
        if v is None:
            return "–"
        if key in VERBATIM:
            return str(v)
        if key in WORD_ARGS:
            return self.word(WORD_ARGS[key], v)
        if isinstance(v, bool):
            return self.t("yes" if v else "no")
        if isinstance(v, (int, float)):
            if key == "bytes" or key.endswith("_bytes"):
                return self.bytes(v)
            if key.endswith("_percent"):
                return self.pct(v)
            if key.startswith("load"):
                return self.num(v, 2)
            return self.num(v, 0 if float(v).is_integer() else 1)
        if isinstance(v, str) and key.endswith("_at"):
            try:
                return self.time(parse_ts(v))
            except ValueError:
                return v
        return str(v)

    def grouped(self, messages: Sequence[Message]) -> tuple[str, ...]:
        """Messages that differ only in their host, said once for all those hosts."""
        groups: dict[tuple[str, str], list[Message]] = {}
        for m in messages:
            rest = {k: v for k, v in m.args.items() if k != "host"}
            groups.setdefault((m.id, repr(sorted(rest.items(), key=lambda kv: kv[0]))), []).append(m)
        out = []
        for group in groups.values():
            hosts = [m.args.get("host") for m in group]
            first = group[0]
            out.append(self.say(Message(first.id, {**first.args, "host": hosts if len(hosts) > 1 else hosts[0]})))
        return tuple(out)

    def _item(self, key: str, item: Any) -> str:
        if key in ("needs", "service_keys") and isinstance(item, str) and ":" in item:
            host, _, service = item.partition(":")
            return self.t("service_on_host", service=service, host=host)
        singular = key[:-1] if key.endswith("s") else key
        return self.arg(singular, item)

    # -- the report's values -----------------------------------------------------------------
    def finding(self, f: Finding | Observation) -> str:
        """"Kritisch: /var: 96 % belegt, 820,0 MiB frei (Warnung ab 85 %, kritisch ab 90 %)"."""
        if f.area in ("reach", "access"):  # "nicht erreichbar (…)" says its status itself
            return self.check_text(f)
        return self.t("finding", status=self.status(f.status), text=self.check_text(f))

    def check_text(self, f: Finding | Observation) -> str:
        """What was found, with the thresholds of a measured value."""
        obs = f.worst if isinstance(f, Finding) else f
        text = self.say(obs.message)
        if obs.warn is not None and obs.crit is not None and obs.value is not None and obs.status != "OK":
            shown = self.pct if obs.unit == "%" else (lambda v: self.num(v, 2))
            direction = "below" if obs.direction == "below" else "above"
            text += f" ({self.t(f'limits.{direction}', warn=shown(obs.warn), crit=shown(obs.crit))})"
        return text

    def measure(self, m: Measure, *, planned: bool = False) -> str:
        """One plain sentence per change; a plan is said as what would be done."""
        if planned:
            plan = Message("plan." + m.message.id.removeprefix("measure."), m.message.args)
            return self.say(plan) if self.has(self._variant(plan)) else self.t("plan.text", host=m.host,
                                                                               text=m.text)
        return self.say(m.message)

    def channel(self, channel: str | None) -> str:
        if not channel:
            return ""
        msgid = f"channel.{channel}"
        return self.t(msgid) if self.has(msgid) else self.t("channel.other", channel=channel)

    def sla(self, sla: SlaSummary) -> str:
        """The SLA verdict as the customer reads it, with the margin."""
        args = dict(deadline=self.dt(sla.deadline), basis=self.word("basis", sla.basis))
        if sla.reaction_started is None or sla.met is None:
            return self.t("sla.pending", **args)
        return self.t("sla.met" if sla.met else "sla.missed", started=self.dt(sla.reaction_started),
                      margin=self.span(sla.margin), **args)

    def sla_brief(self, sla: SlaSummary) -> str:
        """The SLA verdict in one line, for the immediate report."""
        args = dict(deadline=self.clock(sla.deadline) if self.date(sla.deadline) == self.date(sla.received)
                    else self.dt(sla.deadline))
        if sla.reaction_started is None or sla.met is None:
            return self.t("sla.brief.pending", **args)
        return self.t("sla.brief.met" if sla.met else "sla.brief.missed", started=self.clock(sla.reaction_started),
                      margin=self.span(sla.margin), **args)

    def margin(self, sla: SlaSummary) -> str:
        if sla.met is None or sla.margin is None:
            return "–"
        return self.t("margin.early" if sla.met else "margin.late", margin=self.span(sla.margin))

    def person(self, name: str | None, email: str | None = None, phone: str | None = None) -> str:
        """"Eva Berger (eva@…, +49 …)"; the parts that are known."""
        contact = ", ".join(p for p in (email, phone) if p)
        return f"{name} ({contact})" if name and contact else name or contact

    def log_event(self, e: TimelineEvent) -> str:
        """One line of the cross-host log timeline (runbook.analysis.merge_timeline); the
        log's own line pattern stays as the server wrote it, its varying parts shown as "…"."""
        if e.kind == "errors" and e.total:
            if e.format == "access":
                return self.t("logtl.errors_5xx", count=self.num(e.count), total=self.num(e.total),
                              pct=self.pct(100.0 * e.count / e.total, 1))
            return self.t("logtl.errors", count=self.num(e.count), total=self.num(e.total))
        if e.kind in ("first", "last"):
            line = self.t(f"logtl.{e.kind}", text=elide_placeholders(e.text))
            return f"{line} {self.t('logtl.new')}" if e.new else line
        return e.text

    def counted(self, msgid: str, count: int, **args: Any) -> str:
        """A sentence with a count: its ".one" form for exactly one ("in 1 Lauf")."""
        return self.say(Message(msgid, {"count": count, **args}))

    def plain(self, mapping: Mapping[str, Any]) -> dict[str, str]:
        """A mapping of message args, formatted (for templates that build their own sentence)."""
        return {k: self.arg(k, v) for k, v in mapping.items()}
