"""A JIRA issue (REST API v2 JSON) -> a ``Draft``: key, summary, created, reporter, category.

The received time is the issue's ``created`` (with JIRA's offset); the category comes from
its priority through ``customer.jira.category_by_priority``. An issue without a priority, or
without a created time, is bad data (exit 65) unless the engineer names the category.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook.errors import ConfigError, DataError
from runbook.incidents import IncidentSource
from runbook.tickets.intake import Draft
from runbook.tickets.jira import check_issue_key, parse_jira_time
from runbook.tickets.settings import JiraSettings

ORIGINAL = "jira-issue.json"


def _person(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    name = value.get("displayName") or value.get("name")
    email = value.get("emailAddress")
    if name and email:
        return f"{name} <{email}>"
    return name or email or None


def draft_from_issue(issue: Mapping[str, Any], settings: JiraSettings, *,
                     category: int | None = None) -> Draft:
    """The draft of an incident from ``issue`` as JIRA's GET /issue/KEY returned it.

    category: the engineer's choice (--category), which wins over the priority.
    """
    key = issue.get("key")
    if not isinstance(key, str):
        raise DataError("the answer names no issue key", source="JIRA", field="key")
    check_issue_key(key)
    where = f"JIRA {key}"
    fields = issue.get("fields")
    if not isinstance(fields, Mapping):
        raise DataError("the issue has no fields", source=where, field="fields")
    project = (fields.get("project") or {}).get("key") if isinstance(fields.get("project"), Mapping) else None
    project = project or key.rpartition("-")[0]
    if project not in settings.projects:
        raise ConfigError(f"{key} is in project {project!r}, which is not {settings.customer.name}'s "
                          f"({', '.join(settings.projects)})", file=settings.file, field="customer.jira.project")
    summary = fields.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise DataError("missing: the issue has no summary", source=where, field="fields.summary")
    try:
        received = parse_jira_time(fields.get("created"))
    except ValueError as exc:
        raise DataError(f"{exc} (when the customer reported it)", source=where, field="fields.created") from None
    notes: list[str] = []
    priority = fields.get("priority")
    name = priority.get("name") if isinstance(priority, Mapping) else None
    mapped = settings.category_by_priority.get(name) if name else None
    if category is not None:
        why = "given with --category"
        if mapped is not None and mapped != category:
            notes.append(f"JIRA priority {name} would give category {mapped}")
    elif not name:
        raise DataError("missing: the ticket has no priority, so its category is unknown; give it "
                        "with --category 1|2|3 (or set the priority in JIRA)", source=where,
                        field="fields.priority")
    elif mapped is None:
        known = ", ".join(f"{k}: {v}" for k, v in settings.category_by_priority.items()) or "none"
        raise ConfigError(f"JIRA priority {name!r} of {key} maps to no category (mapped: {known}); "
                          "add it, or give --category", file=settings.file,
                          field="customer.jira.category_by_priority")
    else:
        category, why = mapped, f"JIRA priority {name}"
    reporter = _person(fields.get("reporter"))
    status = fields.get("status")
    if isinstance(status, Mapping) and status.get("name"):
        notes.append(f"JIRA status: {status['name']}")
    original = json.dumps(issue, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return Draft(id=key, customer=settings.customer, category=category, category_from=why,
                 received=received, received_from="created in JIRA", channel="jira",
                 summary=" ".join(summary.split()),
                 source=IncidentSource(kind="jira", ref=key, url=settings.url, reporter=reporter,
                                       original=ORIGINAL),
                 originals={ORIGINAL: original}, notes=tuple(notes))
