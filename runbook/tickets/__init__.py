"""The ticket round trip: incidents in from JIRA and e-mail, reports back out (issue 15).

- ``settings``     the inventory's ``customer.jira`` / ``customer.mail`` / ``mail_domains``
- ``jira``         a small JIRA REST API v2 client (urllib; credentials from the environment)
- ``jira_intake``  a JIRA issue -> a ``Draft`` of an incident
- ``mailtext``     MIME: decoded headers, HTML bodies as text, forwarded originals, Received
- ``mail_intake``  a customer's mail -> a ``Draft`` (customer, received time, category)
- ``mailbox``      the on-call mailbox over IMAP (TLS or STARTTLS, read-only)
- ``intake``       ``Draft``: what was read, shown to the engineer, then opened
- ``outbound``     the report as a JIRA comment (updated, never duplicated), a transition,
                   a reply to the customer's mail

Below the CLI, above ``incidents``, ``mail`` and ``reports``' outputs; nothing here prints.
"""
