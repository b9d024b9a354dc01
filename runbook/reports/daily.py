"""The daily summary: all sweeps of one day, per customer, from their journals.

Hosts belong to customers as each sweep's run.start recorded them (``host_info[host]
.customer`` is the slug, ``customers`` maps slugs to names), else through the ``customers``
map given (host -> customer name), else the stem of the sweep's first inventory file (one
customer per inventory file is the house convention). ``customer`` (a slug or a name) keeps
one customer's hosts only: a report to one customer never shows another's servers.

A host whose key or login we could not use is counted apart from one that did not answer:
that is our access's problem, not the customer's server being down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from runbook.inventory.people import Signature
from runbook.sweeps.forecast import Forecast
from runbook.reports.build import LoadedRun, host_events, load_run
from runbook.reports.i18n import DEFAULT_TIMEZONE
from runbook.reports.model import CheckDay, CustomerDay, DailyReport, HostDay, HostState, worst
from runbook.reports.story import current_state

#: the trend of a mount comes from this many days of sweeps before the report's day ends,
#: read from at most FORECAST_SWEEPS of them
FORECAST_DAYS = timedelta(days=3)
FORECAST_SWEEPS = 48


@dataclass
class _CustomerDraft:
    sweeps: set[str] = field(default_factory=set)
    times: list[datetime] = field(default_factory=list)
    states: dict[str, list[HostState]] = field(default_factory=dict)


def build_daily(run_dirs: Sequence[Path], day: date, *, timezone: str = DEFAULT_TIMEZONE,
                customers: Mapping[str, str] | None = None, customer: str | None = None,
                signature: Signature | None = None) -> DailyReport:
    """Summarise the sweeps among ``run_dirs`` that started on ``day`` (local to ``timezone``);
    with ``customer`` (slug or name), that customer's hosts only."""
    zone = ZoneInfo(timezone)
    sweeps = sorted((r for r in (load_run(Path(d)) for d in run_dirs)
                     if r.info.kind == "sweep" and r.info.started.astimezone(zone).date() == day),
                    key=lambda r: (r.info.started, r.info.id))
    drafts: dict[str, _CustomerDraft] = {}
    for sweep in sweeps:
        for host, observations in host_events(sweep).items():
            slug, name = _host_customer(sweep, host, customers)
            if customer is not None and customer not in (slug, name):
                continue
            state = current_state(host, observations)
            if state is None:
                continue  # never reached this host's check (interrupted): no state to claim
            draft = drafts.setdefault(name, _CustomerDraft())
            draft.sweeps.add(sweep.info.id)
            draft.times.append(sweep.info.started)
            draft.states.setdefault(host, []).append(state)
    ahead = _forecasts(run_dirs, day, zone)
    return DailyReport(day=day, timezone=timezone, signature=signature,
                       customers=tuple(replace(_customer_day(name, drafts[name]),
                                               forecasts=tuple(f for f in ahead if f.host in drafts[name].states))
                                       for name in sorted(drafts)))


def _forecasts(run_dirs: Sequence[Path], day: date, zone: ZoneInfo) -> list[Forecast]:
    """Mounts reaching crit or full within 7 days of the day's end, by the 3 days of sweeps before it."""
    from runbook.sweeps.forecast import SOON, forecasts
    from runbook.sweeps.history import is_sweep, records, run_started, spread

    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    recent = [Path(d) for d in run_dirs if (s := run_started(Path(d))) is not None and end - FORECAST_DAYS <= s < end]
    found = forecasts(records(spread([d for d in sorted(recent) if is_sweep(d)], FORECAST_SWEEPS)))
    return [f for f in found if f.due_within(SOON, end)]


def customers_in(run_dirs: Sequence[Path]) -> set[str]:
    """The slugs of every customer whose hosts the sweeps among ``run_dirs`` checked."""
    found: set[str] = set()
    for run in (load_run(Path(d)) for d in run_dirs):
        if run.info.kind == "sweep":
            found |= {str(i.get("customer")) for i in (run.start.get("host_info") or {}).values()
                      if isinstance(i, Mapping) and i.get("customer")}
    return found


def _host_customer(run: LoadedRun, host: str, names: Mapping[str, str] | None) -> tuple[str, str]:
    """(slug, name) of the customer ``host`` belongs to."""
    if names and host in names:
        return names[host], names[host]
    slug = run.customer_of(host)
    if slug:
        return slug, str((run.start.get("customers") or {}).get(slug) or slug)
    paths = (run.start.get("inventory") or {}).get("paths") or []
    stem = Path(str(paths[0])).stem if paths else ""
    return stem, stem


def _customer_day(name: str, draft: _CustomerDraft) -> CustomerDay:
    hosts = []
    checks: dict[tuple[str, str], CheckDay] = {}
    for host, states in draft.states.items():
        access = [s for s in states if any(o.area == "access" for o in s.not_ok)]
        hosts.append(HostDay(host=host, worst=worst([s.status for s in states]), sweeps=len(states),
                             unreachable=sum(1 for s in states if s.status == "UNREACHABLE"),
                             no_access=len(access)))
        for state in states:
            for obs in state.not_ok:
                seen = checks.get((host, obs.key))
                if seen is None:
                    checks[(host, obs.key)] = CheckDay(host, obs.key, obs.status, state.checked_at,
                                                       state.checked_at, 1, obs)
                else:
                    checks[(host, obs.key)] = CheckDay(host, obs.key, worst([seen.worst, obs.status]),
                                                       seen.first_seen, state.checked_at, seen.times + 1, obs)
    return CustomerDay(customer=name, sweeps=len(draft.sweeps), first=min(draft.times), last=max(draft.times),
                       hosts=tuple(sorted(hosts, key=lambda h: h.host)),
                       checks=tuple(sorted(checks.values(), key=lambda c: (c.host, c.first_seen, c.key))))
