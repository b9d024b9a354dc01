"""A real SMTP server on loopback (aiosmtpd): what it accepted, and a free port to run it on."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

@dataclass
class Inbox:
    """What the server accepted: (mail from, recipients, raw bytes) per message; logins."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
