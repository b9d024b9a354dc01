"""Who works on an incident and who signs the report: the operator and the signature block.

An inventory file may say, beside ``customer:``, who is on call for that customer and how the
service provider signs its reports::

    operator: {name: Eva Berger, email: eva.berger@service.example, phone: "+49 711 1234-56"}
    signature:
      company: Muster IT-Service GmbH
      team: Betrieb und Bereitschaft          # optional
      on_call: {phone: "+49 711 1234-0", email: bereitschaft@service.example}

``RUNBOOK_OPERATOR="Eva Berger <eva.berger@service.example>, +49 711 1234-56"`` names the
person at the keyboard and wins over the inventory. The operator is recorded in every run's
``run.start`` (and with every incident note), so a report says who did the work; the account
runbook runs under ("root") is not a person and is never shown to a customer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook.errors import ConfigError
from runbook.yamlsource import SourceMap, expect_map

ENV_OPERATOR = "RUNBOOK_OPERATOR"
_ADDRESS = re.compile(r"^(?P<name>[^<>,]+?)\s*(?:<(?P<email>[^<>\s]+@[^<>\s]+)>)?\s*(?:,\s*(?P<phone>.+?))?\s*$")


@dataclass(frozen=True)
class Person:
    """Someone the customer can reach: a name, and an e-mail address and phone number if known."""

    name: str
    email: str | None = None
    phone: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "phone": self.phone}

    @classmethod
    def from_json(cls, data: Any) -> Person | None:
        """The inverse of to_json; None for anything that does not name a person (old journals)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str) or not data["name"].strip():
            return None
        return cls(name=data["name"].strip(), email=_text(data.get("email")), phone=_text(data.get("phone")))


@dataclass(frozen=True)
class Signature:
    """How the service provider signs a report: its company, the team, and the on-call contact."""

    company: str
    team: str | None = None
    on_call_phone: str | None = None
    on_call_email: str | None = None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def parse_operator(text: str, *, field: str = ENV_OPERATOR) -> Person:
    """"Eva Berger <eva@example.com>, +49 711 1234-56" (e-mail and phone optional) as a Person."""
    match = _ADDRESS.match(text or "")
    if not match or not match["name"].strip():
        raise ConfigError(f"expected 'Name <email>, phone', got {text!r}", field=field)
    return Person(match["name"].strip(), match["email"], _text(match["phone"]))


def operator_from_env(environ: Mapping[str, str] | None = None) -> Person | None:
    """The operator named by RUNBOOK_OPERATOR, None if it is unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV_OPERATOR, "").strip()
    return parse_operator(value) if value else None


def person_from_yaml(spec: SourceMap, field: str) -> Person:
    """An ``operator:`` mapping {name, email, phone}; ConfigError naming file, line and field."""
    _known(spec, ("email", "name", "phone"), field)
    return Person(_required(spec, "name", field), _text(spec.get("email")), _text(spec.get("phone")))


def signature_from_yaml(spec: SourceMap, field: str) -> Signature:
    """A ``signature:`` mapping {company, team, on_call: {phone, email}}."""
    _known(spec, ("company", "on_call", "team"), field)
    company = _required(spec, "company", field)
    on_call = expect_map(spec.get("on_call"), spec, "on_call", spec.file)
    _known(on_call, ("email", "phone"), f"{field}.on_call")
    return Signature(company, _text(spec.get("team")), _text(on_call.get("phone")), _text(on_call.get("email")))


def _known(spec: SourceMap, keys: tuple[str, ...], field: str) -> None:
    for key in spec:
        if key not in keys:
            raise spec.error(f"unknown key (expected one of: {', '.join(keys)})", key=key, field=f"{field}.{key}")


def _required(spec: SourceMap, key: str, field: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise spec.error("missing or not a string", key=key if key in spec else None, field=f"{field}.{key}")
    return value.strip()
