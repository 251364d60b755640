"""Database layer: engine, sessions, schema and migrations."""
