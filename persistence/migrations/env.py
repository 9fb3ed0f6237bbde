"""Alembic environment: runs migrations on the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from persistence.database import configure_sqlite, sync_url
from persistence.models import Base

config = context.config
url = sync_url(config.get_main_option("sqlalchemy.url") or "")


def run_migrations() -> None:
    """Migrate in one transaction per run (batch mode lets SQLite alter tables).

    On SQLite, batch mode rebuilds a table (copy, drop, rename). SQLite's own procedure
    for that turns foreign keys off first (dropping a table others refer to fails
    otherwise) and checks them all before the transaction commits.
    """
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        configure_sqlite(engine)
    with engine.connect() as connection:
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows breaking foreign keys: {broken[:5]}")
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
    engine.dispose()


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Switch SQLite's foreign keys on the driver's own connection: through SQLAlchemy the
    pragma would follow a BEGIN, and inside a transaction it does nothing."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


run_migrations()
