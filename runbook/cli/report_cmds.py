"""`runbook report immediate|next-day|daily`: customer reports from journals; print, file or mail."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from runbook.cli import app, options as opt
from runbook.cli.completion import complete_incident
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.cli.render import warn_damaged
from runbook.cli.terminal import printable
from runbook.errors import ConfigError, RunbookError, UsageError
from runbook.incidents import Incident, IncidentStore, ReportSent, TicketPost, check_incident_id
from runbook.inventory import Customer, load_inventory
from runbook.journal import iter_events, iter_runs, runs_of_incident
from runbook.mail import SmtpSettings, build_message, send, write_eml
from runbook.reports import (Report, build_daily, build_report, mail_subject, render_daily_report, render_immediate,
                             render_next_day)
from runbook.reports.daily import customers_in
from runbook.reports.render import AUDIENCES, FORMATS, IMMEDIATE_FORMATS, NEXT_DAY_FORMATS, daily_title
from runbook.tickets.jira import JiraClient, JiraCredentials
from runbook.tickets.outbound import move_issue, post_comment, reply_to
from runbook.tickets.settings import jira_settings

report_app = typer.Typer(help="Customer reports (German or English) from run journals.", no_args_is_help=True)
app.add_typer(report_app, name="report")

RunIds = typer.Argument(None, help="Run ids (or unique prefixes); default: the incident's runs.")
IncidentOpt = typer.Option(None, "--incident", autocompletion=complete_incident, help="Report on this incident and all its runs.")
Lang = typer.Option(None, "--lang", help="de or en (default: the customer's language, else de).")
Output = typer.Option(None, "-o", "--output", help="Write the report to this file instead of stdout.")
MailTo = typer.Option(None, "--mail-to", help="Send the report by SMTP to this address (repeatable).")
Eml = typer.Option(None, "--eml", help="Write the report as an e-mail message (.eml) to this file.")
Templates = typer.Option(None, "--templates", help="A customer's template directory (searched first).")
OptInventory = typer.Option(None, "-i", "--inventory",
                            help="Inventory: the customer's language, timezone, SMTP settings and signature.")
Audience = typer.Option("customer", "--audience",
                        help="customer, or internal: also the runs, their events, commands and error details.")
IncludePlanned = typer.Option(False, "--include-planned",
                              help="Also list what check-mode runs planned, in a section of its own.")

#: The text part of an HTML report mail: a pointer, since the HTML is the document.
HTML_ATTACHED = "Der Bericht ist als HTML beigefügt. / The report is attached as HTML.\n"


def _customer(inventory: Optional[List[Path]], name: str | None) -> Customer | None:
    if not inventory:
        return None
    inv = load_inventory(inventory)
    if name:
        for c in inv.customers.values():
            if name in (c.name, c.slug):
                return c
    return next(iter(inv.customers.values())) if len(inv.customers) == 1 else None


def _runs(ctx: CliContext, run_ids: Optional[List[str]], incident: Incident | None) -> list[Path]:
    if run_ids:
        all_runs = list(iter_runs(ctx.paths.runs))
        chosen = []
        for rid in run_ids:
            matches = [p for p in all_runs if p.name.startswith(rid)]
            if len(matches) != 1:
                raise RunbookError(f"{'no' if not matches else 'more than one'} run matches {rid!r} "
                                   f"in {ctx.paths.runs}")
            chosen.append(matches[0])
        return _named_damage(ctx, chosen)
    if incident is None:
        raise UsageError("name run ids or --incident ID", option="RUN_IDS")
    runs = runs_of_incident(ctx.paths.runs, incident.id)
    if not runs:
        raise RunbookError(f"incident {incident.id} has no runs in {ctx.paths.runs} (run with --incident {incident.id})")
    return _named_damage(ctx, runs)


def _named_damage(ctx: CliContext, runs: list[Path]) -> list[Path]:
    """``runs``, after naming their journals' damaged lines (the report leaves them out)."""
    damaged: list[str] = []
    for run_dir in runs:
        for _ in iter_events(run_dir / "journal.jsonl", damaged):
            pass
    warn_damaged(ctx.err, damaged)
    return runs


