"""The real-sshd test lab: OpenSSH ``sshd`` processes on distinct loopback addresses.

The suite tests SSH behaviour against real servers, never a mocked paramiko
(see /work/shared/STYLE.md, "Tests"). ``tests/conftest.py`` starts one ``Lab`` per session;
``python -m tests.lab up`` starts one for a human.
"""

from __future__ import annotations

from tests.lab.lab import Lab, LabHost, side_lab
from tests.lab.processes import LabError, lab_unavailable_reason

__all__ = ["Lab", "LabError", "LabHost", "lab_unavailable_reason", "side_lab"]
