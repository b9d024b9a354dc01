"""Where hosts come from: inventory files, resolved into customers and hosts."""

from runbook.inventory.limit import select_hosts
from runbook.inventory.loader import load_inventory, parse_extra_vars
from runbook.inventory.model import Customer, Host, HosterContact, Inventory

__all__ = ["Customer", "Host", "HosterContact", "Inventory", "load_inventory", "parse_extra_vars",
           "select_hosts"]
