"""The business database: synchronous transactions on worker threads.

Every database step is one synchronous function running one transaction
(:meth:`Database.transaction`). A worker runs them on the threads of the
database's executor, which is the worker's ``activity_executor``; async code
(the ``oms`` command, the tools, the partner steps) hands them to the same
threads with :meth:`Database.run`.

SQLite (the embedded default) has one writer at a time. Each process has one
writing connection that one thread uses at a time (a lock), so transactions
queue in the process instead of sleeping in SQLite's busy handler; reading
sessions have connections of their own, which begin deferred and never take
the write lock. PostgreSQL gets one pool of as many connections as the
executor has threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

ParamsT = ParamSpec("ParamsT")
ResultT = TypeVar("ResultT")

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "busy_timeout": "30000",
    "secure_delete": "ON",
}
"""WAL lets readers work beside the single writer; a writer in another process waits up
to 30 s for the lock; deleted and overwritten content is zeroed, not left in free space
(an erased customer's values must not stay readable in the file)."""

POSTGRES_LOCK_TIMEOUT = "30s"
"""PostgreSQL: how long a statement waits for a lock another transaction holds, as SQLite's
busy timeout; then it fails (lock not available) and the caller says "busy, try again"
instead of waiting without end."""

DEFAULT_THREADS = 4
"""Threads (and PostgreSQL connections) of a database opened by a tool; workers set theirs."""

READ_ONLY = "oms_read_only"
"""Execution option of an engine whose sessions only read (see :class:`Database`)."""


def sync_url(url: str | URL) -> URL:
    """``url`` with the driver this project uses for its dialect (stdlib sqlite3, psycopg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(
        f"database URL {parsed.render_as_string(hide_password=True)!r}: "
        "expected a sqlite:/// or postgresql:// URL"
    )


class Database:
    """The business database, its connections and the threads that use them.

    ``threads`` sizes the executor that runs database steps and, on PostgreSQL,
    the connection pool: every thread can hold a connection, and nothing else
    takes one, so no step waits for a connection while a thread is free.
    """

    def __init__(self, url: str | URL, *, threads: int = DEFAULT_THREADS) -> None:
        target = sync_url(url)
        self.threads = threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="oms-db")
        self._write_lock: AbstractContextManager[Any]
        if target.get_backend_name() == "sqlite":
            # SQLite serialises writers anyway; one connection per process makes the
            # wait a lock in this process instead of SQLite's busy handler, which
            # sleeps up to 100 ms a try.
            self.engine = create_sync_engine(target, pool_size=1, max_overflow=0)
            self._reader = create_sync_engine(
                target,
                pool_size=threads,
                max_overflow=0,
                execution_options={READ_ONLY: True},
            )
            configure_sqlite(self.engine)
            configure_sqlite(self._reader)
            self._write_lock = threading.Lock()
        else:
            self.engine = create_sync_engine(
                target,
                pool_size=threads,
                max_overflow=0,
                pool_pre_ping=True,
                connect_args={"options": f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT}"},
            )
            self._reader = self.engine
            self._write_lock = nullcontext()
        self._writing = sessionmaker(self.engine, expire_on_commit=False)
        self._reading = sessionmaker(self._reader, expire_on_commit=False)
        self._batch = threading.local()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine this database uses (one on PostgreSQL, writer and readers on SQLite)."""
        return (self.engine,) if self._reader is self.engine else (self.engine, self._reader)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction, committed when the block ends without an error.

        On SQLite the block holds the process's writing connection: keep it to
        the statements of one business step, and never open another
        transaction inside it.
        """
        batch: Session | None = getattr(self._batch, "session", None)
        if batch is not None:
            yield batch
            return
        with self._write_lock, self._writing() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads; on SQLite it never waits for or blocks a writer.

        Inside :meth:`batch` it is the batch's session, which sees the batch's writes.
        """
        batch: Session | None = getattr(self._batch, "session", None)
        if batch is not None:
            yield batch
            return
        with self._reading() as session:
            yield session

    @contextmanager
    def batch(self) -> Iterator[Session]:
        """One transaction around every step this thread runs within the block.

        For bulk writers only (``oms demo-history``): each business transaction
        called inside joins this one instead of committing on its own, so a
        thousand orders cost one commit, and an error leaves none of them
        written. Other threads are not affected.
        """
        with self.transaction() as session:
            self._batch.session = session
            try:
                yield session
            finally:
                self._batch.session = None

    async def run(
        self, step: Callable[ParamsT, ResultT], *args: ParamsT.args, **kwargs: ParamsT.kwargs
    ) -> ResultT:
        """Run the synchronous ``step`` on one of the database's threads and await its result.

        The caller's context variables (the log context) go with it.
        """
        context = contextvars.copy_context()
        call = functools.partial(context.run, step, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def checkpoint(self) -> bool:
        """SQLite: copy the WAL into the database file and truncate the WAL, so that page
        versions from before the last commit (values since overwritten or deleted) are
        gone from both files; False when a reader kept it from finishing within the busy
        timeout. Other databases: nothing to do here (True)."""
        if self.dialect != "sqlite":
            return True
        with self._write_lock, self.engine.connect() as connection:
            # The driver's own connection: through SQLAlchemy the statement would begin a
            # transaction, and a checkpoint cannot run inside one.
            driver = connection.connection.driver_connection
            assert driver is not None
            busy, _frames, _copied = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return bool(busy == 0)

    def dispose(self) -> None:
        """Let running steps finish, then close every connection."""
        self.executor.shutdown(wait=True)
        for engine in self.engines:
            engine.dispose()


def configure_sqlite(engine: Engine) -> None:
    """WAL and the other pragmas on every connection; writers take the lock when they begin.

    ``BEGIN IMMEDIATE`` serialises writers up front, so a read-then-update such
    as a stock reservation cannot interleave with another process's (no lost
    update, no deadlock-on-upgrade). The driver's own implicit BEGIN is
    switched off so SQLAlchemy's ``begin`` event decides, as the SQLAlchemy
    docs recommend. Sessions of a read-only engine begin deferred.
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
