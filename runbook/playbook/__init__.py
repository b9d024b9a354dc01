"""What is asked of hosts: playbooks, validated before any host is contacted."""

from runbook.playbook.loader import check_against_hosts, load_playbook
from runbook.playbook.model import Playbook, Step

__all__ = ["Playbook", "Step", "check_against_hosts", "load_playbook"]
