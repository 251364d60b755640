"""Incidents: the record, its lifecycle and its timeline."""
