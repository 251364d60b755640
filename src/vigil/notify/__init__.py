"""Notifications: channels, routing rules, the outbox, delivery and action links."""
