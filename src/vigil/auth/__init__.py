"""API tokens and scopes."""
