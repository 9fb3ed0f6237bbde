"""Property-based: malformed, oversized, hostile and boundary input never breaks intake.

Every generated submission is either refused at the boundary with a validation
error naming the field, or recorded: accepted, or rejected with its reasons.
Intake never raises anything else and never leaves an order half-written.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import func, select

from activities import IntakeActivities
from domain.intake import ReceiveOutcome
from domain.messages import describe_validation_error
from domain.orders import (
    OrderStatus,
    OrderSubmission,
)
from ops.submissions import read_submission
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.models import Order, OrderEventRow, OrderLine
from tests.activity_runs import run
from tests.commands import one_line_error, run_command
from tests.conftest import fresh_database

HOSTILE_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "'; DROP TABLE orders; --",
            "<script>alert(1)</script>",
            "\x00\x01\x02",
            "\U0001d518\U0001d52b\U0001d526 \u2603 \u202e right-to-left",
            "A" * 10_000,
            "WIDGET-1",
            "CUST-ACME",
        ]
    ),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 1, -1, 100_000, 100_001, 2**63]),
)
PRICES = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(["19.90", "0", "-0.01", "1e400", "NaN", "19.901", "1000000.01", "abc"]),
)
LINES = st.lists(
    st.fixed_dictionaries(
        {"sku": HOSTILE_TEXT, "quantity": NUMBERS, "unit_price": PRICES},
        optional={"extra": HOSTILE_TEXT},
    ),
    max_size=5,
)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "order_id": HOSTILE_TEXT,
        "channel": st.one_of(st.sampled_from(["web", "edi", "phone", "fax"]), HOSTILE_TEXT),
        "customer_id": st.one_of(st.sampled_from(["CUST-ACME", "CUST-JANE"]), HOSTILE_TEXT),
        "currency": st.one_of(st.just("EUR"), HOSTILE_TEXT),
        "lines": st.one_of(LINES, HOSTILE_TEXT, st.none()),
        "shipping_address": st.one_of(
            st.fixed_dictionaries(
                {},
                optional=dict.fromkeys(
                    ("name", "street", "postal_code", "city", "country"), HOSTILE_TEXT
                ),
            ),
            HOSTILE_TEXT,
        ),
        "payment_token": st.one_of(st.none(), HOSTILE_TEXT),
    },
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A business database for the fuzzing, once SQLite and once PostgreSQL."""
    with fresh_database(request.param, tmp_path_factory.mktemp("fuzz")) as url:
        yield url


async def receive(
    url: str, submission: OrderSubmission
) -> tuple[ReceiveOutcome, OrderStatus, int, int]:
    db = Database(url)
    try:
        seed_demo_catalogue(db)
        outcome = await run(IntakeActivities(db).receive_order, submission)
        with db.reading() as session:
            order = session.get(Order, submission.order_id)
            lines = session.scalar(
                select(func.count()).where(OrderLine.order_id == submission.order_id)
            )
            events = session.scalar(
                select(func.count()).where(OrderEventRow.order_id == submission.order_id)
            )
        assert order is not None
        return outcome, OrderStatus(order.status), int(lines or 0), int(events or 0)
    finally:
        db.dispose()


def parse(document: dict[str, Any]) -> OrderSubmission | list[ErrorDetails]:
    """The submission, or the errors that refuse it at the boundary."""
    try:
        return OrderSubmission.model_validate(document)
    except ValidationError as refused:
        return refused.errors()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=DOCUMENTS)
def test_any_document_is_refused_with_reasons_or_recorded_whole(
    database: str, document: dict[str, Any]
) -> None:
    submission = parse(document)
    if isinstance(submission, list):
        assert submission, "a refusal names at least one field"
        assert all(error["msg"] for error in submission)
        return
    # Unique ids per example: the same id twice is a duplicate, tested elsewhere.
    submission = submission.model_copy(update={"order_id": f"FZ-{uuid.uuid4().hex[:12]}"})
    outcome, status, lines, events = asyncio.run(receive(database, submission))
    assert lines == len(submission.lines)
    if outcome.accepted:
        assert status is OrderStatus.CONFIRMED
        assert outcome.problems == []
    else:
        assert status is OrderStatus.REJECTED
        assert outcome.problems
        assert all(problem.strip() for problem in outcome.problems)
    assert events == 2
    assert outcome.total >= Decimal(0)


def test_an_oversized_document_is_refused_at_the_boundary(tmp_path: Path) -> None:
    lines = [{"sku": "WIDGET-1", "quantity": 1, "unit_price": "19.90"}] * 201
    with pytest.raises(ValidationError) as refused:
        OrderSubmission.model_validate(
            {
                "order_id": "BIG-1",
                "channel": "web",
                "customer_id": "CUST-JANE",
                "lines": lines,
                "shipping_address": {},
            }
        )
    assert refused.value.errors()[0]["loc"] == ("lines",)


def valid_document(**changes: Any) -> dict[str, Any]:
    """A valid order document as JSON would hold it, with ``changes`` applied."""
    document: dict[str, Any] = {
        "order_id": "BAD-1",
        "channel": "web",
        "customer_id": "CUST-JANE",
        "lines": [{"sku": "WIDGET-1", "quantity": 1, "unit_price": "19.90"}],
        "shipping_address": {"name": "Jane", "city": "Berlin"},
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"customer_id": "CUST\x00JANE"}, "customer_id: Value error, contains the control "),
        ({"customer_reference": "PO\x1b[31m"}, "customer_reference: Value error, contains the "),
        (
            {"lines": [{"sku": "WIDGET\x00", "quantity": 1, "unit_price": "1"}]},
            "lines.0.sku: Value error, contains the control character U+0000",
        ),
        ({"shipping_address": {"name": "Jane \ud800"}}, "shipping_address.name: Input should be a"),
        (
            {"lines": [{"sku": "WIDGET-1", "quantity": True, "unit_price": "19.90"}]},
            "lines.0.quantity: Input should be a valid integer",
        ),
        (
            {"lines": [{"sku": "WIDGET-1", "quantity": "5", "unit_price": "19.90"}]},
            "lines.0.quantity: Input should be a valid integer",
        ),
        ({"discount": "100%"}, "discount: unknown field (not part of the document; remove it)"),
    ],
)
def test_text_no_database_can_hold_booleans_and_unknown_fields_are_refused(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        OrderSubmission.model_validate(valid_document(**changes))
    assert any(problem.startswith(reason) for problem in describe_validation_error(refused.value))


def test_an_order_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "windows.json"
    path.write_text(json.dumps(valid_document()), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_submission(path).order_id == "BAD-1"


def test_a_latin1_order_file_is_a_one_line_error_from_the_starter(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    document = valid_document(shipping_address={"name": "Jürgen Müller", "city": "Köln"})
    path.write_bytes(json.dumps(document, ensure_ascii=False).encode("latin-1"))
    message = one_line_error(run_command("starter.py", str(path)))
    assert f"{path}: not UTF-8 text" in message
    assert "save the order as UTF-8" in message
