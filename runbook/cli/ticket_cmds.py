"""`runbook incident from-jira|from-mail|edit`: incidents taken from tickets and mails, corrected."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from runbook.cli import options as opt
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.cli.incident_cmds import Customer_, _local, _time, incident_app, incident_status, print_opened
from runbook.errors import ConfigError, DataError, UsageError
from runbook.incidents import IncidentStore, check_incident_id
from runbook.inventory import Customer, load_inventory
from runbook.journal import current_user
from runbook.sla import reaction_deadline
from runbook.tickets.intake import Draft, describe, free_id, open_draft
from runbook.tickets.jira import JiraClient, JiraCredentials, check_issue_key
from runbook.tickets.jira_intake import draft_from_issue
from runbook.tickets.mail_intake import UnknownSender, draft_from_mail
from runbook.tickets.mailbox import ImapSettings, fetch_mails
from runbook.tickets.settings import jira_for_project, mail_settings

Category = typer.Option(None, "--category", "-c", min=1, max=3,
                        help="Fault category 1-3; wins over the priority or the mail's words.")
Yes = typer.Option(False, "--yes", "-y", help="Open without asking.")


def _category(ctx: CliContext, draft: Draft) -> Draft:
    """The draft with a category: as read, else asked for (DataError without a terminal)."""
    if draft.category is not None:
        return draft
    if not ctx.interactive:
        raise DataError(f"no category: {draft.category_from}; give it with --category 1|2|3",
                        source=f"{draft.source.kind} {draft.source.ref}", field="category")
    while True:
        answer = ctx.err.input("Category (1, 2 or 3)? ").strip()
        if answer in ("1", "2", "3"):
            return draft.with_category(int(answer), "given by the engineer")


def _confirmed(ctx: CliContext, draft: Draft, yes: bool) -> bool | None:
    """Show the draft; True to open it, False if declined, None if nobody could be asked."""
    for line in describe(draft):
        ctx.out.print(escape(line), highlight=False)
    if yes:
        return True
    if not ctx.interactive:
        ctx.err.print("[yellow]not a terminal: nothing opened; run with --yes to open it[/]")
        return None
    # escape(): Rich would take "[y/N]" for a style tag and print nothing of it.
    question = escape(f"Open incident {draft.id}? [y/N] ")
    return ctx.err.input(question).strip().lower() in ("y", "yes", "j", "ja")


def _take(ctx: CliContext, store: IncidentStore, draft: Draft, yes: bool) -> ExitCode:
    """Confirm and open one draft; the exit status of doing so."""
    draft = _category(ctx, draft)
    answer = _confirmed(ctx, draft, yes)
    if answer is None:
        return ExitCode.FAILED
    if not answer:
        ctx.err.print(f"{escape(draft.id)}: not opened", highlight=False)
        return ExitCode.FAILED
    print_opened(ctx, open_draft(store, draft, ctx.clock()))
    return ExitCode.OK


def _taken(ctx: CliContext, store: IncidentStore, kind: str, ref: str) -> bool:
    first = store.taken_by(kind, ref)
    if first is not None:
        what = "ticket" if kind == "jira" else "mail"
        ctx.err.print(f"this {what} ({escape(ref)}) was taken already: incident {escape(first)}; nothing opened "
                      f"(see `runbook incident show {escape(first)}`)", highlight=False)
    return first is not None


@incident_app.command("from-jira")
def from_jira(
    key: str = typer.Argument(..., metavar="KEY", help="The issue key, e.g. ACME-412."),
    inventory: opt.InventoryList = opt.Inventories,
    category: Optional[int] = Category,
    yes: bool = Yes,
    reports_dir: Optional[Path] = opt.ReportsDir,
) -> int:
    """Open an incident from a JIRA issue: key, summary, created (received), reporter, priority."""
    ctx = CliContext.create(reports_dir)
    check_issue_key(key)
    settings = jira_for_project(load_inventory(inventory).customers.values(), key.rpartition("-")[0])
    store = IncidentStore(ctx.paths.reports)
    if _taken(ctx, store, "jira", key):
        return ExitCode.OK
    client = JiraClient(settings.url, JiraCredentials.from_env(os.environ), cafile=settings.cafile)
    draft = draft_from_issue(client.issue(key), settings, category=category)
    return _take(ctx, store, draft, yes)


@incident_app.command("from-mail")
def from_mail(
    file: Optional[Path] = typer.Argument(None, metavar="[FILE.eml]", help="A mail saved as .eml."),
    imap: bool = typer.Option(False, "--imap", help="Read the on-call mailbox instead (mail.imap / RUNBOOK_IMAP_*)."),
    inventory: opt.InventoryList = opt.Inventories,
    customer: Optional[str] = Customer_,
    since: Optional[str] = typer.Option(None, "--since", help="--imap: mails since this day (default: 7 days ago)."),
    category: Optional[int] = Category,
    incident_id: Optional[str] = typer.Option(None, "--id", help="The incident ID (default SLUG-yyyymmdd-HHMM)."),
    yes: bool = Yes,
    reports_dir: Optional[Path] = opt.ReportsDir,
) -> int:
    """Open an incident from a customer's mail: sender -> customer, Received/Date -> received."""
    ctx = CliContext.create(reports_dir)
    if (file is None) == (not imap):
        raise UsageError("give a FILE.eml or --imap (one of them)", option="from-mail")
    if incident_id is not None:
        check_incident_id(incident_id)
    customers = list(load_inventory(inventory).customers.values())
    store = IncidentStore(ctx.paths.reports)
    if imap:
        return _from_mailbox(ctx, store, customers, customer, since, category, yes)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", source=str(file)) from None
    draft = draft_from_mail(raw, customers, source=str(file), category=category, incident_id=incident_id)
    if _taken(ctx, store, "email", draft.source.ref):
        return ExitCode.OK
    if incident_id is None:
        draft = replace(draft, id=free_id(store, draft.id))
    return _take(ctx, store, draft, yes)


