"""Alembic environment of the progress database (run by ``ossdx db upgrade``).

``ossdx.teaching.database`` passes an open connection, already inside the one transaction
the migration runs in, as ``config.attributes["connection"]``; the revision is kept in the
table named by ``config.attributes["version_table"]``. Run by the ``alembic`` command with a
``sqlalchemy.url`` instead, it connects by itself (for writing a new revision: compare
against ``ossdx.teaching.storage.metadata``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from ossdx.teaching.database import VERSION_TABLE
from ossdx.teaching.storage import metadata

config = context.config
version_table = config.attributes.get("version_table", VERSION_TABLE)
connection: Connection | None = config.attributes.get("connection")


def run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata,
                      version_table=version_table, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
