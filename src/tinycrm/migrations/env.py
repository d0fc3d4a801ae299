"""Alembic environment: runs on the connection tinycrm.store.open hands over in
`config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from tinycrm.models import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        # pysqlite opens a transaction only before the first INSERT/UPDATE/DELETE, so DDL
        # ahead of it (a table rebuilt in 0007) would be committed on its own: one
        # transaction holds the whole upgrade, and a crash leaves the store as it was.
        conn.exec_driver_sql("BEGIN")
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic -x url=...` from a developer's shell
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(str(url))
    with engine.begin() as conn:
        _run(conn)
