"""Alembic environment: runs migrations on the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from persistence.database import configure_sqlite, sync_url
from persistence.models import Base

config = context.config
url = sync_url(config.get_main_option("sqlalchemy.url") or "")


def run_migrations() -> None:
    """Migrate in one transaction per run (batch mode lets SQLite alter tables)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
