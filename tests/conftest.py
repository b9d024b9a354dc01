"""Suite-wide fixtures. The SSH lab is started once per session and always stopped.

Tests are marked by what they use, not by hand: every test that uses the lab (directly or
through a fixture built on it: the sudo accounts, the service stack) is ``lab``, every test
that runs Chromium is ``chromium``. ``pytest -m "not lab and not chromium"`` is then the fast
tier: it starts no sshd, no service and no browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab import Lab, lab_unavailable_reason
from tests.lab.fake_jira import FakeJira
from tests.lab.imap import MailServer, imap_unavailable_reason
from tests.lab.services import LabStack, services_unavailable_reason
from tests.lab.sshd import read_public_key
from tests.lab.sudo_users import (
    SudoAccounts,
    SudoUsers,
    subnet_tag,
    sudo_unavailable_reason,
)
from tests.support.chromium import find_chromium


#: fixture -> the mark every test gets that uses it (pytest's fixture closure: uses it at all)
MARKED_BY_FIXTURE = {"lab": "lab", "chromium": "chromium"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, mark in MARKED_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(getattr(pytest.mark, mark))


#: the engineer's settings a test must not inherit from whoever runs the suite
_PERSONAL_SETTINGS = ("RUNBOOK_CONFIG", "RUNBOOK_INVENTORY", "RUNBOOK_FORKS", "RUNBOOK_SWEEP_FORKS",
                      "RUNBOOK_CONNECT_TIMEOUT", "RUNBOOK_COMMAND_TIMEOUT", "RUNBOOK_REPORTS_DIR", "RUNBOOK_MAIL_FROM",
                      "RUNBOOK_OPERATOR")


@pytest.fixture(autouse=True)
def no_personal_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the runner's ~/.config/runbook/config.toml or writes to its
    ~/.local/share/runbook: both XDG bases point into the test's own temporary directory."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for name in _PERSONAL_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, the browser a customer opens a report in."""
    found = find_chromium()
    if found is None:
        pytest.skip("Debian's chromium is not installed (tests/install-deps.sh installs it; CI has it)")
    return found


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The real-sshd lab: web1, app1, db1, spare1 on 127.0.10.1-4:2222, plus bad addresses.

    ``RUNBOOK_LAB_SUBNET=127.0.70`` moves it (tests that start labs of their own use the
    next few subnets up).

    A test that changes a host (``replace_host_key``) must undo it (``restore_host_key``).
    """
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(reason)
    # Two test runs on one machine (developers sharing a box) need two subnets.
    subnet = os.environ.get("RUNBOOK_LAB_SUBNET", "127.0.10")
    running = Lab(tmp_path_factory.mktemp("lab"), subnet=subnet)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def lab_inventory(lab: Lab, tmp_path: Path) -> Path:
    """A freshly written inventory of the lab (with down1 and tarpit1), for one test."""
    return lab.write_inventory(tmp_path / "inventory.yml")


# -- accounts that need real sudo on the lab (the lab itself logs in as root) ----------------

@pytest.fixture(scope="session")
def sudo_accounts(lab: Lab) -> Iterator[SudoAccounts]:
    """Two throw-away system accounts on this machine that log in to every lab host with the
    lab's client key: ``with_password`` (sudo asks for its password) and ``without_password``
    (NOPASSWD). They and their sudoers drop-in are removed when the session ends."""
    reason = sudo_unavailable_reason()
    if reason:
        pytest.skip(reason)
    users = SudoUsers(subnet_tag(lab.subnet), read_public_key(lab.client_key))
    try:
        yield users.create()
    finally:
        users.remove()


# -- the real service stack on the lab (nginx -> gunicorn -> PostgreSQL), once per session --

@pytest.fixture(scope="session")
def lab_stack(lab: Lab) -> Iterator[LabStack]:
    reason = services_unavailable_reason()
    if reason:
        pytest.skip(reason)
    stack = LabStack(lab)
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture
def stack(lab_stack: LabStack) -> Iterator[LabStack]:
    lab_stack.ensure_running()
    try:
        yield lab_stack
    finally:
        lab_stack.stop_helpers()
        lab_stack.ensure_running()


@pytest.fixture
def stack_inventory(stack: LabStack, tmp_path: Path) -> Path:
    return stack.write_inventory(tmp_path / "inventory.yml")


# -- the ticket round trip (issue 15): a real IMAP server and a JIRA stand-in, once per session --

def lab_subnet() -> str:
    """This test run's loopback subnet (RUNBOOK_LAB_SUBNET, default 127.0.10)."""
    return os.environ.get("RUNBOOK_LAB_SUBNET", "127.0.10")


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    """Dovecot on <subnet>.60: IMAPS :10993, STARTTLS :10143, user oncall (umlaut password)."""
    reason = imap_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = MailServer(lab_subnet())
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fake_jira(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeJira]:
    """JIRA's REST API v2 as documented, over HTTPS on <subnet>.61:10443 (see tests/lab/fake_jira.py)."""
    server = FakeJira(lab_subnet(), tmp_path_factory.mktemp("jira-tls"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def jira(fake_jira: FakeJira) -> Iterator[FakeJira]:
    """The session's fake JIRA, emptied for one test."""
    fake_jira.reset()
    yield fake_jira
    fake_jira.reset()
