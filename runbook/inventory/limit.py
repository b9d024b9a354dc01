"""Host selection: ``-l/--limit`` patterns.

A limit is a comma-separated list of patterns. Each pattern matches a host name, a role, a
customer, ``customer:role`` or ``customer:host``; shell globs (``web*``) work in each part.
Patterns starting with ``!`` exclude. The result is the union of the positive patterns (all
hosts if there are none) minus the excluded ones, in inventory order. A pattern that matches
no host at all is an error: a typo must not silently sweep nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from runbook.errors import UsageError
from runbook.inventory.model import Host, Inventory


def _matches(pattern: str, host: Host, customer_slug: str) -> bool:
    if ":" in pattern:
        cust, _, rest = pattern.partition(":")
        if not fnmatchcase(customer_slug, cust):
            return False
        return fnmatchcase(host.name, rest) or any(fnmatchcase(r, rest) for r in host.roles)
    return (fnmatchcase(host.name, pattern) or any(fnmatchcase(r, pattern) for r in host.roles)
            or fnmatchcase(customer_slug, pattern))


def select_hosts(inventory: Inventory, limit: str | None,
                 targets: Sequence[str] | None = None) -> list[Host]:
    """Hosts matched by ``limit`` (and by a playbook's ``targets`` list, if given)."""
    hosts = list(inventory.hosts.values())
    if targets:
        hosts = [h for h in hosts if any(t == h.name or t in h.roles or t == "all" for t in targets)]
    if not limit:
        return hosts
    patterns = [p.strip() for p in limit.split(",")]
    if any(not p or p == "!" for p in patterns):
        raise UsageError(f"empty pattern in {limit!r}", option="--limit")
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]
    all_hosts = list(inventory.hosts.values())
    for pattern in include + exclude:
        if not any(_matches(pattern, h, inventory.customers[h.customer].slug) for h in all_hosts):
            raise UsageError(f"pattern {pattern!r} matches no host, role or customer ({known(inventory)})",
                             option="--limit")
    selected: Iterable[Host] = hosts
    if include:
        selected = [h for h in selected
                    if any(_matches(p, h, inventory.customers[h.customer].slug) for p in include)]
    return [h for h in selected
            if not any(_matches(p, h, inventory.customers[h.customer].slug) for p in exclude)]


def known(inventory: Inventory, most: int = 8) -> str:
    """What a limit may name, shortened: "hosts web1, db1; roles web, db; customers acme"."""
    def some(names: Iterable[str]) -> str:
        names = list(dict.fromkeys(names))
        return ", ".join(names[:most]) + (f" (+{len(names) - most} more)" if len(names) > most else "")

    hosts = inventory.hosts.values()
    parts = [f"hosts {some(h.name for h in hosts)}",
             f"roles {some(r for h in hosts for r in h.roles)}" if any(h.roles for h in hosts) else "",
             f"customers {some(c.slug for c in inventory.customers.values())}"]
    return "; ".join(p for p in parts if p)
