"""Alembic migrations of the class database, run by ``database.migrate`` when a ClassStore opens."""
