"""Apply Alembic migrations from code (the CLI, the worker, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

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


def missing_schema(database_url: str | URL) -> str | None:
    """Why the business database at ``database_url`` cannot be worked on as it is ("does
    not exist", "is not migrated"), or None when it exists and has been migrated.

    A SQLite file that is not there is not created by asking.
    """
    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            return "does not exist"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return "is not migrated"
            if connection.execute(text("SELECT version_num FROM alembic_version")).first() is None:
                return "is not migrated"
    finally:
        engine.dispose()
    return None


def next_revision_id(config: Config) -> str:
    """The number after the head's, as the migrations are named (``0024`` -> ``0025``)."""
    heads = ScriptDirectory.from_config(config).get_heads()
    numbers = [int(head) for head in heads if head.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def new_revision(database_url: str | URL, message: str, folder: Path | None = None) -> str:
    """Autogenerate a revision from the models against an up-to-date database, numbered
    after the head and named ``<number>_<message as a slug>.py``; its path. It goes into
    the migrations' own folder unless ``folder`` names another (the tests')."""
    config = alembic_config(database_url)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if folder is not None:
        own = ScriptDirectory.from_config(config).versions
        config.set_main_option("version_locations", f"{own} {folder}")
    script = command.revision(
        config,
        message=message,
        autogenerate=True,
        rev_id=next_revision_id(config),
        version_path=str(folder) if folder is not None else None,
    )
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(s.path for s in scripts if s is not None)


def downgrade(database_url: str | URL, revision: str) -> None:
    """Migrate the database at ``database_url`` down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)
