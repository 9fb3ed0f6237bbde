"""New PostgreSQL databases, for test runs, benchmarks and soaks that each need a fresh one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import URL, make_url


def _admin_conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def new_postgres_database(server_url: str, prefix: str) -> str:
    """Create an empty database ``<prefix>_<random>`` on the server of ``server_url``; its URL.

    ``server_url`` names any database on that server that its user may connect
    to and create databases from. Raises :class:`psycopg.OperationalError` if
    the server cannot be reached.
    """
    admin_url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return admin_url.set(database=name).render_as_string(hide_password=False)


@contextmanager
def throwaway_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (see
    :func:`new_postgres_database`), dropped on exit."""
    url = new_postgres_database(server_url, prefix)
    try:
        yield url
    finally:
        name = make_url(url).database
        with psycopg.connect(_admin_conninfo(make_url(server_url)), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
