"""The SLA clock: a customer's contract, business days with public holidays, reaction deadlines.

Pure logic, no I/O: ``contract`` reads and validates ``customer.contract`` of an inventory,
``calendar`` knows business days and service hours, ``deadline`` counts reaction times;
``localtime`` turns local wall-clock times into real (UTC) ones and holds the holiday tables.
"""

from __future__ import annotations

from runbook.sla.calendar import (
    holiday_name,
    in_service_hours,
    is_business_day,
    is_holiday,
    next_business_day,
    parse_time,
    service_window,
)
from runbook.sla.contract import (
    CATEGORIES,
    Contract,
    OnCall,
    ServiceHours,
    contract_from_mapping,
    default_contract,
    format_duration,
    parse_reaction_time,
)
from runbook.sla.deadline import ReactionDeadline, describe_reaction, reaction_deadline

__all__ = [
    "CATEGORIES",
    "Contract",
    "OnCall",
    "ReactionDeadline",
    "ServiceHours",
    "contract_from_mapping",
    "default_contract",
    "describe_reaction",
    "format_duration",
    "holiday_name",
    "in_service_hours",
    "is_business_day",
    "is_holiday",
    "next_business_day",
    "parse_reaction_time",
    "parse_time",
    "reaction_deadline",
    "service_window",
]
