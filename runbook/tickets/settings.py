"""Where a customer's faults come in: the inventory's ``customer.jira`` and ``customer.mail``.

```yaml
customer:
  mail_domains: [acme.example, acme.de]      # senders whose mails are this customer's faults
  jira:
    url: https://jira.provider.example       # the JIRA we run for the customer (REST API v2)
    project: ACME                            # or a list: [ACME, ACMEOPS]
    category_by_priority: {Highest: 1, High: 2, Medium: 3}
    cafile: null                             # a CA bundle for a private certificate authority
  mail:
    received_by: [mx1.provider.example]      # our own mail servers, as they name themselves
    category_rules:                          # regular expressions, case-insensitive;
      - {match: "Kategorie\\s*1", category: 1}   # default: DEFAULT_CATEGORY_RULES
    imap: {host: imap.provider.example, port: 993, security: tls, user: oncall, folder: INBOX}
```

The JIRA credentials and the IMAP password are never read from here: only from the
environment (see ``runbook.tickets.jira`` and ``runbook.tickets.mailbox``). Errors name the
inventory file, line and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runbook.errors import ConfigError
from runbook.inventory import Customer
from runbook.yamlsource import SourceMap

JIRA_KEYS = ("url", "project", "category_by_priority", "cafile")
MAIL_KEYS = ("received_by", "category_rules", "imap")
PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,49}")

# Used when the inventory names no rules. Subject first, then body; see mail_intake.category.
DEFAULT_CATEGORY_RULES: tuple[tuple[str, int], ...] = tuple(
    (pattern.format(n=n, word=word), n)
    for n, word in ((1, "hoch|high|kritisch|critical"), (2, "mittel|medium"), (3, "niedrig|low"))
    for pattern in (r"\b(?:kategorie|kat\.|category|cat\.)\s*:?\s*{n}\b", r"\[P{n}\]",
                    r"\bprio(?:rität|ritaet|rity)?\s*[:=]?\s*(?:{word}|{n}\b)")
)


@dataclass(frozen=True)
class JiraSettings:
    """One customer's JIRA: its base URL, project keys and the priority -> category mapping.

    category_by_priority: JIRA priority names (as JIRA spells them, e.g. "Highest") to fault
    categories 1-3; file: the inventory file, for error messages.
    """

    customer: Customer
    url: str
    projects: tuple[str, ...]
    category_by_priority: Mapping[str, int]
    cafile: str | None
    file: str


@dataclass(frozen=True)
class CategoryRule:
    """A pattern in a mail's subject or body that names a fault category."""

    pattern: re.Pattern[str]
    category: int


@dataclass(frozen=True)
class MailSettings:
    """One customer's mail intake: sender domains, our own servers, category rules, IMAP."""

    customer: Customer
    domains: tuple[str, ...]
    received_by: tuple[str, ...]
    category_rules: tuple[CategoryRule, ...]
    imap: Mapping[str, Any]
    file: str


def _fail(message: str, parent: Any, key: Any, field: str, file: str) -> ConfigError:
    if isinstance(parent, SourceMap):
        return parent.error(message, key=key, field=field)
    return ConfigError(message, file=file, field=field)


def _mapping(value: Any, parent: Any, key: str, field: str, file: str, allowed: Iterable[str]) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(f"must be a mapping, not {type(value).__name__}", parent, key, field, file)
    for name in value:
        if name not in allowed:
            raise _fail(f"unknown key (expected one of: {', '.join(allowed)})", value, name,
                        f"{field}.{name}", file)
    return value


