"""Dependencies between services, across hosts: who must be up before whom.

``web1:nginx`` depends on ``app1:gunicorn`` depends on ``db1:postgresql``. A controlled
restart stops dependants first and starts dependencies first; restarting one service
restarts everything that depends on it around it (Monit's semantics): its dependants are
stopped before it and started again after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from runbook.errors import ConfigError
from runbook.inventory.model import Host, Inventory
from runbook.services.model import ServiceSpec, host_services


@dataclass(frozen=True)
class RestartOrder:
    """What a restart of ``requested`` touches, in order.

    stop: dependants first; start: dependencies first; ``elsewhere``: dependants on hosts
    outside this run (they are not restarted, and the report says so).
    """

    requested: tuple[str, ...]
    stop: tuple[str, ...]
    start: tuple[str, ...]
    elsewhere: tuple[str, ...] = ()


class ServiceGraph:
    """All declared services of the inventory's hosts and their dependency edges."""

    def __init__(self, services: Mapping[str, ServiceSpec]) -> None:
        self.services = dict(services)
        for spec in self.services.values():
            for dep in spec.depends_on:
                if dep not in self.services:
                    host = self.services[spec.key]
                    raise ConfigError(f"depends on {dep!r}, which no host declares (known: "
                                      f"{', '.join(sorted(self.services)) or 'none'})",
                                      field=f"hosts.{host.host}.vars.services.{spec.name}.depends_on")
        self._dependants: dict[str, list[str]] = {key: [] for key in self.services}
        for spec in self.services.values():
            for dep in spec.depends_on:
                self._dependants[dep].append(spec.key)
        self._order = self._topological()

    @classmethod
    def from_inventory(cls, inventory: Inventory | None, hosts: Iterable[Host],
                       vars_of: Mapping[str, Mapping] | None = None) -> ServiceGraph:
        """Services of ``hosts`` (strictly validated) plus those of every other inventory host
        of the same customers (a host elsewhere with a broken entry is left out, not fatal)."""
        hosts = list(hosts)
        services: dict[str, ServiceSpec] = {}
        for host in hosts:
            for spec in host_services(host, (vars_of or {}).get(host.name)).values():
                services[spec.key] = spec
        customers = {h.customer for h in hosts}
        names = {h.name for h in hosts}
        for other in (inventory.hosts.values() if inventory is not None else ()):
            if other.name in names or other.customer not in customers:
                continue
            try:
                for spec in host_services(other).values():
                    services[spec.key] = spec
            except ConfigError:
                continue  # a host outside the run: its own runs report its mistake
        return cls(services)

    def resolve(self, name: str, host: str) -> str:
        """``"nginx"`` on ``host`` or ``"web1:nginx"`` as a key; ConfigError if unknown."""
        key = name if ":" in name else f"{host}:{name}"
        if key not in self.services:
            raise ConfigError(f"no service {key!r} is declared (known: {', '.join(sorted(self.services))})",
                              field="params.services")
        return key

    def dependants(self, key: str) -> set[str]:
        """Every service that needs ``key``, directly or through others."""
        found: set[str] = set()
        todo = list(self._dependants[key])
        while todo:
            item = todo.pop()
            if item not in found:
                found.add(item)
                todo.extend(self._dependants[item])
        return found

    def dependencies(self, key: str) -> set[str]:
        """Every service ``key`` needs, directly or through others."""
        found: set[str] = set()
        todo = list(self.services[key].depends_on)
        while todo:
            item = todo.pop()
            if item not in found:
                found.add(item)
                todo.extend(self.services[item].depends_on)
        return found

    def order(self, keys: Iterable[str]) -> list[str]:
        """``keys`` with dependencies before their dependants (start order)."""
        wanted = set(keys)
        return [k for k in self._order if k in wanted]

    def restart_order(self, requested: Iterable[str], in_run: set[str]) -> RestartOrder:
        """Stop and start order for restarting ``requested`` with their dependants around them;
        only services on hosts in ``in_run`` (host names) can be acted on."""
        requested = list(dict.fromkeys(requested))
        closure = set(requested)
        for key in requested:
            closure |= self.dependants(key)
        here = {k for k in closure if self.services[k].host in in_run}
        starts = self.order(here)
        return RestartOrder(requested=tuple(requested), stop=tuple(reversed(starts)), start=tuple(starts),
                            elsewhere=tuple(sorted(closure - here)))

    def _topological(self) -> list[str]:
        """Kahn's algorithm in declaration order, so equal-rank services keep the inventory's order."""
        remaining = {key: set(spec.depends_on) for key, spec in self.services.items()}
        order: list[str] = []
        while remaining:
            ready = [k for k, deps in remaining.items() if not deps]
            if not ready:
                raise ConfigError("dependency cycle: " + _cycle(remaining), field="vars.services.depends_on")
            for key in ready:
                order.append(key)
                del remaining[key]
            for deps in remaining.values():
                deps.difference_update(ready)
        return order


def _cycle(remaining: Mapping[str, set[str]]) -> str:
    start = next(iter(remaining))
    path = [start]
    while True:
        nxt = min(remaining[path[-1]])
        if nxt in path:
            return " -> ".join(path[path.index(nxt):] + [nxt])
        path.append(nxt)
