"""Incidents: what the customer reported, when, and the SLA verdict on our reaction.

``record``  the incident's record: the report, its source (a ticket, a mail), corrections,
            posts, notes, the resolution and the reports sent; the contract as it was
``store``   where incidents live on disk (``<reports>/incidents/<ID>/``), written atomically,
            updated under a lock, one incident per ticket or mail
``sla``     the reaction-time verdict and the next-day report's due date

Runs join an incident by its ID (``run.start`` ``incident`` in the journal).
"""

from runbook.incidents.record import (
    CHANNELS,
    EDITABLE,
    FORMAT_VERSION,
    INCIDENT_ID,
    SOURCE_KINDS,
    Correction,
    Incident,
    IncidentNote,
    IncidentSource,
    ReportSent,
    Resolution,
    TicketPost,
    check_incident_id,
)
from runbook.incidents.sla import SlaVerdict, report_due, sla_verdict
from runbook.incidents.store import IncidentStore

__all__ = ["CHANNELS", "EDITABLE", "FORMAT_VERSION", "INCIDENT_ID", "SOURCE_KINDS", "Correction", "Incident",
           "IncidentNote", "IncidentSource", "IncidentStore", "ReportSent", "Resolution", "SlaVerdict", "TicketPost",
           "check_incident_id", "report_due", "sla_verdict"]
