"""The ``oms`` command line against a real business database."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities import IntakeActivities
from ops.cli import app
from ops.demo import port_is_free
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from tests.activity_runs import run
from tests.commands import oms, one_line_error
from tests.conftest import fresh_database
from tests.factories import line, submission

runner = CliRunner()


async def record_orders(url: str) -> None:
    db = Database(url)
    seed_demo_catalogue(db)
    intake = IntakeActivities(db)
    await run(intake.receive_order, submission("CLI-OK"))
    bad = submission("CLI-BAD", customer_id="CUST-ACME", lines=[line("NOPE", 1, "1.00")])
    await run(intake.receive_order, bad)
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A business database with two recorded orders, once SQLite and once PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        asyncio.run(record_orders(url))
        monkeypatch.setenv("OMS_DATABASE_URL", url)
        yield url


def test_status_json_is_the_order_view(database: str) -> None:
    result = runner.invoke(app, ["status", "CLI-BAD", "--json"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["status"] == "REJECTED"
    assert view["rejection_reasons"] == ["lines[1].sku 'NOPE': no such product"]
    assert [event["kind"] for event in view["history"]] == ["received", "rejected"]


def test_status_shows_a_readable_timeline(database: str) -> None:
    result = runner.invoke(app, ["status", "CLI-OK"])
    assert result.exit_code == 0, result.output
    assert "Order CLI-OK" in result.output
    assert "CONFIRMED" in result.output
    assert "Timeline" in result.output


def test_unknown_order_is_a_clear_error(database: str) -> None:
    result = runner.invoke(app, ["status", "NOPE-1"])
    assert result.exit_code == 1
    assert "order 'NOPE-1': not found" in result.output


def test_orders_list_filters_by_status_and_customer(database: str) -> None:
    by_status = runner.invoke(app, ["orders", "list", "--status", "rejected", "--json"])
    assert by_status.exit_code == 0, by_status.output
    assert [row["order_id"] for row in json.loads(by_status.output)] == ["CLI-BAD"]
    by_customer = runner.invoke(app, ["orders", "list", "--customer", "CUST-JANE", "--json"])
    assert [row["order_id"] for row in json.loads(by_customer.output)] == ["CLI-OK"]


def test_orders_list_refuses_an_unknown_status(database: str) -> None:
    result = runner.invoke(app, ["orders", "list", "--status", "LOST"])
    assert result.exit_code == 2
    assert "LOST" in result.output


def test_staff_command_with_an_empty_reason_is_refused_before_anything_is_sent() -> None:
    result = runner.invoke(app, ["cancel", "WEB-1", "--reason", "", "--as", "sam"])
    assert result.exit_code == 1
    assert "--reason '': String should have at least 1 character" in result.output


def test_a_database_that_is_not_migrated_is_one_line_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    shown = oms("status", "CLI-OK", environment={**os.environ, "OMS_DATABASE_URL": url})
    message = one_line_error(shown)
    assert message.startswith(f"error: the business database {url} does not exist")
    assert "run `oms db upgrade`" in message


def test_the_demo_knows_whether_the_console_s_port_is_free() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)
