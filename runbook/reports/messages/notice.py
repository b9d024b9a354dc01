"""The fault notice to a hosting provider (``notify.hoster``): every sentence of it, de and en.

A catalogue of its own beside the report catalogue: the notice goes to the provider, not to
the customer, and its words ("Kundennummer", "Rückruf") are no report's. Keys are message
ids, values ``str.format`` templates; both languages have the same ids and fields (a test
checks it). Technical quotes (an SSH banner, the operating system's "Connection refused")
come in as arguments and stay as they are; everything around them is worded here.
"""

from __future__ import annotations

DE: dict[str, str] = {
    # Betreff
    "subject": "Störungsmeldung: {hosts} nicht erreichbar seit {since}",
    "subject.number": "Kundennummer {number} – Störungsmeldung: {hosts} nicht erreichbar seit {since}",
    # Zeit: "03.12.2026, 02:14 Uhr (MEZ)"
    "time": "{date}, {time} Uhr ({zone})",
    "time.utc": "{date}, {time} Uhr (UTC)",
    "zone.CET": "MEZ",
    "zone.CEST": "MESZ",
    "list.and": "und",
    # Text
    "greeting": "Guten Tag,",
    "intro.one": "der folgende Server unseres Kunden {customer} ist von uns aus seit {since} nicht erreichbar:",
    "intro.many": "die folgenden {count} Server unseres Kunden {customer} sind von uns aus nicht erreichbar, "
                  "der erste seit {since}:",
    "number": "Unsere Kundennummer bei Ihnen: {number}",
    "incident": "Unser Vorgang: {incident}",
    "host": "Server {host} (Adresse {address})",
    "host.server_id": "Server {host} (Adresse {address}, Server-ID {server_id})",
    "since": "nicht erreichbar seit: {since}",
    "failing": "Fehler auf Ebene: {layer}",
    "checked": "von uns aus geprüft:",
    "layer.dns.ok": "DNS: {address} wird zu {peer} aufgelöst",
    "layer.dns.failed": "DNS: {address} lässt sich nicht auflösen ({reason})",
    "layer.tcp.ok": "TCP: Port {port} nimmt Verbindungen an",
    "layer.tcp.failed": "TCP: keine Verbindung zu Port {port} ({reason})",
    "layer.ssh.ok": "SSH: meldet sich ({banner})",
    "layer.ssh.failed": "SSH: Port {port} ist offen, aber der Dienst meldet sich nicht ({reason})",
    "answering": "antwortet noch:",
    "answering.none": "antwortet noch: nichts, was wir von außen prüfen können",
    "silent": "antwortet nicht:",
    "probe.http": "{target} (HTTP {status})",
    "probe.tcp": "Port {target}",
    "probe.failed": "{target}: {reason}",
    "reason.timeout": "keine Antwort innerhalb von {seconds} s",
    "reason.connect": "keine Verbindung",
    "reason.dns": "Name nicht auflösbar",
    "reason.status": "HTTP {http_status} statt {expected}",
    "reason.body": "Antwort ohne den erwarteten Inhalt",
    "reason.other": "{detail}",
    "request": "Bitte prüfen Sie Netzwerk und Server und geben Sie uns Bescheid, was Sie feststellen.",
    "callback": "Rückruf bitte unter {phone}.",
    "reply": "Antworten Sie gern auf diese E-Mail.",
    "regards": "Mit freundlichen Grüßen",
    "sig.email": "E-Mail: {email}",
    "sig.phone": "Telefon: {phone}",
}

EN: dict[str, str] = {
    # subject
    "subject": "Fault notice: {hosts} unreachable since {since}",
    "subject.number": "Customer number {number} – fault notice: {hosts} unreachable since {since}",
    # time: "3 Dec 2026, 02:14 CET (01:14 UTC)"
    "time": "{date}, {time} {zone} ({utc} UTC)",
    "time.utc": "{date}, {time} UTC",
    "zone.CET": "CET",
    "zone.CEST": "CEST",
    "list.and": "and",
    # text
    "greeting": "Hello,",
    "intro.one": "the following server of our customer {customer} cannot be reached from our side since {since}:",
    "intro.many": "the following {count} servers of our customer {customer} cannot be reached from our side, "
                  "the first since {since}:",
    "number": "Our customer number with you: {number}",
    "incident": "Our incident: {incident}",
    "host": "Server {host} (address {address})",
    "host.server_id": "Server {host} (address {address}, server id {server_id})",
    "since": "unreachable since: {since}",
    "failing": "failing layer: {layer}",
    "checked": "checked from our side:",
    "layer.dns.ok": "DNS: {address} resolves to {peer}",
    "layer.dns.failed": "DNS: {address} does not resolve ({reason})",
    "layer.tcp.ok": "TCP: port {port} accepts connections",
    "layer.tcp.failed": "TCP: no connection to port {port} ({reason})",
    "layer.ssh.ok": "SSH: answers ({banner})",
    "layer.ssh.failed": "SSH: port {port} is open, but the service does not answer ({reason})",
    "answering": "still answers:",
    "answering.none": "still answers: nothing we can check from outside",
    "silent": "does not answer:",
    "probe.http": "{target} (HTTP {status})",
    "probe.tcp": "port {target}",
    "probe.failed": "{target}: {reason}",
    "reason.timeout": "no answer within {seconds} s",
    "reason.connect": "no connection",
    "reason.dns": "name does not resolve",
    "reason.status": "HTTP {http_status} instead of {expected}",
    "reason.body": "answer without the expected content",
    "reason.other": "{detail}",
    "request": "Please check the network and the servers and let us know what you find.",
    "callback": "Please call us back on {phone}.",
    "reply": "You are welcome to reply to this e-mail.",
    "regards": "Kind regards",
    "sig.email": "E-mail: {email}",
    "sig.phone": "Phone: {phone}",
}

NOTICE: dict[str, dict[str, str]] = {"de": DE, "en": EN}
