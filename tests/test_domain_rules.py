"""Business rules without I/O: validation, pricing, credit and allocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.allocation import LineDemand, plan_allocation
from domain.catalogue import CustomerProfile, PaymentTerms, ProductInfo, Sourcing, Standing
from domain.credit import APPROVAL_LADDER, CreditOutcome, decide_credit
from domain.escalation import climb, due_rung, extend, start_ladder
from domain.orders import OrderSubmission, ShippingAddress
from domain.pricing import order_total
from domain.supply import SupplyKind, supply_delay_ladder
from domain.validation import find_problems
from tests.factories import line, submission

JANE = CustomerProfile(
    customer_id="CUST-JANE",
    active=True,
    standing=Standing.GOOD,
    payment_terms=PaymentTerms.PREPAID,
    net_days=0,
    credit_limit=Decimal(0),
    currency="EUR",
)
ACME = JANE.model_copy(
    update={
        "customer_id": "CUST-ACME",
        "payment_terms": PaymentTerms.NET,
        "net_days": 30,
        "credit_limit": Decimal("1000.00"),
    }
)
WIDGET = ProductInfo(
    sku="WIDGET-1",
    name="Widget",
    unit_price=Decimal("19.90"),
    currency="EUR",
    active=True,
    sourcing=Sourcing.STOCK,
    lead_time_days=0,
)
PRODUCTS = {"WIDGET-1": WIDGET}


def test_valid_order_has_no_problems() -> None:
    assert find_problems(submission(), JANE, PRODUCTS) == []


def test_rejection_lists_every_reason_at_once() -> None:
    bad = submission(
        lines=[line("WIDGET-1", 0, "18.00"), line("NOPE", 1, "1.00")],
        shipping_address=ShippingAddress(name="X", city="Berlin"),
    )
    problems = find_problems(bad, None, PRODUCTS)
    assert problems == [
        "customer_id 'CUST-JANE': no such customer",
        "shipping_address.street: missing (a complete address is required)",
        "shipping_address.postal_code: missing (a complete address is required)",
        "shipping_address.country: missing (a complete address is required)",
        "lines[1].quantity 0: must be at least 1",
        "lines[1].unit_price 18.00: price list says 19.90",
        "lines[2].sku 'NOPE': no such product",
    ]


def test_inactive_customer_and_discontinued_product_are_rejected() -> None:
    retired = WIDGET.model_copy(update={"active": False})
    problems = find_problems(
        submission(), JANE.model_copy(update={"active": False}), {"WIDGET-1": retired}
    )
    assert "customer_id 'CUST-JANE': customer is not active" in problems
    assert "lines[1].sku 'WIDGET-1': product is no longer sold" in problems


def test_same_sku_twice_is_rejected() -> None:
    order = submission(lines=[line("WIDGET-1", 1, "19.90"), line("WIDGET-1", 2, "19.90")])
    assert find_problems(order, JANE, PRODUCTS) == [
        "lines[2].sku 'WIDGET-1': appears on more than one line"
    ]


def test_structurally_broken_submission_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        OrderSubmission.model_validate(
            {
                "order_id": "has space",
                "channel": "telex",
                "customer_id": "C",
                "lines": [],
                "shipping_address": {},
            }
        )
    fields = {error["loc"][0] for error in caught.value.errors()}
    assert fields == {"order_id", "channel", "lines"}


def test_order_total_is_exact_decimal() -> None:
    lines = [line("A", 3, "19.90"), line("B", 1, "0.10")]
    assert order_total(lines) == Decimal("59.80")


def test_prepaid_orders_are_approved_without_credit() -> None:
    decision = decide_credit(JANE, Decimal("999999"), Decimal("100"))
    assert decision.outcome is CreditOutcome.APPROVED


def test_net_terms_within_limit_are_approved() -> None:
    decision = decide_credit(ACME, Decimal("900.00"), Decimal("100.00"))
    assert decision.outcome is CreditOutcome.APPROVED


def test_net_terms_over_limit_are_held_with_the_figures() -> None:
    decision = decide_credit(ACME, Decimal("900.00"), Decimal("100.01"))
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.reason == "exposure 900.00 + order 100.01 exceeds credit limit 1000.00"


def test_customer_on_watch_is_held() -> None:
    watched = ACME.model_copy(update={"standing": Standing.WATCH})
    assert decide_credit(watched, Decimal(0), Decimal(1)).outcome is CreditOutcome.HOLD


def test_allocation_prefers_one_warehouse_for_the_whole_order() -> None:
    demand = [
        LineDemand(line_no=1, sku="A", quantity=2),
        LineDemand(line_no=2, sku="B", quantity=1),
    ]
    plan = plan_allocation(demand, {"WH1": {"A": 5}, "WH2": {"A": 2, "B": 1}})
    assert {pick.warehouse_id for pick in plan.picks} == {"WH2"}
    assert plan.shortages == []
    assert plan.reason == "WH2 can fill the whole order"


def test_allocation_splits_over_fewest_warehouses_when_needed() -> None:
    demand = [
        LineDemand(line_no=1, sku="A", quantity=4),
        LineDemand(line_no=2, sku="B", quantity=1),
    ]
    plan = plan_allocation(demand, {"WH1": {"A": 4}, "WH2": {"B": 1}, "WH3": {"A": 1, "B": 1}})
    assert sorted((p.warehouse_id, p.sku, p.quantity) for p in plan.picks) == [
        ("WH1", "A", 4),
        ("WH2", "B", 1),
    ]
    assert plan.shortages == []


def test_allocation_reports_shortages() -> None:
    plan = plan_allocation([LineDemand(line_no=1, sku="A", quantity=5)], {"WH1": {"A": 3}})
    assert [(s.sku, s.requested, s.available) for s in plan.shortages] == [("A", 5, 3)]


def test_ladder_rungs_fall_due_at_their_offsets_from_the_start() -> None:
    start = datetime(2026, 11, 28, 9, tzinfo=UTC)
    position = start_ladder(APPROVAL_LADDER, start)
    due = []
    while position.next_at is not None:
        due.append((due_rung(APPROVAL_LADDER, position).name, position.next_at - start))
        position = climb(APPROVAL_LADDER, position)
    assert due == [
        ("remind the assignee", timedelta(hours=24)),
        ("escalate to a supervisor", timedelta(hours=48)),
        ("auto-reject", timedelta(hours=72)),
    ]
    assert position.level == 3


def test_extending_moves_the_next_rung_and_keeps_the_spacing_after_it() -> None:
    start = datetime(2026, 11, 28, 9, tzinfo=UTC)
    reminded = climb(APPROVAL_LADDER, start_ladder(APPROVAL_LADDER, start))
    new_deadline = start + timedelta(days=5)
    moved = extend(APPROVAL_LADDER, reminded, new_deadline)
    assert (moved.level, moved.next_rung, moved.next_at) == (
        1,
        "escalate to a supervisor",
        new_deadline,
    )
    assert climb(APPROVAL_LADDER, moved).next_at == new_deadline + timedelta(hours=24)


def test_extending_an_exhausted_ladder_arms_its_last_rung_again() -> None:
    ladder = supply_delay_ladder(SupplyKind.PURCHASE)
    position = start_ladder(ladder, datetime(2026, 11, 28, tzinfo=UTC))
    for _ in ladder.rungs:
        position = climb(ladder, position)
    assert position.next_at is None
    later = datetime(2026, 12, 24, tzinfo=UTC)
    again = extend(ladder, position, later)
    assert (again.level, again.next_rung, again.next_at) == (
        3,
        "ask support: wait longer or cancel",
        later,
    )
    assert [rung.notify.value for rung in ladder.rungs] == ["customer", "purchasing", "support"]
