"""Paramiko, as every module of runbook imports it: without Invoke at start.

``paramiko.config`` imports Invoke when Paramiko is imported, only to run the commands of an
ssh_config ``Match exec`` line, and Invoke brings ``unittest.mock`` and ``asyncio`` with it:
50-90 ms of every start that connects anywhere, a quarter of what ``runbook sweep`` imports
(``python -X importtime``). While Paramiko is imported here, ``invoke`` is a stand-in module;
the first time Paramiko uses it (a ``Match exec``), the stand-in imports the real Invoke and
hands over. Afterwards ``import invoke`` anywhere gets the real module, as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_INVOKE = "invoke"


class _DeferredInvoke(types.ModuleType):
    """Stands in for ``invoke`` inside ``paramiko.config`` until an attribute is used."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(_INVOKE) is self:
            del sys.modules[_INVOKE]
        return getattr(importlib.import_module(_INVOKE), name)


def _stand_in() -> _DeferredInvoke | None:
    """Put the stand-in in place, unless Invoke is already imported or not installed at all."""
    if _INVOKE in sys.modules or "paramiko" in sys.modules or importlib.util.find_spec(_INVOKE) is None:
        return None
    sys.modules[_INVOKE] = stand_in = _DeferredInvoke(_INVOKE)
    return stand_in


_STAND_IN = _stand_in()
try:
    import paramiko
finally:
    if _STAND_IN is not None and sys.modules.get(_INVOKE) is _STAND_IN:
        del sys.modules[_INVOKE]

__all__ = ["paramiko"]
