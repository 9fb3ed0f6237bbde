"""The schema: Alembic migrations are the only way it changes, and they match the models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from persistence.database import create_engine, session_factory, sync_url
from persistence.migrate import downgrade, upgrade
from persistence.models import Base, Customer
from tests.conftest import throwaway_postgres


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    with throwaway_postgres(migrated=False) as url:
        yield url


def test_migrations_build_the_models_schema_and_take_it_down_again(
    empty_postgres_url: str,
) -> None:
    engine = create_sync_engine(sync_url(empty_postgres_url))
    try:
        upgrade(empty_postgres_url)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert tables == {*Base.metadata.tables, "alembic_version"}

        downgrade(empty_postgres_url, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 0

        upgrade(empty_postgres_url)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


async def test_reading_on_sqlite_does_not_hold_the_write_lock(sqlite_url: str) -> None:
    reader = create_engine(sqlite_url, read_only=True)
    writer = create_engine(sqlite_url, connect_args={"timeout": 1})
    try:
        async with session_factory(reader)() as reading, reading.begin():
            await reading.execute(text("SELECT count(*) FROM customers"))
            # A writer commits while the read transaction is still open.
            async with session_factory(writer)() as writing, writing.begin():
                writing.add(
                    Customer(
                        id=f"CUST-{uuid.uuid4().hex[:6]}",
                        name="Reader Test",
                        email="reader@example.org",
                        active=True,
                        standing="good",
                        payment_terms="prepaid",
                        net_days=0,
                        credit_limit=0,
                        currency="EUR",
                    )
                )
            await asyncio.sleep(0)
    finally:
        await reader.dispose()
        await writer.dispose()
