"""Alembic revisions (Alembic skips this file; it makes the folder a package so it is installed)."""
