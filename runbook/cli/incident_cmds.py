"""`runbook incident open|show|react|list|note|resolve` and `runbook sla deadline`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from runbook.cli import app, options as opt
from runbook.cli.completion import complete_incident
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.errors import ConfigError, UsageError
from runbook.incidents import (CHANNELS, Incident, IncidentNote, IncidentStore, Resolution, check_incident_id,
                               report_due, sla_verdict)
from runbook.inventory import Customer, load_inventory
from runbook.inventory.people import Person, operator_from_env, parse_operator
from runbook.journal import parse_ts, read_events, runs_of_incident
from runbook.sla import parse_time, reaction_deadline
from runbook.sla.deadline import describe_reaction

incident_app = typer.Typer(help="Incidents: received, reaction deadline, SLA verdict, runs.", no_args_is_help=True)
sla_app = typer.Typer(help="The SLA clock.", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
app.add_typer(sla_app, name="sla")

Customer_ = typer.Option(None, "--customer", help="Customer slug, when the inventory holds several.")


def pick_customer(inventory: list[Path], slug: str | None) -> Customer:
    inv = load_inventory(inventory)
    if slug:
        if slug not in inv.customers:
            raise UsageError(f"no customer {slug!r} (known: {', '.join(inv.customers)})", option="--customer")
        return inv.customers[slug]
    if len(inv.customers) != 1:
        raise UsageError(f"the inventory holds {len(inv.customers)} customers: name one "
                         f"({', '.join(inv.customers)})", option="--customer")
    return next(iter(inv.customers.values()))


#: how far ahead of this machine's clock a given time may be (another machine's clock, a typo
#: of a minute); beyond it the time is a mistake, and an SLA verdict counted from it a lie
CLOCK_SKEW = timedelta(minutes=5)
#: the years a fault's times may lie in: outside, a typo (and the calendar's arithmetic overflows)
PLAUSIBLE_YEARS = (2000, 2099)


def _time(text: str, customer_contract, field: str, *, now: datetime | None = None,
          not_before: datetime | None = None) -> datetime:
    """``text`` as a time in the contract's zone; refused when it lies in the future (more than
    ``CLOCK_SKEW`` after ``now``) or before ``not_before`` (when the fault was received)."""
    try:
        when = parse_time(text, customer_contract)
    except ValueError as exc:
        raise UsageError(str(exc), option=field) from None
    if not PLAUSIBLE_YEARS[0] <= when.year <= PLAUSIBLE_YEARS[1]:
        raise UsageError(f"{text!r}: the year {when.year} is not plausible for a fault "
                         f"({PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1]})", option=field)
    if now is not None and when > now + CLOCK_SKEW:
        raise UsageError(f"{_local(when, customer_contract)} is in the future (now: "
                         f"{_local(now, customer_contract)})", option=field)
    if not_before is not None and when < not_before:
        raise UsageError(f"{_local(when, customer_contract)} is before the fault was received "
                         f"({_local(not_before, customer_contract)})", option=field)
    return when


def span(seconds: float) -> str:
    """2727 minutes as "1 d 21 h 27 min": how an engineer says it."""
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins or not (days or hours) else ""]
    return " ".join(p for p in parts if p)


def _local(when: datetime | None, contract) -> str:
    return "-" if when is None else when.astimezone(contract.timezone).strftime("%Y-%m-%d %H:%M %Z")


@incident_app.command("open")
def open_incident(
    incident_id: str = typer.Argument(..., metavar="ID", help="e.g. the JIRA key, ACME-412."),
    category: int = typer.Option(..., "--category", "-c", min=1, max=3, help="Fault category 1-3."),
    received: str = typer.Option(..., "--received", help="ISO 8601; without offset: contract timezone."),
    channel: str = typer.Option("jira", "--channel", help=f"One of {', '.join(CHANNELS)}."),
    summary: str = typer.Option("", "--summary", help="One line: what the customer reported."),
    inventory: opt.InventoryList = opt.Inventories,
    customer: Optional[str] = Customer_,
    reports_dir: Optional[Path] = opt.ReportsDir,
) -> int:
    """Record an incident; runs join it with --incident ID."""
    ctx = CliContext.create(reports_dir)
    check_incident_id(incident_id)
    if channel not in CHANNELS:
        raise UsageError(f"{channel!r} is not one of: {', '.join(CHANNELS)}", option="--channel")
    cust = pick_customer(inventory, customer)
    contract = cust.contract
    when = _time(received, contract, "--received", now=ctx.clock())
    incident = IncidentStore(ctx.paths.reports).open(Incident(
        id=incident_id, customer=cust.name, category=category, received=when, channel=channel,
        summary=summary, opened_at=ctx.clock(), reaction_started=None, contract=contract))
    print_opened(ctx, incident)
    return ExitCode.OK


def print_opened(ctx: CliContext, incident: Incident) -> None:
    """One line: the incident, when it was received and by when we must react."""
    contract = incident.contract
    deadline = reaction_deadline(contract, incident.category, incident.received)
    ctx.out.print(f"incident {incident.id} opened: category {incident.category}, received "
                  f"{_local(incident.received, contract)}; react by [bold]{_local(deadline.deadline, contract)}[/] "
                  f"({deadline.basis}); next-day report due {report_due(incident):%Y-%m-%d}", highlight=False)


@incident_app.command("react")
def react(incident_id: str = typer.Argument(..., metavar="ID", autocompletion=complete_incident),
          at: Optional[str] = typer.Option(None, "--at", help="When work started (default now)."),
          reports_dir: Optional[Path] = opt.ReportsDir) -> int:
    """Record when work on the incident started (the first call wins)."""
    ctx = CliContext.create(reports_dir)
    store = IncidentStore(ctx.paths.reports)
    incident = store.get(check_incident_id(incident_id))
    now = ctx.clock()
    when = _time(at, incident.contract, "--at", now=now, not_before=incident.received) if at else now
    incident = store.react(incident.id, when)
    ctx.out.print(f"{incident.id}: reaction started {_local(incident.reaction_started, incident.contract)}",
                  highlight=False)
    return ExitCode.OK


def incident_status(ctx: CliContext, incident: Incident) -> dict:
    runs = runs_of_incident(ctx.paths.runs, incident.id)
    first = None
    if runs:
        first = parse_ts(read_events(runs[0] / "journal.jsonl")[0]["ts"])
    verdict = sla_verdict(incident, first, now=ctx.clock())
    return {
        **incident.to_json(),
        "deadline": verdict.deadline.to_json(),
        "reaction": describe_reaction(incident.contract, incident.category),
        "reaction_started": verdict.reaction_started.isoformat() if verdict.reaction_started else None,
        "sla_met": verdict.met,
        "margin_seconds": verdict.margin.total_seconds() if verdict.margin is not None else None,
        "runs": [p.name for p in runs],
        "report_due": report_due(incident).isoformat(),
    }


@incident_app.command("show")
def show(incident_id: str = typer.Argument(..., metavar="ID", autocompletion=complete_incident), as_json: bool = opt.Json,
         reports_dir: Optional[Path] = opt.ReportsDir, runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """Received, reaction deadline, reaction started, SLA met or missed (by how much), runs, report due."""
    ctx = CliContext.create(reports_dir, runs_dir)
    incident = IncidentStore(ctx.paths.reports).get(check_incident_id(incident_id))
    status = incident_status(ctx, incident)
    if as_json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return ExitCode.OK
    c = incident.contract
    margin = status["margin_seconds"]
    if status["sla_met"] is None:
        verdict = "pending (no reaction yet, deadline not passed)"
    else:
        verdict = ("[green]met[/], " if status["sla_met"] else "[bold red]MISSED[/], ") + (
            f"{span(abs(margin or 0))} {'early' if (margin or 0) >= 0 else 'late'}")
    started = datetime.fromisoformat(status["reaction_started"]) if status["reaction_started"] else None
    dl = reaction_deadline(c, incident.category, incident.received)
    lines = [
        f"[bold]{escape(incident.id)}[/] {escape(incident.customer)}: category {incident.category} via "
        f"{escape(incident.channel)}",
        f"  summary:          {escape(incident.summary) or '-'}",
        f"  received:         {_local(incident.received, c)}",
        f"  reaction:         {status['reaction']}",
        f"  react by:         {_local(dl.deadline, c)} ({dl.basis})",
        f"  reaction started: {_local(started, c)}",
        f"  SLA:              {verdict}",
        f"  runs:             {', '.join(status['runs']) or '-'}",
        f"  next-day report:  due {status['report_due']}",
    ]
    if incident.source is not None:
        src = incident.source
        lines.insert(2, f"  from:             {src.kind} {escape(src.ref)}"
                        + (f" ({escape(src.reporter)})" if src.reporter else ""))
    for fix in incident.corrections:
        lines.append(f"  corrected:        {fix.field} {escape(str(fix.old))} -> {escape(str(fix.new))} by "
                     f"{escape(fix.by)} at {_local(fix.at, c)}" + (f" ({escape(fix.reason)})" if fix.reason else ""))
    for post in incident.posts:
        lines.append(f"  posted:           {post.kind} {escape(post.ref)} ({post.report}) at {_local(post.at, c)}"
                     + (f", updated {_local(post.updated, c)}" if post.updated else ""))
    lines += [f"  note {_local(n.at, c)}:  {escape(n.text)} ({escape(n.by.name) if n.by else '-'})"
              for n in incident.notes]
    if incident.resolution is not None:
        r = incident.resolution
        lines.append(f"  resolved:         {_local(r.at, c)} by {escape(r.by.name) if r.by else '-'}"
                     + (f": {escape(r.summary)}" if r.summary else ""))
    for line in lines:
        ctx.out.print(line, highlight=False)
    return ExitCode.OK


@incident_app.command("list")
def list_incidents(as_json: bool = opt.Json, reports_dir: Optional[Path] = opt.ReportsDir) -> int:
    """All recorded incidents, oldest first."""
    ctx = CliContext.create(reports_dir)
    incidents = IncidentStore(ctx.paths.reports).list()
    if as_json:
        print(json.dumps([i.to_json() for i in incidents], indent=2, ensure_ascii=False))
        return ExitCode.OK
    for i in incidents:
        ctx.out.print(escape(f"{i.id:<16} cat {i.category}  {_local(i.received, i.contract)}  {i.customer}  "
                             f"{i.summary}"),
                      highlight=False)
    return ExitCode.OK


@sla_app.command("deadline")
def deadline(
    category: int = typer.Option(..., "--category", "-c", min=1, max=3),
    received: str = typer.Option(..., "--received", help="ISO 8601; without offset: contract timezone."),
    inventory: opt.InventoryList = opt.Inventories,
    customer: Optional[str] = Customer_,
    as_json: bool = opt.Json,
) -> int:
    """The reaction deadline for a fault received at TIME, from the customer's contract."""
    contract = pick_customer(inventory, customer).contract
    when = _time(received, contract, "--received")
    result = reaction_deadline(contract, category, when)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(f"category {category}, received {_local(when, contract)}: react by "
              f"{_local(result.deadline, contract)} ({result.basis}; {describe_reaction(contract, category)})")
    return ExitCode.OK


