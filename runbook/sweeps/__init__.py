"""What unattended sweeps leave behind and what is made of it: each check's status over time
(history), when a disk fills up (forecast), what changed since the last alerting sweep and
who is told (alerts, alert_mail), and which old runs may go (prune)."""
