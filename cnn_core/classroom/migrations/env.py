"""Alembic's entry point. Only ever run programmatically (``database.migrate``), with the open
connection in ``config.attributes["connection"]``: the caller holds the transaction and, on
PostgreSQL, the advisory lock that keeps two servers from migrating at once."""
from alembic import context

from cnn_core.classroom.database import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