def _names(value: Any, parent: Any, key: str, field: str, file: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise _fail("must be a name or a list of names", parent, key, field, file)
    return tuple(v.strip() for v in items)


def jira_settings(customer: Customer) -> JiraSettings | None:
    """The customer's ``jira`` section, validated; None when the inventory has none."""
    data, file = customer.jira_source, customer.file
    if data is None:
        return None
    data = _mapping(data, None, "jira", "customer.jira", file, JIRA_KEYS)
    url = data.get("url")
    if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url):
        raise _fail("missing or not an http(s) URL", data, "url" if "url" in data else None,
                    "customer.jira.url", file)
    if "project" not in data:
        raise _fail("missing: the JIRA project key(s) of this customer", data, None,
                    "customer.jira.project", file)
    projects = _names(data["project"], data, "project", "customer.jira.project", file)
    for key in projects:
        if not PROJECT_KEY.fullmatch(key):
            raise _fail(f"not a JIRA project key: {key!r} (upper-case letters, digits, _)", data,
                        "project", "customer.jira.project", file)
    mapping = _mapping(data.get("category_by_priority"), data, "category_by_priority",
                       "customer.jira.category_by_priority", file,
                       allowed=[str(k) for k in (data.get("category_by_priority") or {})])
    by_priority: dict[str, int] = {}
    for name, category in mapping.items():
        if category not in (1, 2, 3) or isinstance(category, bool):
            raise _fail(f"category must be 1, 2 or 3, not {category!r}", mapping, name,
                        f"customer.jira.category_by_priority.{name}", file)
        by_priority[str(name)] = category
    cafile = data.get("cafile")
    if cafile is not None and not isinstance(cafile, str):
        raise _fail("must be a path", data, "cafile", "customer.jira.cafile", file)
    return JiraSettings(customer=customer, url=url.rstrip("/"), projects=projects,
                        category_by_priority=by_priority, cafile=cafile, file=file)


def jira_for_project(customers: Iterable[Customer], project: str) -> JiraSettings:
    """The JIRA settings of the customer whose ``jira.project`` holds ``project``.

    Raises ConfigError (exit 78) when no customer of the inventory has that project.
    """
    known: list[str] = []
    files: list[str] = []
    for customer in customers:
        files.append(customer.file)
        settings = jira_settings(customer)
        if settings is None:
            continue
        if project in settings.projects:
            return settings
        known += settings.projects
    hint = f"known projects: {', '.join(known)}" if known else "no customer has a jira section"
    raise ConfigError(f"no customer of the inventory has JIRA project {project!r} ({hint})",
                      file=", ".join(dict.fromkeys(files)) or None, field="customer.jira.project")


def mail_settings(customer: Customer) -> MailSettings:
    """The customer's mail intake: ``mail_domains``, the contact's domain and ``mail``."""
    file = customer.file
    data = _mapping(customer.mail_source, None, "mail", "customer.mail", file, MAIL_KEYS)
    domains = list(customer.mail_domains)
    if customer.contact_email and "@" in customer.contact_email:
        domains.append(customer.contact_email.rpartition("@")[2].strip("> ").lower())
    received_by = (_names(data["received_by"], data, "received_by", "customer.mail.received_by", file)
                   if data.get("received_by") is not None else ())
    rules = _rules(data, file)
    imap = _mapping(data.get("imap"), data, "imap", "customer.mail.imap", file,
                    ("host", "port", "security", "user", "folder", "password_env", "cafile"))
    return MailSettings(customer=customer, domains=tuple(dict.fromkeys(domains)),
                        received_by=tuple(h.lower() for h in received_by), category_rules=rules,
                        imap=imap, file=file)


def _rules(data: Mapping, file: str) -> tuple[CategoryRule, ...]:
    raw = data.get("category_rules")
    if raw is None:
        return tuple(CategoryRule(re.compile(p, re.IGNORECASE), c) for p, c in DEFAULT_CATEGORY_RULES)
    if not isinstance(raw, list) or not raw:
        raise _fail("must be a list of {match: REGEX, category: N}", data, "category_rules",
                    "customer.mail.category_rules", file)
    rules = []
    for index, item in enumerate(raw):
        where = f"customer.mail.category_rules[{index}]"
        item = _mapping(item, data, "category_rules", where, file, ("match", "category"))
        if not isinstance(item.get("match"), str) or not item["match"].strip():
            raise _fail("missing match: a regular expression", item, "match" if "match" in item else None,
                        f"{where}.match", file)
        if item.get("category") not in (1, 2, 3) or isinstance(item.get("category"), bool):
            raise _fail(f"category must be 1, 2 or 3, not {item.get('category')!r}", item,
                        "category" if "category" in item else None, f"{where}.category", file)
        try:
            pattern = re.compile(item["match"], re.IGNORECASE)
        except re.error as exc:
            raise _fail(f"not a regular expression: {exc}", item, "match", f"{where}.match", file) from None
        rules.append(CategoryRule(pattern, item["category"]))
    return tuple(rules)


def customer_of_domain(customers: Iterable[Customer], domain: str) -> MailSettings | None:
    """The customer whose mail domains hold ``domain`` (or a parent of it: mail.acme.example)."""
    domain = domain.lower().rstrip(".")
    for customer in customers:
        settings = mail_settings(customer)
        if any(domain == d or domain.endswith("." + d) for d in settings.domains):
            return settings
    return None
