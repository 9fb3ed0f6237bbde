"""Credit evaluation (issue 17): the scoring rules on worked examples; the nightly evaluation
proposes what differs; a person with credit authority accepts or overrides with a reason,
audited on the customer; the order workflow's credit check then uses the new values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from domain.access import Role
from domain.catalogue import PaymentTerms, Standing
from domain.credit import CreditOutcome
from domain.credit_scoring import (
    CreditDecisionInput,
    CreditFigures,
    CreditRules,
    InvoiceMoney,
    MoneyMovement,
    PaymentHabits,
    payment_habits,
    score_credit,
    settled_at,
)
from domain.intake import StatusChange
from domain.orders import EventKind, OrderStatus
from domain.settlement import IncomingPayment, PaymentBooking
from persistence.database import Database
from persistence.models import Order
from persistence.transactions import accounts, intake
from persistence.transactions.credit import check_credit
from persistence.transactions.credit_reviews import (
    CreditDecisionError,
    credit_proposals,
    decide_credit_proposal,
    evaluate_credit,
)
from persistence.transactions.customers import customer_changes, find_customer
from persistence.transactions.intake import record_order_status
from persistence.transactions.money import issue_invoice, record_incoming_payment
from runtime.settings import Settings
from tests.factories import line, submission
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app

TODAY = date(2026, 6, 30)


def figures(**changes: object) -> CreditFigures:
    values: dict[str, object] = {
        "customer_id": "C",
        "payment_terms": PaymentTerms.NET,
        "net_days": 30,
        "credit_limit": Decimal(20000),
        "standing": Standing.GOOD,
        "first_order_on": date(2024, 6, 1),
        "spend_last_year": Decimal(36000),
        "invoices_paid": 10,
        "invoices_paid_late": 0,
        "average_days_late": 0.0,
        "overdue_invoices": 0,
        "highest_dunning_rung": 0,
        "exposure": Decimal(5000),
    }
    values.update(changes)
    return CreditFigures.model_validate(values)


def test_a_good_payer_scores_high_and_is_offered_a_limit_that_fits_what_they_buy() -> None:
    scored = score_credit(figures(), TODAY, CreditRules())
    # payment 40 (all on time) + tenure 15 (24 months) + volume 15 (36,000 / 2,000 = 18,
    # capped) + dunning 15 (never) + exposure 11 (a quarter of the limit used)
    assert scored.score == 96
    assert scored.suggested_standing is Standing.GOOD
    # 3,000 a month x 2 months of credit (30 days + one in flight) x 2.0 for 80 and above
    assert scored.suggested_limit == Decimal(12000)
    assert scored.reasons == [
        "payment 40/40: 10 invoice(s) paid, 0 late, 0.0 days late on average",
        "tenure 15/15: 24 month(s) since the first order",
        "volume 15/15: 36000.00 spent in 12 months",
        "dunning 15/15: never reminded",
        "exposure 11/15: owes 5000.00 of 20000.00, 0 invoice(s) overdue",
        "limit 12000.00: 3000.00 a month x 2.00 month(s) of credit x 2.0 for a score of 96",
    ]
    assert scored.differs_from(figures(), CreditRules())  # 40 % below the limit held


def test_a_slipping_payer_is_put_on_watch_with_the_least_limit() -> None:
    slipping = figures(
        net_days=14,
        credit_limit=Decimal(10000),
        first_order_on=date(2025, 10, 15),
        spend_last_year=Decimal(6000),
        invoices_paid=5,
        invoices_paid_late=3,
        average_days_late=9.0,
        overdue_invoices=1,
        highest_dunning_rung=2,
        exposure=Decimal(9000),
    )
    scored = score_credit(slipping, TODAY, CreditRules())
    # payment 40 - 2 x 9 - 20 x 3/5 = 10; tenure 8; volume 3; dunning 5 (finance);
    # exposure round(15 x 0.1) = 2, minus 8 for the overdue invoice: 0
    assert scored.score == 26
    assert scored.suggested_standing is Standing.WATCH
    # 500 a month x 1.47 months x 0.5 = 366.67, rounded up to 500, at least 1,000
    assert scored.suggested_limit == Decimal(1000)
    assert scored.reasons[4] == "exposure 0/15: owes 9000.00 of 10000.00, 1 invoice(s) overdue"


def test_prepaid_and_new_customers_keep_their_values() -> None:
    prepaid = figures(payment_terms=PaymentTerms.PREPAID, net_days=0, credit_limit=Decimal(0))
    scored = score_credit(prepaid, TODAY, CreditRules())
    assert (scored.suggested_limit, scored.suggested_standing) == (Decimal(0), Standing.GOOD)
    assert scored.reasons[-1] == "prepaid: no credit extended, nothing to suggest"
    assert not scored.differs_from(prepaid, CreditRules())
    new = figures(
        first_order_on=None,
        spend_last_year=Decimal(0),
        invoices_paid=0,
        exposure=Decimal(0),
        credit_limit=Decimal(5000),
    )
    fresh = score_credit(new, TODAY, CreditRules())
    assert fresh.score == 20 + 0 + 0 + 15 + 15
    assert (fresh.suggested_limit, fresh.suggested_standing) == (Decimal(5000), Standing.GOOD)
    assert not fresh.differs_from(new, CreditRules())


def _bolt_orders(db: Database, count: int, days_ago: int) -> None:
    for number in range(count):
        order_id = f"BOLT-{days_ago}-{number}"
        intake.receive_order(
            db,
            submission(
                order_id,
                customer_id="CUST-BOLT",
                payment_token=None,
                lines=[line("PANEL-X", 1, "1290.00")],
            ),
            run_id="run",
        )
        with db.transaction() as session:
            session.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(
                    created_at=datetime.now(UTC) - timedelta(days=days_ago + number),
                    status="COMPLETED",
                )
            )


def test_the_evaluation_proposes_and_a_decision_is_applied_and_audited(db: Database) -> None:
    _bolt_orders(db, 6, 30)  # 7,740 in a year on a 20,000 limit
    now = datetime.now(UTC)
    first = evaluate_credit(db, now.date(), now, CreditRules())
    assert first.scored == 4  # the active demo customers
    proposals = {p.customer_id: p for p in credit_proposals(db)}
    bolt = proposals["CUST-BOLT"]
    assert (bolt.current_limit, bolt.suggested_standing) == (Decimal("20000.00"), Standing.GOOD)
    assert bolt.suggested_limit < bolt.current_limit
    assert find_customer(db, "CUST-BOLT") is not None
    again = evaluate_credit(db, now.date(), now, CreditRules())
    assert again.proposed == []  # the same suggestion stays one open proposal

    with pytest.raises(CreditDecisionError, match="say why"):
        decide_credit_proposal(
            db,
            bolt.id,
            CreditDecisionInput(
                accept=False, limit=Decimal(8000), standing=Standing.WATCH, actor="olivia"
            ),
        )
    decided = decide_credit_proposal(
        db,
        bolt.id,
        CreditDecisionInput(
            accept=False,
            limit=Decimal(8000),
            standing=Standing.WATCH,
            reason="bounced cheque last week",
            actor="olivia",
        ),
    )
    assert (decided.status, decided.final_limit, decided.note) == (
        "overridden",
        Decimal(8000),
        "bounced cheque last week",
    )
    record = find_customer(db, "CUST-BOLT")
    assert record is not None
    assert (record.credit_limit, record.standing) == (Decimal("8000.00"), Standing.WATCH)
    audit = {c.field: (c.old, c.new, c.actor) for c in customer_changes(db, "CUST-BOLT")[:2]}
    assert audit["standing"] == ("good", "watch", f"olivia (credit proposal {bolt.id})")
    with pytest.raises(CreditDecisionError, match="is overridden"):
        decide_credit_proposal(db, bolt.id, CreditDecisionInput(accept=True, actor="olivia"))

    intake.receive_order(
        db,
        submission("BOLT-NEW", customer_id="CUST-BOLT", payment_token=None),
        run_id="run",
    )
    decision = check_credit(db, "BOLT-NEW")  # what the order workflow's credit step runs
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.reason == "customer is on credit watch"
    assert decision.credit_limit == Decimal("8000.00")


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_credit_authority_accepts_a_proposal_in_the_console(
    client: TestClient, db: Database
) -> None:
    _bolt_orders(db, 6, 30)
    now = datetime.now(UTC)
    evaluate_credit(db, now.date(), now, CreditRules())
    bolt = next(p for p in credit_proposals(db) if p.customer_id == "CUST-BOLT")
    log_in(client, "mia.chen")
    assert client.get("/customers/credit").status_code == 403  # no credit authority
    token = log_in(client, "olivia")
    page = text_of(client.get("/customers/credit").text)
    assert f"CUST-BOLT Bolt Hardware Ltd {bolt.score}" in page
    assert "volume" in page
    accepted = client.post(f"/customers/credit/{bolt.id}/accept", data={"csrf_token": token})
    assert accepted.status_code == 303
    record = find_customer(db, "CUST-BOLT")
    assert record is not None
    assert record.credit_limit == bolt.suggested_limit
    refused = client.post(
        f"/customers/credit/{bolt.id}/override",
        data={"csrf_token": token, "limit": "5000", "standing": "good", "reason": "x"},
    )
    assert refused.status_code == 409
    assert "is accepted" in text_of(refused.text)
    view = text_of(client.get("/customers/CUST-BOLT").text)
    assert f"Credit score {bolt.score}" in view


def test_exposure_counts_an_invoiced_order_once_less_what_was_paid_and_no_prepaid_money(
    db: Database,
) -> None:
    # A net-terms order invoiced at shipment, delivered, half paid: owed once, by its invoice.
    intake.receive_order(
        db, submission("NET-1", customer_id="CUST-BOLT", payment_token=None), run_id="run"
    )
    check_credit(db, "NET-1")
    issue_invoice(db, "NET-1")
    record_order_status(
        db,
        StatusChange(
            order_id="NET-1", event=EventKind.DELIVERED, detail="", status=OrderStatus.DELIVERED
        ),
    )
    paid = IncomingPayment(payment_id="BANK-1", amount=Decimal("20.00"))
    record_incoming_payment(db, PaymentBooking(order_id="NET-1", payment=paid))
    # An order of the same customer placed while it was prepaid, authorised, not invoiced.
    intake.receive_order(
        db, submission("PRE-1", customer_id="CUST-BOLT", payment_token="tok"), run_id="run"
    )
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.id == "PRE-1")
            .values(payment_terms=PaymentTerms.PREPAID.value, status=OrderStatus.APPROVED.value)
        )
    intake.receive_order(
        db, submission("NET-2", customer_id="CUST-BOLT", payment_token=None), run_id="run"
    )
    decision = check_credit(db, "NET-2")
    assert decision.exposure == Decimal("59.70") - Decimal("20.00")
    assert decision.reason == "exposure 39.70 + order 59.70 within limit 20000.00"


def test_an_invoice_is_paid_when_the_money_first_covers_what_was_owed() -> None:
    issued = datetime(2026, 6, 1, 9, tzinfo=UTC)

    def money(days: int, received: str = "0", credited: str = "0") -> MoneyMovement:
        return MoneyMovement(
            at=issued + timedelta(days=days), received=Decimal(received), credited=Decimal(credited)
        )

    def invoice(*movements: MoneyMovement, voided: bool = False) -> InvoiceMoney:
        return InvoiceMoney(
            amount=Decimal(100),
            issued_at=issued,
            due_on=date(2026, 6, 15),
            voided=voided,
            movements=movements,
        )

    prepaid = invoice(money(-1, "100"))  # captured before it was invoiced
    instalments = invoice(money(5, "60"), money(20, "40"))
    credited_first = invoice(money(3, credited="30"), money(10, "70"))
    refunded_before_paid = invoice(money(2, "100"), money(4, "-100"), money(30, "100"))
    part = invoice(money(5, "99.99"))
    assert settled_at(prepaid) == issued - timedelta(days=1)
    assert settled_at(instalments) == issued + timedelta(days=20)
    assert settled_at(credited_first) == issued + timedelta(days=10)
    assert settled_at(invoice(money(1, "100"), voided=True)) is None
    habits = payment_habits(
        [prepaid, instalments, credited_first, refunded_before_paid, part],
        date(2026, 7, 31),
        since=issued - timedelta(days=365),
    )
    # Late: the instalments by 6 days (21 June), the refunded one paid again on 1 July by 16
    assert habits == PaymentHabits(
        invoices_paid=4, invoices_paid_late=2, average_days_late=5.5, overdue_invoices=1
    )