def _sender(customer: Customer | None) -> str:
    """The From of report mails: customer.smtp.from, RUNBOOK_MAIL_FROM, else runbook@this host."""
    return ((customer.smtp.get("from") if customer else None) or os.environ.get("RUNBOOK_MAIL_FROM")
            or f"runbook@{socket.getfqdn()}")


def _smtp(customer: Customer | None) -> SmtpSettings:
    smtp = {k: v for k, v in (customer.smtp if customer else {}).items() if k != "from"}
    return SmtpSettings.from_mapping(smtp, os.environ, file=customer.file if customer else None)


def _deliver(ctx: CliContext, text: str, *, subject: str, html: str | None, output: Path | None,
             mail_to: Optional[List[str]], eml: Path | None, customer: Customer | None,
             posted: bool = False) -> tuple[tuple[str, ...], str] | None:
    """Write, mail or print the report; the recipients and "smtp"/"eml" when it went out as mail."""
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        ctx.err.print(f"written: {escape(str(output))}", highlight=False)
    delivered = None
    if mail_to or eml:
        to = list(mail_to or ([customer.contact_email] if customer and customer.contact_email else []))
        message = build_message(subject, text if html is None else HTML_ATTACHED, html, sender=_sender(customer),
                                to=to or ["undisclosed-recipients:;"])
        if eml:
            write_eml(message, eml)
            ctx.err.print(f"message written: {escape(str(eml))}", highlight=False)
            delivered = (tuple(to), "eml")
        if mail_to:
            settings = _smtp(customer)
            send(message, settings)
            ctx.err.print(escape(f"sent to {', '.join(mail_to)} via {settings.host}:{settings.port}"), highlight=False)
            delivered = (tuple(to), "smtp")
    if not output and not mail_to and not eml and not posted:
        print(printable(text), end="" if text.endswith("\n") else "\n")  # a log line's escapes stay text
    return delivered


def _report_command(kind: str, run_ids, incident_id, lang, fmt, output, mail_to, eml, templates, inventory,
                    reports_dir, runs_dir, audience: str = "customer", include_planned: bool = False,
                    tickets: TicketOut | None = None) -> int:
    # The command line first: a wrong -F or --lang is a usage error, whatever else is wrong.
    opt.one_of(audience, AUDIENCES, "--audience")
    opt.one_of(lang, opt.LANGUAGES, "--lang")
    opt.one_of(fmt, IMMEDIATE_FORMATS if kind == "immediate" else NEXT_DAY_FORMATS, "--format")
    ctx = CliContext.create(reports_dir, runs_dir)
    store = IncidentStore(ctx.paths.reports)
    incident = store.get(check_incident_id(incident_id)) if incident_id else None
    customer = _customer(inventory, incident.customer if incident else None)
    report = build_report(_runs(ctx, run_ids, incident), incident,
                          customer=customer.name if customer else None,
                          timezone=str(customer.contract.timezone) if customer else None,
                          signature=customer.signature if customer else None)
    language = lang or (customer.language if customer else "de")
    render = render_immediate if kind == "immediate" else render_next_day
    dirs = tuple(templates or ())
    text = render(report, language, fmt, template_dirs=dirs, audience=audience, include_planned=include_planned)
    html = text if fmt == "html" else None
    posted = bool(tickets and tickets.wanted)
    if posted:
        if incident is None:
            raise ConfigError("--jira-comment, --jira-transition and --reply-to-mail need --incident ID",
                              field="--incident")
        _post(ctx, tickets, report, incident, customer, language, dirs)
    delivered = _deliver(ctx, text, subject=mail_subject(report, kind.replace("-", "_"), language), html=html,
                         output=output, mail_to=mail_to, eml=eml, customer=customer, posted=posted)
    if delivered is not None and delivered[1] == "smtp" and incident is not None and audience == "customer":
        # sent, not only written as .eml: the next report's timeline says when, and to whom
        store.sent(incident.id, ReportSent(kind=kind, at=ctx.clock(), to=delivered[0], via="smtp"))
    return ExitCode.OK


