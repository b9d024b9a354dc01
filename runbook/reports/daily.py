"""The daily summary: all sweeps of one day, per customer, from their journals.

Hosts are attributed to customers through the ``customers`` map when given (host -> customer
name), else through the sweep's run.start (``host_info[host].customer`` is the customer's slug,
``customers`` maps slugs to names), else the stem of its first inventory file (one customer per
inventory file is the house convention).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from runbook.sweeps.forecast import Forecast
from runbook.reports.build import LoadedRun, current_state, load_run
from runbook.reports.i18n import DEFAULT_TIMEZONE
from runbook.reports.model import (
    CheckDay,
    CustomerDay,
    DailyReport,
    Finding,
    HostDay,
    HostState,
    worst,
)

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
                customers: Mapping[str, str] | None = None) -> DailyReport:
    """Summarise the sweeps among ``run_dirs`` that started on ``day`` (local to ``timezone``)."""
    zone = ZoneInfo(timezone)
    sweeps = sorted((r for r in (load_run(Path(d)) for d in run_dirs)
                     if r.info.kind == "sweep" and r.info.started.astimezone(zone).date() == day),
                    key=lambda r: (r.info.started, r.info.id))
    drafts: dict[str, _CustomerDraft] = {}
    for sweep in sweeps:
        for host, state in current_state(sweep).items():
            name = (customers or {}).get(host) or _host_customer(sweep, host)
            draft = drafts.setdefault(name, _CustomerDraft())
            draft.sweeps.add(sweep.info.id)
            draft.times.append(sweep.info.started)
            draft.states.setdefault(host, []).append(state)
    ahead = _forecasts(run_dirs, day, zone)
    return DailyReport(day=day, timezone=timezone,
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


def _host_customer(run: LoadedRun, host: str) -> str:
    start = run.start
    slug = ((start.get("host_info") or {}).get(host) or {}).get("customer")
    if slug:
        return str((start.get("customers") or {}).get(slug) or slug)
    paths = (start.get("inventory") or {}).get("paths") or []
    return Path(str(paths[0])).stem if paths else ""


def _customer_day(name: str, draft: _CustomerDraft) -> CustomerDay:
    hosts = []
    checks: dict[tuple[str, str], CheckDay] = {}
    for host, states in draft.states.items():
        hosts.append(HostDay(host=host, worst=worst([s.status for s in states]), sweeps=len(states),
                             unreachable=sum(1 for s in states if s.status == "UNREACHABLE")))
        for state in states:
            sightings = list(state.not_ok)
            if state.status == "UNREACHABLE":
                sightings.append(Finding(host=host, check="reachability", status="UNREACHABLE",
                                         message=state.error or "", value=None, warn=None, crit=None,
                                         details={"layer": state.layer}, first_seen=state.checked_at,
                                         last_seen=state.checked_at, run_id=state.run_id))
            for f in sightings:
                seen = checks.get((host, f.check))
                if seen is None:
                    checks[(host, f.check)] = CheckDay(host, f.check, f.status, state.checked_at,
                                                       state.checked_at, 1, f)
                else:
                    checks[(host, f.check)] = CheckDay(host, f.check, worst([seen.worst, f.status]),
                                                       seen.first_seen, state.checked_at, seen.times + 1, f)
    return CustomerDay(customer=name, sweeps=len(draft.sweeps), first=min(draft.times), last=max(draft.times),
                       hosts=tuple(sorted(hosts, key=lambda h: h.host)),
                       checks=tuple(sorted(checks.values(), key=lambda c: (c.host, c.first_seen, c.check))))