def _mailbox_settings(customers: list[Customer], slug: str | None) -> ImapSettings:
    """The IMAP settings: the named customer's, else the one set the inventory has, else the env."""
    chosen = [c for c in customers if c.slug == slug] if slug else customers
    if slug and not chosen:
        raise UsageError(f"no customer {slug!r} (known: {', '.join(c.slug for c in customers)})",
                         option="--customer")
    found = {}
    for c in chosen:
        imap = mail_settings(c).imap
        if imap:
            found.setdefault(tuple(sorted((k, str(v)) for k, v in imap.items())), (imap, c.file))
    if len(found) > 1:
        raise ConfigError("customers name different mailboxes (mail.imap): pick one with --customer",
                          field="--customer")
    imap, file = next(iter(found.values())) if found else ({}, None)
    return ImapSettings.from_mapping(imap, os.environ, file=file)


def _from_mailbox(ctx: CliContext, store: IncidentStore, customers: list[Customer], slug: str | None,
                  since: str | None, category: int | None, yes: bool) -> int:
    settings = _mailbox_settings(customers, slug)
    try:
        first_day = date.fromisoformat(since) if since else ctx.clock().date() - timedelta(days=7)
    except ValueError:
        raise UsageError(f"not a date: {since!r} (YYYY-MM-DD)", option="--since") from None
    mails = fetch_mails(settings, os.environ, since=first_day)
    ctx.err.print(f"{len(mails)} mail(s) in {escape(settings.folder)} since {first_day}", highlight=False)
    drafts: list[Draft] = []
    bad = taken = 0
    for mail in mails:
        where = f"imap:{settings.folder}/{mail.uid}"
        try:
            draft = draft_from_mail(mail.raw, customers, source=where, category=category)
        except UnknownSender as exc:
            ctx.err.print(f"skipped, not from a customer: {escape(str(exc))}", highlight=False)
            continue
        except DataError as exc:
            ctx.err.print(f"[red]cannot take[/] {escape(str(exc))}", highlight=False)
            bad += 1
            continue
        if store.taken_by("email", draft.source.ref) or any(d.source.ref == draft.source.ref for d in drafts):
            taken += 1
            continue
        drafts.append(draft)
    if taken:
        ctx.err.print(f"{taken} mail(s) taken already", highlight=False)
    if drafts and not yes and not ctx.interactive:
        for draft in drafts:
            ctx.out.print("")
            for line in describe(draft):
                ctx.out.print(escape(line), highlight=False)
        ctx.err.print(f"[yellow]not a terminal: nothing opened ({len(drafts)} mail(s)); run with --yes to open "
                      "them[/]")
        return ExitCode.DATA if bad else ExitCode.FAILED
    for draft in drafts:
        ctx.out.print("")
        try:
            _take(ctx, store, replace(draft, id=free_id(store, draft.id)), yes)
        except DataError as exc:  # e.g. no category and nobody to ask: the others are still taken
            ctx.err.print(f"[red]cannot take[/] {escape(str(exc))}", highlight=False)
            bad += 1
    return ExitCode.DATA if bad else ExitCode.OK


@incident_app.command("edit")
def edit(
    incident_id: str = typer.Argument(..., metavar="ID"),
    received: Optional[str] = typer.Option(None, "--received", help="Corrected received time (ISO 8601)."),
    category: Optional[int] = typer.Option(None, "--category", "-c", min=1, max=3, help="Corrected category."),
    summary: Optional[str] = typer.Option(None, "--summary", help="Corrected summary."),
    reason: str = typer.Option("", "--reason", help="Why (kept with the correction)."),
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Correct the received time, category or summary; old and new values and who changed them are kept."""
    ctx = CliContext.create(reports_dir, runs_dir)
    store = IncidentStore(ctx.paths.reports)
    incident = store.get(check_incident_id(incident_id))
    changes: dict[str, object] = {}
    if received is not None:
        changes["received"] = _time(received, incident.contract, "--received", now=ctx.clock())
    if category is not None:
        changes["category"] = category
    if summary is not None:
        changes["summary"] = summary
    if not changes:
        raise UsageError("nothing to change: give --received, --category and/or --summary", option="edit")
    who = f"{current_user()}@{socket.gethostname()}"
    incident, made = store.correct(incident.id, changes, by=who, at=ctx.clock(), reason=reason)
    if not made:
        ctx.out.print(f"{escape(incident.id)}: nothing changed (the record says so already)", highlight=False)
        return ExitCode.OK
    for fix in made:
        ctx.out.print(f"{escape(incident.id)}: {fix.field} {escape(str(fix.old))} -> {escape(str(fix.new))} "
                      f"(by {escape(who)})", highlight=False)
    # The verdict is recomputed from the corrected record, as `incident show` and reports do.
    status = incident_status(ctx, incident)
    deadline = reaction_deadline(incident.contract, incident.category, incident.received)
    verdict = {None: "pending", True: "met", False: "MISSED"}[status["sla_met"]]
    ctx.out.print(f"{escape(incident.id)}: react by {_local(deadline.deadline, incident.contract)} "
                  f"({deadline.basis}); SLA {verdict}", highlight=False)
    return ExitCode.OK
