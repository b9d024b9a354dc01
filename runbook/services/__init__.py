"""Services on the hosts: how they are declared, depend on each other, are started and stopped.

``model``    the ``services`` host var -> ``ServiceSpec`` (manager, commands, probes, depends_on)
``defaults`` shipped settings for nginx, Apache, php-fpm, Tomcat/Java, gunicorn/uwsgi,
             PostgreSQL, MySQL/MariaDB (Debian and RHEL unit names)
``graph``    dependencies across hosts; stop and start order of a controlled restart
``control``  the shell lines per manager (systemd, sysv, command)
``status``   what a service is doing now: state, main pid, since when, probe results
``config_check``  checking a service's configuration before a restart stops anything
``restart_plan``  planning a controlled restart: which services, in which order, loop protection
``restart``  a controlled restart while it happens: stop, start and health-gate changes
``history``  what earlier run journals say: restart counts (restart-loop protection), outages

Hung processes and ending them are ``runbook.processes``.
"""
