"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]
"""Makes sessions on the business database; injected into activities and tools."""

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "busy_timeout": "30000",
}
"""WAL lets readers work beside the single writer; writers wait up to 30 s for the lock."""


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver this project uses for its dialect."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(
        f"database URL {parsed.render_as_string(hide_password=True)!r}: "
        "expected a sqlite:/// or postgresql:// URL"
    )


def sync_url(url: str | URL) -> URL:
    """``url`` with a synchronous driver, for Alembic."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    return parsed


READ_ONLY = "oms_read_only"
"""Execution option of an engine whose sessions only read (see :func:`create_engine`)."""


def create_engine(url: str | URL, *, read_only: bool = False, **options: Any) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL pragmas and ``BEGIN IMMEDIATE``.

    A ``read_only`` engine is for people's views and checks: on SQLite its
    transactions begin deferred, so reading never holds the write lock that the
    workers' steps wait for. A writing engine on SQLite has a single connection.
    """
    target = async_url(url)
    if read_only:
        options["execution_options"] = {**options.get("execution_options", {}), READ_ONLY: True}
    elif target.get_backend_name() == "sqlite":
        # SQLite has one writer at a time. With one connection per process, a
        # process's transactions queue for it in asyncio instead of sleeping in
        # SQLite's busy handler (which backs off up to 100 ms a try).
        options.setdefault("pool_size", 1)
        options.setdefault("max_overflow", 0)
    engine = create_async_engine(target, **options)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine.sync_engine)
    return engine


def configure_sqlite(engine: Any) -> None:
    """Make every SQLite transaction take the write lock when it begins.

    ``BEGIN IMMEDIATE`` serialises writers up front, so a read-then-update such as
    a stock reservation cannot interleave with another one (no lost update, no
    deadlock-on-upgrade). The driver's own implicit BEGIN is switched off so
    SQLAlchemy's ``begin`` event decides, as the SQLAlchemy docs recommend.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for name, value in SQLITE_PRAGMAS.items():
            cursor.execute(f"PRAGMA {name}={value}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions whose objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
