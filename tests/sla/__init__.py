"""Tests of runbook.sla: contract, calendar, reaction deadlines."""
