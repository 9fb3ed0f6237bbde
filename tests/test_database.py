"""The schema: Alembic migrations are the only way it changes, and they match the models."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from persistence.database import Database, sync_url
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.migrate import alembic_config, downgrade, new_revision, upgrade
from persistence.models import Base, Customer
from tests.conftest import throwaway_postgres
from tests.test_complaints import completed_prepaid_order


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


def new_customer() -> Customer:
    return Customer(
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


def test_reading_on_sqlite_does_not_hold_the_write_lock(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        with db.reading() as reading:
            before = reading.scalar(text("SELECT count(*) FROM customers"))
            # A writer commits while the read transaction is still open, from another
            # thread as a worker's step would; it must not wait for the reader.
            finished = db.executor.submit(_add_customer, db)
            finished.result(timeout=5)
            assert reading.scalar(text("SELECT count(*) FROM customers")) == before
        with db.reading() as reading:
            assert reading.scalar(text("SELECT count(*) FROM customers")) == before + 1
    finally:
        db.dispose()


def _add_customer(db: Database) -> None:
    with db.transaction() as session:
        session.add(new_customer())


def test_one_process_queues_its_sqlite_writers_without_locking_errors(sqlite_url: str) -> None:
    """Sixteen threads write at once: each transaction waits for the process's writer lock,
    none meets SQLite's "database is locked", and every read-then-write counts."""
    db = Database(sqlite_url, threads=16)
    try:
        with db.transaction() as session:
            customer = new_customer()
            session.add(customer)

        def bump() -> None:
            with db.transaction() as session:
                limit = session.scalar(
                    text("SELECT credit_limit FROM customers WHERE id = :id"), {"id": customer.id}
                )
                session.execute(
                    text("UPDATE customers SET credit_limit = :limit WHERE id = :id"),
                    {"limit": limit + 1, "id": customer.id},
                )

        for done in [db.executor.submit(bump) for _ in range(400)]:
            done.result(timeout=60)
        with db.reading() as session:
            assert session.get(Customer, customer.id).credit_limit == 400  # type: ignore[union-attr]
    finally:
        db.dispose()


async def test_async_code_runs_steps_on_the_database_threads(sqlite_url: str) -> None:
    db = Database(sqlite_url, threads=2)
    try:
        names = await asyncio.gather(
            *(db.run(lambda: threading.current_thread().name) for _ in range(10))
        )
        assert {name.rsplit("_", 1)[0] for name in names} == {"oms-db"}
        assert threading.current_thread().name not in names
    finally:
        db.dispose()


@pytest.mark.postgres
def test_the_postgresql_pool_has_one_connection_per_thread(postgres_url: str) -> None:
    db = Database(postgres_url, threads=5)
    try:
        assert db.engine.pool.size() == 5  # type: ignore[attr-defined]
        assert db.engines == (db.engine,)  # readers share the pool
    finally:
        db.dispose()


async def test_a_sqlite_database_with_parcels_migrates_through_a_rebuilt_shipments_table(
    tmp_path: Path,
) -> None:
    """Batch mode rebuilds ``shipments`` (0024), which reservations and tracking events
    refer to: the migration switches SQLite's foreign keys off for it, checks them after,
    and the rows come through both ways."""
    url = f"sqlite:///{tmp_path / 'parcels.db'}"
    upgrade(url)
    db = Database(url)
    seed_demo_catalogue(db)
    await completed_prepaid_order(db)  # a delivered parcel with reservations and events
    db.dispose()

    def counts() -> tuple[int, int, int]:
        engine = create_sync_engine(sync_url(url))
        with engine.connect() as connection:
            found = tuple(
                int(connection.execute(text(f"select count(*) from {table}")).scalar_one())
                for table in ("shipments", "tracking_events", "reservations")
            )
        engine.dispose()
        return found  # type: ignore[return-value]

    before = counts()
    assert before[0] >= 1
    assert before[1] >= 3
    downgrade(url, "0023")
    upgrade(url)
    assert counts() == before


def test_a_new_revision_continues_the_numbered_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'oms.db'}"
    upgrade(url)
    config = alembic_config(url)
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    folder = tmp_path / "versions"
    folder.mkdir()

    written = Path(new_revision(url, "Add a column to stock levels", folder))

    number = f"{int(head) + 1:04d}"
    assert written == folder / f"{number}_add_a_column_to_stock_levels.py"
    source = written.read_text(encoding="utf-8")
    assert f"revision: str = '{number}'" in source
    assert f"down_revision: str | None = '{head}'" in source
