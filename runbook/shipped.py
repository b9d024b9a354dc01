"""Files runbook ships beside its code: the standard playbooks and the local inventory.

In a source checkout (or an editable install) they are the repository's ``playbooks/`` and
``inventory/``; a wheel carries copies under ``runbook/_shipped/`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from runbook.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def shipped(relative: str) -> Path:
    """The path of a shipped file such as ``playbooks/health-check.yml``."""
    for base in (_PACKAGE.parent, _PACKAGE / "_shipped"):
        candidate = base / relative
        if candidate.is_file():
            return candidate
    raise ConfigError("shipped file is missing from this installation", file=relative)
