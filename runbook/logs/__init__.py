"""Logs on the hosts: which files a host has, how they are rotated, and how they are secured.

``sets``      the ``log_sets`` host var -> ``LogSet`` (globs, format, writer, retention, roots)
``files``     every file of a host's log sets, as listed on the host (one command, a pure parser)
``rotation``  logrotate's semantics, re-implemented: options, a pure plan, shell commands
``archive``   one verified tar.gz per host, streamed over the run's connection: the program
              sent to the host (``remote``) and the local half that writes and verifies (``stream``)
"""
