"""Tests of runbook.reports and runbook.mail."""