# -- work done by hand, and the end of the fault ------------------------------------------------

By = typer.Option(None, "--by", help="Who: 'Name <email>, phone' (default: RUNBOOK_OPERATOR, else the "
                                     "inventory's operator with -i).")
OptInventories = typer.Option(None, "-i", "--inventory", help="Inventory: its `operator` says who, "
                                                              "when neither --by nor RUNBOOK_OPERATOR does.")


def who(by: str | None, inventory: Optional[list[Path]], incident: Incident) -> Person:
    """The person behind a note: --by, else RUNBOOK_OPERATOR, else the customer's inventory
    operator. A note nobody signed is refused: the customer report names who did the work."""
    if by:
        return parse_operator(by, field="--by")
    person = operator_from_env()
    if person is None and inventory:
        inv = load_inventory(inventory)
        person = next((c.operator for c in inv.customers.values()
                       if incident.customer in (c.name, c.slug) and c.operator), None)
    if person is None:
        raise ConfigError("who did this? give --by 'Name <email>, phone', set RUNBOOK_OPERATOR, or "
                          "name an inventory (-i) with an operator", field="--by")
    return person


@incident_app.command("note")
def note(incident_id: str = typer.Argument(..., metavar="ID", autocompletion=complete_incident),
         text: str = typer.Argument(..., help="What was done by hand, e.g. a call to the provider and its ticket."),
         at: Optional[str] = typer.Option(None, "--at", help="When it was done (default now)."),
         by: Optional[str] = By, inventory: Optional[list[Path]] = OptInventories,
         reports_dir: Optional[Path] = opt.ReportsDir) -> int:
    """Record work done by hand; reports tell it in its place in the story."""
    ctx = CliContext.create(reports_dir)
    store = IncidentStore(ctx.paths.reports)
    incident = store.get(check_incident_id(incident_id))
    if not text.strip():
        raise UsageError("the note is empty", option="TEXT")
    when = _time(at, incident.contract, "--at", now=ctx.clock()) if at else ctx.clock()
    store.note(incident.id, IncidentNote(at=when, by=who(by, inventory, incident), text=text.strip()))
    ctx.out.print(f"{incident.id}: note recorded for {_local(when, incident.contract)}", highlight=False)
    return ExitCode.OK


@incident_app.command("resolve")
def resolve(incident_id: str = typer.Argument(..., metavar="ID", autocompletion=complete_incident),
            at: Optional[str] = typer.Option(None, "--at", help="Since when the fault is over (default now)."),
            summary: str = typer.Option("", "--summary", help="One line: how it was resolved."),
            by: Optional[str] = By, inventory: Optional[list[Path]] = OptInventories,
            reports_dir: Optional[Path] = opt.ReportsDir) -> int:
    """Record that the fault is over (a second call corrects the first)."""
    ctx = CliContext.create(reports_dir)
    store = IncidentStore(ctx.paths.reports)
    incident = store.get(check_incident_id(incident_id))
    now = ctx.clock()
    when = _time(at, incident.contract, "--at", now=now, not_before=incident.received) if at else now
    store.resolve(incident.id, Resolution(at=when, by=who(by, inventory, incident), summary=summary.strip()))
    ctx.out.print(f"{incident.id}: resolved at {_local(when, incident.contract)}", highlight=False)
    return ExitCode.OK
