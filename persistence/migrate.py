"""Apply Alembic migrations from code (the CLI, the worker, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

from persistence.database import sync_url

SCRIPT_LOCATION = "persistence:migrations"


def alembic_config(database_url: str | URL) -> Config:
    """An Alembic configuration for ``database_url`` without any ini file."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    url = sync_url(database_url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def new_revision(database_url: str | URL, message: str) -> str:
    """Autogenerate a revision from the models against an up-to-date database; its path."""
    script = command.revision(alembic_config(database_url), message=message, autogenerate=True)
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(s.path for s in scripts if s is not None)


def downgrade(database_url: str | URL, revision: str) -> None:
    """Migrate the database at ``database_url`` down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)
