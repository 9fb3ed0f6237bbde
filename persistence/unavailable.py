"""A business database that cannot answer now, told apart from one that answered "no".

The HTTP API, the console and the ``oms`` command say the same thing about it: busy (another
writer holds the lock past the wait, or PostgreSQL gave up a lock or a serialisable
transaction) means "try again"; not reachable means the server is down or refuses
connections. Anything else (a missing table, a constraint) is a fault of its own.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum

import psycopg
from psycopg import errors as pg
from sqlalchemy.exc import DBAPIError

SQLITE_BUSY = ("database is locked", "database table is locked")
"""SQLite's messages when the lock is not granted within the busy timeout."""

RETRY_AFTER_SECONDS = 5
"""How long an answer asks a client to wait before trying a busy database again."""


class Unavailable(StrEnum):
    """Why the business database could not do the work now."""

    BUSY = "busy"
    """Another transaction holds what this one needs; trying again later works."""
    NOT_REACHABLE = "not reachable"
    """The database server is down or refuses connections."""


def unavailable(error: BaseException) -> Unavailable | None:
    """Why ``error`` (SQLAlchemy's wrapper or the driver's own) means the database cannot
    answer now, or None when it is some other fault."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, sqlite3.OperationalError):
        message = str(cause).lower()
        return Unavailable.BUSY if any(busy in message for busy in SQLITE_BUSY) else None
    if isinstance(cause, pg.LockNotAvailable | pg.SerializationFailure | pg.DeadlockDetected):
        return Unavailable.BUSY
    if isinstance(cause, pg.AdminShutdown | pg.CannotConnectNow):
        return Unavailable.NOT_REACHABLE
    if isinstance(cause, psycopg.OperationalError) and getattr(cause, "sqlstate", None) is None:
        # No SQLSTATE: the server never answered (refused, dropped, or name not found).
        return Unavailable.NOT_REACHABLE
    return None


SQLITE_NOT_MIGRATED = ("no such table", "no such column", "has no column named")
"""SQLite's messages when the schema is older than the code (or the file is new)."""


def not_migrated(error: BaseException) -> bool:
    """Whether ``error`` says a table or column is missing: the database is new, or older
    than this version (``oms db upgrade`` brings it up to date)."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, sqlite3.OperationalError):
        return any(missing in str(cause).lower() for missing in SQLITE_NOT_MIGRATED)
    return isinstance(cause, pg.UndefinedTable | pg.UndefinedColumn)