@dataclass(frozen=True)
class TicketOut:
    """Where else the immediate report goes: the incident's JIRA issue and/or the customer's mail."""

    jira_comment: bool
    jira_transition: str | None
    reply_to_mail: bool

    @property
    def wanted(self) -> bool:
        """Whether the report goes anywhere besides stdout, a file or --mail-to."""
        return self.jira_comment or bool(self.jira_transition) or self.reply_to_mail


def _post(ctx: CliContext, tickets: TicketOut, report: Report, incident: Incident, customer: Customer | None,
          language: str, dirs: tuple[Path, ...]) -> None:
    """Post the immediate report where ``tickets`` asks; each post is recorded with the incident."""
    store = IncidentStore(ctx.paths.reports)
    if tickets.jira_comment or tickets.jira_transition:
        client = jira_client(incident, customer)
        if tickets.jira_comment:
            body = render_immediate(report, language, "jira", template_dirs=dirs)
            done = post_comment(store, store.get(incident.id), client, body, report="immediate", now=ctx.clock())
            ctx.err.print(escape(done.sentence), highlight=False)
        if tickets.jira_transition:
            done = move_issue(store, store.get(incident.id), client, tickets.jira_transition, report="immediate",
                              now=ctx.clock())
            ctx.err.print(escape(done.sentence), highlight=False)
    if tickets.reply_to_mail:
        original = store.original(incident)
        if original is None or incident.source is None or incident.source.kind != "email":
            raise RunbookError(f"incident {incident.id} has no original mail to answer (it was not taken "
                               "with `runbook incident from-mail`)")
        reply = reply_to(original.read_bytes(), source=str(original),
                         text=render_immediate(report, language, "text", template_dirs=dirs),
                         html=render_immediate(report, language, "html", template_dirs=dirs),
                         sender=_sender(customer), language=language)
        settings = _smtp(customer)
        send(reply, settings)
        store.record_post(incident.id, TicketPost("mail-reply", "immediate", str(reply["Message-ID"]), ctx.clock()))
        ctx.err.print(f"reply sent to {escape(str(reply['To']))} via {settings.host}:{settings.port} "
                      f"(in reply to {escape(str(reply.get('In-Reply-To', '-')))})", highlight=False)


def jira_client(incident: Incident, customer: Customer | None) -> JiraClient:
    """A client for the incident's JIRA: the URL it was taken from, else the customer's jira.url."""
    settings = jira_settings(customer) if customer else None
    url = incident.source.url if incident.source and incident.source.url else (settings.url if settings else None)
    if not url:
        raise ConfigError(f"no JIRA URL for incident {incident.id}: give -i with the customer's jira.url",
                          field="customer.jira.url")
    return JiraClient(url, JiraCredentials.from_env(os.environ), cafile=settings.cafile if settings else None)


