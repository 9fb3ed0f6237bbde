"""Alembic migrations: the only way the business schema changes."""
