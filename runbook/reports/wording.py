"""Sentences from report values, in one language and timezone; what templates call as ``w``.

Every method returns plain ``str``: the HTML templates autoescape it, so a hostile check
message or command line stays text. Only ``runbook.reports.charts`` returns markup, and it
escapes every label itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date as _date
from datetime import datetime, timedelta
from typing import Any

from runbook.analysis.timeline import TimelineEvent
from runbook.change import INTERNAL
from runbook.journal import parse_ts
from runbook.reports import i18n
from runbook.reports.model import (
    DiskChange,
    Finding,
    HostFailure,
    HostState,
    Measure,
    Recommendation,
    SlaSummary,
    TimelineEntry,
)

TIMELINE_COMMAND_CHARS = 120


def _bare(message: str, host: str, layer: str | None) -> str:
    """A ConnectError's text without the "<host>: <layer>: " the sentence already says."""
    message = message.removeprefix(f"{host}: ")
    return message.removeprefix(f"{layer}: ") if layer else message


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

    def dt(self, ts: datetime | None) -> str:
        return i18n.format_datetime(ts, self.lang, self.tz) if ts else "–"

    def time(self, ts: datetime | None, seconds: bool = False) -> str:
        return i18n.format_time(ts, self.lang, self.tz, seconds=seconds) if ts else "–"

    def date(self, day: _date | datetime | None) -> str:
        return i18n.format_date(day, self.lang, self.tz) if day else "–"

    def day(self, day: _date | None) -> str:
        return i18n.format_day(day, self.lang) if day else "–"

    def bytes(self, n: int | float | None) -> str:
        return i18n.format_bytes(n, self.lang) if n is not None else "–"

    def num(self, x: int | float | None, digits: int = 0) -> str:
        return i18n.format_number(x, self.lang, digits) if x is not None else "–"

    def pct(self, x: int | float | None, digits: int = 0) -> str:
        return i18n.format_percent(x, self.lang, digits) if x is not None else "–"

    def secs(self, s: float | None) -> str:
        return i18n.format_seconds(s, self.lang) if s is not None else "–"

    def span(self, delta: timedelta | None) -> str:
        return i18n.format_timedelta(delta, self.lang) if delta is not None else "–"

    def zone(self, ts: datetime) -> str:
        return self.t("meta.timezone", tz=self.tz, abbr=i18n.zone_label(ts, self.tz))

    def join(self, items: Sequence[str]) -> str:
        """"web1, web2 and web3" / "web1, web2 und web3"."""
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.t('list.and')} {items[-1]}"

    def value(self, v: Any) -> str:
        """A value from a check or an analysis: numbers localized, bools as words."""
        if isinstance(v, bool):
            return self.t("yes" if v else "no")
        if isinstance(v, datetime):
            return self.dt(v)
        if isinstance(v, int):
            return self.num(v)
        if isinstance(v, float):
            return self.num(v, 0 if v.is_integer() else 1)
        if v is None:
            return "–"
        return str(i18n.localized(v, self.lang))

    def measurement(self, name: str, v: Any) -> str:
        """An evidence value by its name: ``*_bytes`` as "4,2 GiB", ``*_percent`` as "93 %"."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if name.endswith("bytes"):
                return self.bytes(v)
            if name.endswith("percent"):
                return self.pct(v, _digits(v))
        return self.value(v)

    def word(self, prefix: str, key: Any) -> str:
        """A catalogue word like ``status.CRITICAL``; unknown keys are shown as they are."""
        msgid = f"{prefix}.{key}"
        return self.t(msgid) if i18n.has(self.lang, msgid) else str(key)

    def status(self, s: str) -> str:
        return self.word("status", s)

    def outcome(self, o: str) -> str:
        return self.word("outcome", o)

    def layer(self, layer: str | None) -> str:
        return self.word("layer", layer) if layer else "?"

    # -- sentences ---------------------------------------------------------------------------
    def finding(self, f: Finding) -> str:
        """"Kritisch: /var: 96 % belegt, 820,0 MiB frei (Warnung ab 85 %, kritisch ab 90 %)"."""
        return self.t("finding", status=self.status(f.status), text=self.check_text(f))

    def check_text(self, f: Finding) -> str:
        """What a check found, in the report's language for the checks runbook.health makes;
        other checks keep their own message (written by whoever made the check)."""
        try:
            text = self._known_check(f)
        except (KeyError, TypeError, ValueError):
            text = None  # details not as expected: the check's own message is still right
        if text is None:
            return self.t("check.generic", check=f.check, message=f.message) if f.message else f.check
        return text

    def _known_check(self, f: Finding) -> str | None:
        kind, _, target = f.check.partition(":")
        d = f.details
        if f.status == "UNKNOWN" and d.get("reason"):
            return self.t("check.unknown", check=f.check, reason=d["reason"])
        if f.check == "reachability":
            layer = d.get("layer")
            message = _bare(f.message, f.host, layer).removeprefix(f"{layer} layer failed: ")
            return self.t("check.reachability", layer=self.layer(layer), message=message)
        if kind in ("http", "tcp") and target:
            # a service probe: its message is "<target> <detail>"
            detail = f.message.removeprefix(target).strip() or "–"
            return self.t(f"check.{kind}", target=target, detail=detail)
        if f.value is None:
            return None
        if kind == "disk" and target and d.get("free_bytes") is not None:
            text = self.t("check.disk", mount=target, used=self.pct(f.value, _digits(f.value)),
                          free=self.bytes(d["free_bytes"]))
        elif kind == "inodes" and target:
            text = self.t("check.inodes", mount=target, used=self.pct(f.value, _digits(f.value)))
        elif f.check == "memory":
            text = self.t("check.memory", available=self.pct(f.value, _digits(f.value)),
                          available_bytes=self.bytes(d["available_bytes"]), total_bytes=self.bytes(d["total_bytes"]))
        elif f.check == "swap":
            text = self.t("check.swap", used=self.pct(f.value, _digits(f.value)),
                          used_bytes=self.bytes(d["swap_used_bytes"]), total_bytes=self.bytes(d["swap_total_bytes"]))
        elif f.check == "load":
            text = self.t("check.load", value=self.num(f.value, 2), cpus=d["cpu_count"])
        else:
            return None
        if f.warn is not None and f.crit is not None:
            shown = (lambda v: self.pct(v, _digits(v))) if f.unit == "%" else (lambda v: self.num(v, 2))
            direction = "below" if d.get("direction") == "below" else "above"
            text += f" ({self.t(f'check.limits.{direction}', warn=shown(f.warn), crit=shown(f.crit))})"
        return text

    def failure(self, f: HostFailure) -> str:
        if f.outcome == "unreachable":
            return self.t("failure.unreachable", host=f.host, layer=self.layer(f.layer),
                          message=_bare(f.message, f.host, f.layer))
        return self.t("failure.failed", host=f.host, message=_bare(f.message, f.host, None))

    def measure(self, m: Measure) -> str:
        """One plain sentence per change; catalogue sentences read best, free text is framed."""
        sentence = None
        if m.msgid:
            msgid = m.msgid if m.msgid.startswith("measure.") else f"measure.{m.msgid}"
            if m.args.get("count") == 1 and i18n.has(self.lang, f"{msgid}.one"):
                msgid += ".one"  # "one log file", not "1 log files"
            if i18n.has(self.lang, msgid):
                args = {k: self._arg(k, v) for k, v in m.args.items()}
                args.update(host=m.host, time=self.time(m.ts))
                try:
                    sentence = self.t(msgid, **args)
                except (KeyError, IndexError):
                    sentence = None  # the action's args do not fit the sentence: fall back to its text
        if sentence is None:
            text = i18n.localized(m.text, self.lang) if m.text is not None else (m.msgid or "")
            sentence = self.t("measure.text", host=m.host, time=self.time(m.ts), text=str(text))
        return self.t("measure.planned", sentence=sentence) if m.planned_only else sentence

    def _arg(self, key: str, v: Any) -> str:
        v = i18n.localized(v, self.lang)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if key == "bytes" or key.endswith("_bytes"):
                return self.bytes(v)
            if key.endswith("_percent"):
                return self.pct(v)
            return self.value(v)
        if isinstance(v, str) and key.endswith("_at"):
            try:
                return self.time(parse_ts(v))
            except ValueError:
                return v
        return str(v)

    def disk_effect(self, host: str, d: DiskChange) -> str | None:
        """"/var on web1 was 96% full and is now at 71%; 4.2 GiB freed." or None if unchanged."""
        if d.used_before is None or d.used_after is None or d.used_before == d.used_after:
            return None
        args = dict(mount=d.mount, host=host, before=self.pct(d.used_before), after=self.pct(d.used_after))
        freed = d.freed
        if freed is not None and freed > 0:
            return self.t("effect.disk", freed=self.bytes(freed), **args)
        return self.t("effect.disk_plain", **args)

    def state(self, s: HostState) -> str:
        text = self.t("current.host", host=s.host, status=self.status(s.status))
        if s.not_ok:
            text += " – " + "; ".join(self.finding(f) for f in s.not_ok)
        elif s.status == "UNREACHABLE" and s.error:
            reason = _bare(s.error, s.host, s.layer)
            text += f" ({self.layer(s.layer)}: {reason})" if s.layer else f" ({reason})"
        return text

    def recommendation(self, r: Recommendation) -> str:
        args = dict(r.args)
        if "used" in args:
            args["used"] = self.pct(args["used"])
        if "layer" in args:
            args["layer"] = self.layer(args["layer"])
        if "status" in args:
            args["status"] = self.status(args["status"])
        return self.t(r.msgid, **args)

    def channel(self, channel: str | None) -> str:
        if not channel:
            return ""
        msgid = f"channel.{channel}"
        return self.t(msgid) if i18n.has(self.lang, msgid) else self.t("channel.other", channel=channel)

    def basis(self, basis: str) -> str:
        return self.word("basis", basis)

    def sla(self, sla: SlaSummary) -> str:
        """The SLA verdict as the customer reads it, with the margin."""
        args = dict(deadline=self.dt(sla.deadline), basis=self.basis(sla.basis))
        if sla.reaction_started is None or sla.met is None:
            return self.t("sla.pending", **args)
        return self.t("sla.met" if sla.met else "sla.missed", started=self.dt(sla.reaction_started),
                      margin=self.span(sla.margin), **args)

    def margin(self, sla: SlaSummary) -> str:
        if sla.met is None or sla.margin is None:
            return "–"
        return self.t("margin.early" if sla.met else "margin.late", margin=self.span(sla.margin))

    # -- timeline ----------------------------------------------------------------------------
    def step(self, index: Any) -> str:
        """Steps are journaled from 0; people count from 1 (as the engine's messages do)."""
        return str(index + 1) if isinstance(index, int) else "?"

    def event(self, e: TimelineEntry) -> str:
        """One journal event as a short line for the timeline."""
        f: Mapping[str, Any] = e.fields
        kind = e.event
        step = self.step(f.get("step"))
        if kind == "run.start":
            check = self.t("ev.check_mode") if f.get("check") else ""
            if f.get("kind") == "sweep":
                return self.t("ev.run.start.sweep", count=len(f.get("hosts") or ()), user=f.get("user", "?"),
                              check=check)
            playbook = (f.get("playbook") or {}).get("name") or "?"
            return self.t("ev.run.start.run", playbook=playbook, user=f.get("user", "?"), check=check)
        if kind == "step.start":
            return self.t("ev.step.start", step=step, name=f.get("name", ""), action=f.get("action", ""))
        if kind == "host.start":
            return self.t("ev.host.start", step=step, host=e.host)
        if kind == "command":
            command = str(f.get("command", ""))
            if len(command) > TIMELINE_COMMAND_CHARS:
                command = command[:TIMELINE_COMMAND_CHARS - 1] + "…"
            duration = self.secs(float(f.get("duration") or 0))
            if f.get("timed_out"):
                return self.t("ev.command.timeout", command=command, duration=duration)
            if f.get("cut_short") in ("interrupted", "connection lost"):
                return self.t(f"ev.command.{f['cut_short']}", command=command, duration=duration)
            if f.get("exit_code") is None:  # a journal of another version: say no more than it knows
                return self.t("ev.command.connection lost", command=command, duration=duration)
            return self.t("ev.command", command=command, code=f.get("exit_code"), duration=duration)
        if kind == "evidence":
            phase = "after" if f.get("phase") == "after" else "before"
            return self.t(f"ev.evidence.{phase}", kind=self.word("evidence", f.get("kind", "")))
        if kind == "artifact":
            return self.t("ev.artifact", path=f.get("path", ""), size=self.bytes(f.get("bytes")))
        if kind == "host.end":
            args = dict(step=step, host=e.host, outcome=self.outcome(str(f.get("outcome"))))
            data: Mapping[str, Any] = f["data"] if isinstance(f.get("data"), Mapping) else {}
            if f.get("outcome") in ("ok", "failed") and data.get("status") and data.get("checks"):
                return self.t("ev.host.end.status", step=step, host=e.host, status=self.status(data["status"]))
            worded = self._changes(e) if f.get("outcome") == "changed" else ""
            if worded or f.get("message"):
                return self.t("ev.host.end.message", message=worded or f["message"], **args)
            return self.t("ev.host.end", **args)
        if kind == "step.end":
            return self.t("ev.step.end", step=step, counts=self._counts(f.get("counts") or {}))
        if kind == "run.end":
            return self.t("ev.run.end", status=self.word("runstatus", f.get("status")),
                          duration=self.secs(float(f.get("duration") or 0)))
        return self.t("ev.other", event=kind)

    def _changes(self, e: TimelineEntry) -> str:
        """A step's changes in the reader's language, where the action named catalogue
        sentences for them; "" if it did not (then its own message is shown)."""
        sentences = []
        for change in e.fields.get("changes") or ():
            if not isinstance(change, Mapping) or change.get("msg") in (None, INTERNAL):
                continue
            sentences.append(self.measure(Measure.of_change(
                change, host=e.host or "?", ts=e.ts, run_id=e.run_id, step=e.fields.get("step"), action="")))
        return " ".join(sentences)

    def log_event(self, e: TimelineEvent) -> str:
        """One line of the cross-host log timeline (runbook.analysis.merge_timeline)."""
        if e.kind == "errors" and e.total:
            if e.format == "access":
                return self.t("logtl.errors_5xx", count=self.num(e.count), total=self.num(e.total),
                              pct=self.pct(100.0 * e.count / e.total, 1))
            return self.t("logtl.errors", count=self.num(e.count), total=self.num(e.total))
        if e.kind in ("first", "last"):
            line = self.t(f"logtl.{e.kind}", text=e.text)
            return f"{line} {self.t('logtl.new')}" if e.new else line
        return e.text

    def _counts(self, counts: Mapping[str, int]) -> str:
        return ", ".join(f"{n} {self.outcome(k)}" for k, n in counts.items())
