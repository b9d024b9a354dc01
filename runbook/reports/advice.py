"""What follows from the findings and the state now: recommendations and open points.

Both are derived from each host's final state (its newest observations), so a report never
advises "plan more space: still 98 % used" about a disk the clean-up brought to 66 %, and
never calls a host open that the last re-check found OK.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runbook.reports.model import HostReport, Message, Observation
from runbook.reports.story import tier

# Above this share of a mount in use after the work, space will run out again soon.
DISK_CAPACITY_PERCENT = 80.0


def _latest(host: HostReport, key: str) -> Observation | None:
    seen = [o for o in host.observations if o.key == key]
    return max(seen, key=lambda o: o.ts) if seen else None


def recommendations(hosts: Sequence[HostReport], cause: Message | None = None) -> tuple[Message, ...]:
    """Advice per host, from what was found, worded against what is true now. Where the
    likely cause is a finding on one host, the failures it caused above it in the chain
    (web answering 504 because the app hung) get no advice of their own."""
    out: list[Message] = []
    origin = cause.args.get("host") if cause is not None and cause.id == "cause.finding" else None
    origin_tier = next((tier(h.roles) for h in hosts if h.name == origin), None)

    def add(msgid: str, **args: Any) -> None:
        message = Message(msgid, args)
        if message not in out:
            out.append(message)

    for host in hosts:
        hung = [f for f in host.findings if f.area == "process"]
        for finding in host.findings:
            target = finding.key.partition(":")[2]
            if finding.key.startswith("disk:"):
                now = _latest(host, finding.key)
                if now is not None and now.value is not None and now.value >= DISK_CAPACITY_PERCENT:
                    add("rec.disk_capacity", host=host.name, mount=target, used_percent=now.value)
                else:
                    add("rec.disk_rotation", host=host.name, mount=target)
            elif finding.key.startswith("inodes:"):
                add("rec.inodes", host=host.name, mount=target)
            elif finding.area == "memory":
                add("rec.memory", host=host.name)
            elif finding.area == "load":
                add("rec.load", host=host.name)
            elif finding.area == "process":
                services = list(finding.message.args.get("services") or [])
                add("rec.hung" if services else "rec.hung_named", host=host.name, services=services,
                    names=list(finding.message.args.get("names") or []))
            elif finding.area in ("service", "probe") and not hung and not (
                    origin_tier is not None and host.name != origin and tier(host.roles) > origin_tier):
                add("rec.service", host=host.name, target=target)
            elif finding.area == "reach" and host.state is not None and host.state.status == "OK":
                add("rec.monitoring", host=host.name)
    if cause is not None and cause.id == "cause.logs":   # the logs pointed at a host, no finding explains it
        add("rec.first_errors", host=cause.args.get("host"))
    return tuple(out)


def open_points(hosts: Sequence[HostReport]) -> tuple[Message, ...]:
    """What is not done yet: hosts not OK now (the provider informed or not), our own access
    to clear up, steps that could not run."""
    out: list[Message] = []
    # one notice names every host of an outage, but is the measure of the host it was sent with;
    # a notice only written (the provider takes no mail from us) is prepared, and the measures
    # say so: the provider is not "informed" until it is sent
    told = {str(name): str(m.message.args.get("provider")) for h in hosts for m in h.measures
            if m.message.id == "measure.provider_notified" for name in (m.message.args.get("hosts") or [h.name])}
    for host in hosts:
        state = host.state
        if state is not None and state.status != "OK":
            reach = next((o for o in state.not_ok if o.key == "reachability"), None)
            if reach is not None and reach.area == "access":
                out.append(Message("open.access", {"host": host.name, "layer": reach.message.args.get("layer")}))
            elif reach is not None:
                provider = told.get(host.name)
                out.append(Message("open.unreachable.provider" if provider else "open.unreachable",
                                   {"host": host.name, "provider": provider or ""}))
            else:
                out.append(Message("open.host", {"host": host.name, "found": [o.message for o in state.not_ok]}))
        for problem in host.problems:
            said = problem.message.id if problem.message is not None else None
            if said == "problem.restart_refused_elsewhere":
                continue  # the host whose configuration has errors carries the open point
            message = (Message("open.restart_refused", dict(problem.message.args))
                       if said == "problem.restart_refused" and problem.message is not None
                       else Message("open.problem", {"host": host.name, "action": problem.action}))
            if message not in out:
                out.append(message)
    return tuple(out)