@report_app.command("immediate")
def immediate(run_ids: Optional[List[str]] = RunIds, incident: Optional[str] = IncidentOpt,
              lang: Optional[str] = Lang,
              fmt: str = typer.Option("text", "--format", "-F", help="text, markdown, html or jira (wiki markup)."),
              output: Optional[Path] = Output, mail_to: Optional[List[str]] = MailTo, eml: Optional[Path] = Eml,
              templates: Optional[List[Path]] = Templates, inventory: Optional[List[Path]] = OptInventory,
              audience: str = Audience, include_planned: bool = IncludePlanned,
              reports_dir: Optional[Path] = opt.ReportsDir, runs_dir: Optional[Path] = opt.RunsDir,
              jira_comment: bool = typer.Option(False, "--jira-comment",
                                                help="Post it as a comment on the incident's JIRA issue "
                                                     "(a second post updates that comment)."),
              jira_transition: Optional[str] = typer.Option(None, "--jira-transition", metavar="NAME",
                                                            help="Then move the issue, e.g. 'In Arbeit'."),
              reply_to_mail: bool = typer.Option(False, "--reply-to-mail",
                                                 help="Answer the customer's original mail (SMTP).")) -> int:
    """The short feedback right after the work: what was found, what was done, what follows."""
    return _report_command("immediate", run_ids, incident, lang, fmt, output, mail_to, eml, templates,
                           inventory, reports_dir, runs_dir, audience, include_planned,
                           TicketOut(jira_comment, jira_transition, reply_to_mail))


@report_app.command("next-day")
def next_day(run_ids: Optional[List[str]] = RunIds, incident: Optional[str] = IncidentOpt,
             lang: Optional[str] = Lang,
             fmt: str = typer.Option("html", "--format", "-F", help="html or markdown."),
             output: Optional[Path] = Output, mail_to: Optional[List[str]] = MailTo, eml: Optional[Path] = Eml,
             templates: Optional[List[Path]] = Templates, inventory: Optional[List[Path]] = OptInventory,
             audience: str = Audience, include_planned: bool = IncludePlanned,
             reports_dir: Optional[Path] = opt.ReportsDir, runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """The detailed report for the next business day: the incident told from report to recovery."""
    return _report_command("next-day", run_ids, incident, lang, fmt, output, mail_to, eml, templates,
                           inventory, reports_dir, runs_dir, audience, include_planned)


@report_app.command("daily")
def daily(day: str = typer.Option(..., "--date", help="The day, YYYY-MM-DD (in the customer's timezone)."),
          customer_slug: Optional[str] = typer.Option(None, "--customer",
                                                      help="The customer (slug); required when the sweeps "
                                                           "cover several."),
          lang: Optional[str] = Lang,
          fmt: str = typer.Option("text", "--format", "-F", help="text, markdown or html."),
          output: Optional[Path] = Output, mail_to: Optional[List[str]] = MailTo, eml: Optional[Path] = Eml,
          templates: Optional[List[Path]] = Templates, inventory: Optional[List[Path]] = OptInventory,
          reports_dir: Optional[Path] = opt.ReportsDir, runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """One customer's unattended sweeps of a day: worst status per host, what was not OK."""
    opt.one_of(lang, opt.LANGUAGES, "--lang")
    opt.one_of(fmt, tuple(FORMATS), "--format")
    ctx = CliContext.create(reports_dir, runs_dir)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise UsageError(f"not a date: {day!r} (YYYY-MM-DD)", option="--date") from None
    runs = list(iter_runs(ctx.paths.runs))
    found = customers_in(runs)
    if customer_slug is None and len(found) > 1:
        raise UsageError(f"the sweeps cover {len(found)} customers: name one "
                         f"({', '.join(sorted(found))})", option="--customer")
    slug = customer_slug or (next(iter(found)) if found else None)
    customer = _customer(inventory, slug)
    if customer_slug and inventory and customer is None:
        raise UsageError(f"no customer {customer_slug!r} in the inventory", option="--customer")
    language = lang or (customer.language if customer else "de")
    timezone = str(customer.contract.timezone) if customer else "Europe/Berlin"
    report = build_daily(runs, when, timezone=timezone, customer=slug,
                         signature=customer.signature if customer else None)
    text = render_daily_report(report, language, fmt, template_dirs=tuple(templates or ()))
    title = daily_title(when, language)
    subject = f"{customer.name}: {title}" if customer else title
    _deliver(ctx, text, subject=subject, html=text if fmt == "html" else None, output=output,
             mail_to=mail_to, eml=eml, customer=customer)
    return ExitCode.OK
