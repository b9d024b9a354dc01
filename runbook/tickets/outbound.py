"""Reports back out: a comment on the incident's JIRA issue, a transition, a reply to the mail.

The comment's id is recorded with the incident (``posts``), so posting the same report again
replaces the comment's text (PUT) instead of adding a second one. The reply to a mail
threads under the customer's original: ``In-Reply-To`` is its Message-ID and ``References``
its references plus that id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, getaddresses

from runbook.errors import RunbookError
from runbook.incidents import Incident, IncidentStore, TicketPost
from runbook.mail import build_message
from runbook.tickets.jira import ISSUE_KEY, JiraClient, JiraError
from runbook.tickets.mailtext import clean_subject, header, read_mail


@dataclass(frozen=True)
class Posted:
    """What a post did: "posted" or "updated" (a comment), "moved" or "already" (a transition)."""

    what: str
    ref: str
    sentence: str


def issue_key(incident: Incident) -> str:
    """The JIRA issue an incident belongs to: its source's key, else its own ID if it is one."""
    if incident.source is not None and incident.source.kind == "jira":
        return incident.source.ref
    if ISSUE_KEY.fullmatch(incident.id):
        return incident.id
    raise RunbookError(f"incident {incident.id} did not come from JIRA and its id is no issue key; "
                       "nothing to comment on")


def post_comment(store: IncidentStore, incident: Incident, client: JiraClient, body: str, *,
                 report: str, now: datetime) -> Posted:
    """Add the report as a comment, or update the comment an earlier post made."""
    key = issue_key(incident)
    earlier = incident.post("jira-comment", report)
    if earlier is not None:
        try:
            client.update_comment(key, earlier.ref, body)
        except JiraError as exc:
            if exc.status != 404:
                raise
            # Someone deleted the comment in JIRA: post a new one rather than fail the report.
        else:
            store.record_post(incident.id, TicketPost("jira-comment", report, earlier.ref, earlier.at, now))
            return Posted("updated", earlier.ref, f"{key}: comment {earlier.ref} updated")
    created = client.add_comment(key, body)
    comment_id = str(created.get("id", "")) if isinstance(created, dict) else ""
    if not comment_id:
        raise JiraError(f"{client.host}: {key}: the new comment's answer has no id")
    store.record_post(incident.id, TicketPost("jira-comment", report, comment_id, now))
    again = " (the earlier one is gone)" if earlier is not None else ""
    return Posted("posted", comment_id, f"{key}: comment {comment_id} posted{again}")


def move_issue(store: IncidentStore, incident: Incident, client: JiraClient, name: str, *,
               report: str, now: datetime) -> Posted:
    """Perform the transition called ``name`` (or leading to the status ``name``), case-insensitive."""
    key = issue_key(incident)
    wanted = name.casefold().strip()
    available = client.transitions(key)
    chosen = next((t for t in available if str(t.get("name", "")).casefold() == wanted), None) or next(
        (t for t in available if str((t.get("to") or {}).get("name", "")).casefold() == wanted), None)
    if chosen is None:
        status = ((client.issue(key).get("fields") or {}).get("status") or {}).get("name", "")
        if str(status).casefold() == wanted:
            return Posted("already", status, f"{key}: already in status {status}")
        names = ", ".join(f"{t.get('name')} (-> {(t.get('to') or {}).get('name', '?')})" for t in available)
        raise JiraError(f"{client.host}: {key}: no transition {name!r} from status {status or '?'} "
                        f"(available: {names or 'none'})")
    client.transition(key, str(chosen.get("id")))
    store.record_post(incident.id, TicketPost("jira-transition", report, str(chosen.get("name")), now))
    target = (chosen.get("to") or {}).get("name") or chosen.get("name")
    return Posted("moved", str(chosen.get("id")), f"{key}: moved to {target} ({chosen.get('name')})")


def reply_to(original: bytes, *, source: str, text: str, html: str | None, sender: str,
             language: str) -> EmailMessage:
    """A reply to the customer's mail carrying the report; threads under the original.

    Addressed to the original's Reply-To, else its From; the subject is the original's with
    "Re:" (RFC 5322 3.6.5; German mail clients thread it as well as "AW:").
    """
    msg = read_mail(original, source)
    to = header(msg, "Reply-To", source) or header(msg, "From", source)
    recipients = [formataddr((name, address)) for name, address in getaddresses([to]) if "@" in address]
    if not recipients:
        raise RunbookError(f"{source}: no address to reply to in {to!r}")
    subject = clean_subject(header(msg, "Subject", source))
    fallback = "Ihre Störungsmeldung" if language == "de" else "Your fault report"
    reply = build_message(f"Re: {subject or fallback}", text, html, sender=sender, to=recipients)
    message_id = header(msg, "Message-ID", source)
    if message_id:
        reply["In-Reply-To"] = message_id
        references = header(msg, "References", source)
        reply["References"] = f"{references} {message_id}".strip()
    reply["Content-Language"] = language
    return reply
