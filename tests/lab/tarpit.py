"""A TCP listener that accepts connections and never sends a byte.

Run as ``python tarpit.py ADDRESS PORT`` (the lab starts it as a process of its own, so it is
stopped by pid like the sshd hosts). A client sees the TCP connect succeed and then waits for
an SSH banner that never comes: the case connect and banner timeouts exist for.
Only the standard library, so it starts in a few milliseconds.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

# Connections are held open (closing would give the client an EOF, which is a different
# failure); past this many the oldest is let go so a long-lived tarpit cannot grow forever.
MAX_HELD = 1024


def serve(address: str, port: int) -> None:
    """Accept connections on ``address:port`` forever and keep them silent."""
    if not ipaddress.ip_address(address).is_loopback:
        raise SystemExit(f"tarpit: refusing to listen on non-loopback address {address}")
    # create_server sets SO_REUSEADDR, so a restart right after a stop can bind again.
    listener = socket.create_server((address, port), backlog=128)
    held: list[socket.socket] = []
    while True:
        conn, _ = listener.accept()
        held.append(conn)
        if len(held) > MAX_HELD:
            held.pop(0).close()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: tarpit.py ADDRESS PORT", file=sys.stderr)
        return 2
    serve(argv[1], int(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
