"""Intake: authenticate, parse, store, acknowledge. Nothing slow happens here."""
