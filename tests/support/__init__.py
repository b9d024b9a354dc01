"""Helpers the test modules share: running the CLI, reading journals, the lab's log trees, a real
SMTP server, headless Chromium, sweeps. Test modules import from here, never from each other."""
