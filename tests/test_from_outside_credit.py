"""Issue 25, tried from outside: credit scoring and the demo history.

Item 21: a prepaid customer's money is captured when the order is invoiced and the
receipt follows at delivery; that read as "72 of 72 invoices paid late". Each kind of
payment history is written here by hand through the business transactions the workers
use, stamped with the moment it happened, and the nightly evaluation's reasons (the
words support and the customer's credit controller read) are checked for each. The
customer page's payment behaviour reads the same histories by the same rule.

Item 25: ``oms demo-history`` paid net-terms invoices weeks late without a single
dunning event, so its customers read "never reminded".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from domain.access import Role
from domain.catalogue import PaymentTerms, Standing
from domain.complaints import RemedyKind, RemedyOrder
from domain.credit_scoring import CreditRules
from domain.customers import PaymentBehaviour
from domain.orders import EventKind
from domain.settlement import (
    CAPTURE_PAYMENT,
    REFUND_PAYMENT,
    IncomingPayment,
    PaymentBooking,
    PaymentKind,
)
from ops.history import write_history
from persistence.customer_views import customer_history
from persistence.database import Database
from persistence.demo_catalogue import add_catalogue
from persistence.models import Customer, Invoice, NotificationRow, Order, OrderEventRow, Payment
from persistence.transactions import accounts
from persistence.transactions.complaints import book_refund
from persistence.transactions.credit import check_credit
from persistence.transactions.credit_reviews import credit_standing, evaluate_credit
from persistence.transactions.intake import receive_order
from persistence.transactions.money import (
    book_payment,
    issue_invoice,
    issue_receipt,
    record_incoming_payment,
    void_invoice,
)
from persistence.transactions.records import clock_of
from runtime.settings import Settings
from tests.factories import submission
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SEPTEMBER = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
WIDGETS = Decimal("59.70")
"""What each order of :func:`tests.factories.submission` costs (3 widgets)."""


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Transactions inside are stamped ``moment``, as ``oms demo-history`` writes a past."""
    with clock_of(lambda: moment):
        yield


def customer(db: Database, customer_id: str, terms: PaymentTerms, net_days: int = 0) -> None:
    add_catalogue(
        db,
        customers=[
            {
                "id": customer_id,
                "name": f"Customer {customer_id}",
                "email": f"{customer_id.lower()}@example.org",
                "standing": Standing.GOOD,
                "payment_terms": terms,
                "net_days": net_days,
                "credit_limit": Decimal(0 if terms is PaymentTerms.PREPAID else 1000),
                "currency": "EUR",
            }
        ],
    )


def order(db: Database, order_id: str, customer_id: str, placed: datetime) -> None:
    """An order taken in and through its credit check at ``placed`` (the prepaid customers'
    ids begin with PRE)."""
    prepaid = customer_id.startswith("PRE")
    with at(placed):
        receive_order(
            db,
            submission(
                order_id,
                customer_id=customer_id,
                payment_token="tok_visa_4242" if prepaid else None,
            ),
            run_id="test",
        )
        check_credit(db, order_id)


def capture(db: Database, order_id: str, moment: datetime) -> None:
    with at(moment):
        book_payment(
            db,
            order_id,
            CAPTURE_PAYMENT,
            PaymentKind.CAPTURE,
            WIDGETS,
            "EUR",
            f"CAP-{order_id}",
            EventKind.PAYMENT_CAPTURED,
        )


def invoice(db: Database, order_id: str, moment: datetime) -> None:
    with at(moment):
        issue_invoice(db, order_id)


def transfer(db: Database, order_id: str, moment: datetime, amount: Decimal = WIDGETS) -> None:
    payment = IncomingPayment(
        payment_id=f"BANK-{order_id}-{moment:%m%d}", amount=amount, received_at=moment
    )
    with at(moment):
        record_incoming_payment(db, PaymentBooking(order_id=order_id, payment=payment))


def receipt(db: Database, order_id: str, moment: datetime) -> None:
    with at(moment):
        issue_receipt(db, order_id)


def prepaid_order(db: Database, order_id: str, customer_id: str, shipped: datetime) -> None:
    """Authorised when placed, captured and invoiced at shipment, receipted at delivery
    three days and eight hours later: the workflow's prepaid road."""
    order(db, order_id, customer_id, shipped - timedelta(days=1))
    capture(db, order_id, shipped)
    invoice(db, order_id, shipped)
    receipt(db, order_id, shipped + timedelta(days=3, hours=8))


def payment_and_exposure(db: Database, customer_id: str) -> tuple[int, list[str]]:
    standing = credit_standing(db, customer_id)
    assert standing is not None
    return standing.score, [
        reason
        for reason in standing.reasons
        if reason.startswith(("payment", "exposure", "dunning"))
    ]


def test_a_prepaid_customer_whose_receipts_follow_the_delivery_never_pays_late(
    db: Database,
) -> None:
    customer(db, "PRE-72", PaymentTerms.PREPAID)
    for number in range(72):
        prepaid_order(db, f"PRE-72-{number}", "PRE-72", SEPTEMBER + timedelta(days=number))
    # One more on its way: captured and invoiced two days ago, not delivered yet.
    order(db, "PRE-72-ON-ITS-WAY", "PRE-72", NOW - timedelta(days=3))
    capture(db, "PRE-72-ON-ITS-WAY", NOW - timedelta(days=2))
    invoice(db, "PRE-72-ON-ITS-WAY", NOW - timedelta(days=2))
    # And one only authorised: the money is held for it, not lent.
    order(db, "PRE-72-AUTHORISED", "PRE-72", NOW - timedelta(hours=5))
    evaluate_credit(db, TODAY, NOW, CreditRules())

    score, reasons = payment_and_exposure(db, "PRE-72")
    # 72 receipted, and the one on its way: its money is in, only its receipt waits.
    assert reasons == [
        "payment 40/40: 73 invoice(s) paid, 0 late, 0.0 days late on average",
        "dunning 15/15: never reminded",
        "exposure 15/15: owes 0.00 of 0.00, 0 invoice(s) overdue",
    ]
    # payment 40 + tenure 2 + volume 2 (4,418 spent) + dunning 15 + exposure 15
    assert score == 74


def test_each_kind_of_payment_history_reads_as_it_happened(db: Database) -> None:
    due_in_14 = SEPTEMBER + timedelta(days=14)
    # Net terms, paid on time: one well before the due date, one on the due date itself,
    # its receipt written two days later (the receipt is not the payment).
    customer(db, "NET-ON-TIME", PaymentTerms.NET, 14)
    for name, paid in (("EARLY", SEPTEMBER + timedelta(days=5)), ("ON-DUE", due_in_14)):
        order(db, f"NET-{name}", "NET-ON-TIME", SEPTEMBER - timedelta(days=1))
        invoice(db, f"NET-{name}", SEPTEMBER)
        transfer(db, f"NET-{name}", paid)
        receipt(db, f"NET-{name}", paid + timedelta(days=2))
    # Net terms, paid nine days late.
    customer(db, "NET-LATE", PaymentTerms.NET, 14)
    order(db, "NET-LATE-1", "NET-LATE", SEPTEMBER - timedelta(days=1))
    invoice(db, "NET-LATE-1", SEPTEMBER)
    transfer(db, "NET-LATE-1", due_in_14 + timedelta(days=9))
    receipt(db, "NET-LATE-1", due_in_14 + timedelta(days=9))
    # Partly paid: half came before the due date, the rest never did.
    customer(db, "NET-PART", PaymentTerms.NET, 14)
    order(db, "NET-PART-1", "NET-PART", SEPTEMBER - timedelta(days=1))
    invoice(db, "NET-PART-1", SEPTEMBER)
    transfer(db, "NET-PART-1", SEPTEMBER + timedelta(days=10), WIDGETS / 2)
    # Paid in two instalments, the second one five days late.
    customer(db, "NET-INSTALMENTS", PaymentTerms.NET, 14)
    order(db, "NET-INST-1", "NET-INSTALMENTS", SEPTEMBER - timedelta(days=1))
    invoice(db, "NET-INST-1", SEPTEMBER)
    transfer(db, "NET-INST-1", SEPTEMBER + timedelta(days=10), WIDGETS / 2)
    transfer(db, "NET-INST-1", due_in_14 + timedelta(days=5), WIDGETS / 2)
    receipt(db, "NET-INST-1", due_in_14 + timedelta(days=5))
    # Refunded and credit-noted: a net-terms order cancelled after invoicing (voided, never
    # owed), a prepaid one cancelled after capture (refunded, voided), and an order paid on
    # time that a complaint refunded in part later.
    customer(db, "REFUNDED", PaymentTerms.NET, 14)
    order(db, "NET-VOIDED", "REFUNDED", SEPTEMBER - timedelta(days=1))
    invoice(db, "NET-VOIDED", SEPTEMBER)
    with at(SEPTEMBER + timedelta(days=2)):
        void_invoice(db, "NET-VOIDED", "cancelled by the customer")
    order(db, "NET-COMPLAINED", "REFUNDED", SEPTEMBER - timedelta(days=1))
    invoice(db, "NET-COMPLAINED", SEPTEMBER)
    transfer(db, "NET-COMPLAINED", SEPTEMBER + timedelta(days=7))
    receipt(db, "NET-COMPLAINED", SEPTEMBER + timedelta(days=7))
    remedy = RemedyOrder(
        complaint_id=1,
        number=1,
        kind=RemedyKind.REFUND,
        customer_id="REFUNDED",
        order_id="NET-COMPLAINED",
        amount=Decimal("19.90"),
        reason="one widget bent",
    )
    with at(SEPTEMBER + timedelta(days=40)):
        book_refund(db, remedy, "SIMREFUND-1", "test:refund:1")
    customer(db, "PRE-CANCELLED", PaymentTerms.PREPAID)
    order(db, "PRE-CANCELLED-1", "PRE-CANCELLED", SEPTEMBER - timedelta(days=1))
    capture(db, "PRE-CANCELLED-1", SEPTEMBER)
    invoice(db, "PRE-CANCELLED-1", SEPTEMBER)
    with at(SEPTEMBER + timedelta(days=1)):
        book_payment(
            db,
            "PRE-CANCELLED-1",
            REFUND_PAYMENT,
            PaymentKind.REFUND,
            WIDGETS,
            "EUR",
            "REF-1",
            EventKind.PAYMENT_REFUNDED,
        )
        void_invoice(db, "PRE-CANCELLED-1", "cancelled by the customer")
    # Overdue and unpaid.
    customer(db, "NET-OVERDUE", PaymentTerms.NET, 14)
    order(db, "NET-OVERDUE-1", "NET-OVERDUE", SEPTEMBER - timedelta(days=1))
    invoice(db, "NET-OVERDUE-1", SEPTEMBER)
    # Mixed: on time, ten days late, voided, partly paid and overdue, and one not due yet.
    customer(db, "MIXED", PaymentTerms.NET, 30)
    due_in_30 = SEPTEMBER + timedelta(days=30)
    for name in ("ON-TIME", "LATE", "VOIDED", "PART", "NOT-DUE"):
        placed = NOW - timedelta(days=5) if name == "NOT-DUE" else SEPTEMBER
        order(db, f"MIXED-{name}", "MIXED", placed - timedelta(days=1))
        invoice(db, f"MIXED-{name}", placed)
    transfer(db, "MIXED-ON-TIME", due_in_30 - timedelta(days=3))
    receipt(db, "MIXED-ON-TIME", due_in_30 - timedelta(days=3))
    transfer(db, "MIXED-LATE", due_in_30 + timedelta(days=10))
    receipt(db, "MIXED-LATE", due_in_30 + timedelta(days=10))
    with at(SEPTEMBER + timedelta(days=3)):
        void_invoice(db, "MIXED-VOIDED", "wrong address")
    transfer(db, "MIXED-PART", due_in_30 + timedelta(days=20), Decimal("9.70"))

    evaluate_credit(db, TODAY, NOW, CreditRules())

    never = "dunning 15/15: never reminded"
    expected = {
        "NET-ON-TIME": [
            "payment 40/40: 2 invoice(s) paid, 0 late, 0.0 days late on average",
            never,
            "exposure 15/15: owes 0.00 of 1000.00, 0 invoice(s) overdue",
        ],
        "NET-LATE": [
            # 40 - 2 x 9 - 20 x 1/1
            "payment 2/40: 1 invoice(s) paid, 1 late, 9.0 days late on average",
            never,
            "exposure 15/15: owes 0.00 of 1000.00, 0 invoice(s) overdue",
        ],
        "NET-PART": [
            "payment 20/40: no invoice paid yet",
            never,
            # round(15 x (1 - 29.85 / 1000)) = 15, minus 8 for the overdue invoice
            "exposure 7/15: owes 29.85 of 1000.00, 1 invoice(s) overdue",
        ],
        "NET-INSTALMENTS": [
            # the invoice is paid when its last part arrives: 40 - 2 x 5 - 20
            "payment 10/40: 1 invoice(s) paid, 1 late, 5.0 days late on average",
            never,
            "exposure 15/15: owes 0.00 of 1000.00, 0 invoice(s) overdue",
        ],
        "REFUNDED": [
            "payment 40/40: 1 invoice(s) paid, 0 late, 0.0 days late on average",
            never,
            "exposure 15/15: owes 0.00 of 1000.00, 0 invoice(s) overdue",
        ],
        "PRE-CANCELLED": [
            "payment 20/40: no invoice paid yet",
            never,
            "exposure 15/15: owes 0.00 of 0.00, 0 invoice(s) overdue",
        ],
        "NET-OVERDUE": [
            "payment 20/40: no invoice paid yet",
            never,
            "exposure 6/15: owes 59.70 of 1000.00, 1 invoice(s) overdue",
        ],
        "MIXED": [
            # (0 + 10) / 2 days late on average: 40 - 2 x 5 - 20 x 1/2
            "payment 20/40: 2 invoice(s) paid, 1 late, 5.0 days late on average",
            never,
            # 50.00 still owed on the partly paid one, 59.70 on the one not due yet
            "exposure 5/15: owes 109.70 of 1000.00, 1 invoice(s) overdue",
        ],
    }
    assert {c: payment_and_exposure(db, c)[1] for c in expected} == expected


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the ladder's logic
def test_the_demo_historys_late_payers_were_reminded_by_the_dunning_ladder(
    db: Database,
) -> None:
    write_history(db, orders=120, days=90, seed=25, now=NOW)
    with db.reading() as session:
        net_invoices = session.execute(
            select(Invoice.order_id, Invoice.due_date)
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Customer.payment_terms == "net")
        ).all()
        reminded = {
            order_id
            for order_id, detail in session.execute(
                select(OrderEventRow.order_id, OrderEventRow.detail).where(
                    OrderEventRow.kind == EventKind.ESCALATED.value
                )
            ).all()
            if detail == "dunning: send the payment reminder (level 1)"
        }
        paid_in_full_at = dict(
            session.execute(
                select(Payment.order_id, Payment.created_at)
                .where(Payment.kind == "incoming")
                .order_by(Payment.created_at)
            )
            .tuples()
            .all()
        )
        reminders = set(
            session.scalars(
                select(NotificationRow.order_id).where(
                    NotificationRow.key == "dunning:rung1", NotificationRow.audience == "customer"
                )
            )
        )
    # The workflow's ladder starts at the beginning of the due date (its first rung: the
    # reminder); an invoice not paid in full by then was reminded.
    paid_after_due = {
        order_id
        for order_id, due in net_invoices
        if order_id in paid_in_full_at
        and paid_in_full_at[order_id] > datetime.combine(due, datetime.min.time(), UTC)
    }
    assert paid_after_due, "the history pays some net-terms invoices late"
    assert reminded == reminders == paid_after_due
    evaluate_credit(db, TODAY, NOW, CreditRules())
    with db.reading() as session:
        late_payers = set(
            session.scalars(select(Order.customer_id).where(Order.id.in_(paid_after_due)))
        )
    for customer_id in late_payers:
        standing = credit_standing(db, customer_id)
        assert standing is not None
        assert "dunning 15/15: never reminded" not in standing.reasons


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_the_customer_page_reads_payment_behaviour_as_the_score_does(
    db: Database, client: TestClient
) -> None:
    # The issue's prepaid customer: receipts written at delivery, one order on its way.
    customer(db, "PRE-3", PaymentTerms.PREPAID)
    for number in range(3):
        prepaid_order(db, f"PRE-3-{number}", "PRE-3", SEPTEMBER + timedelta(days=number))
    order(db, "PRE-3-ON-ITS-WAY", "PRE-3", NOW - timedelta(days=3))
    capture(db, "PRE-3-ON-ITS-WAY", NOW - timedelta(days=2))
    invoice(db, "PRE-3-ON-ITS-WAY", NOW - timedelta(days=2))
    # A net-terms customer: one paid on its due date (receipt two days later), one paid
    # nine days late, one half paid and overdue.
    customer(db, "NET-LATE", PaymentTerms.NET, 14)
    due = SEPTEMBER + timedelta(days=14)
    for name in ("ON-DUE", "LATE", "PART"):
        order(db, f"NET-{name}", "NET-LATE", SEPTEMBER - timedelta(days=1))
        invoice(db, f"NET-{name}", SEPTEMBER)
    transfer(db, "NET-ON-DUE", due)
    receipt(db, "NET-ON-DUE", due + timedelta(days=2))
    transfer(db, "NET-LATE", due + timedelta(days=9))
    receipt(db, "NET-LATE", due + timedelta(days=11))
    transfer(db, "NET-PART", due - timedelta(days=1), WIDGETS / 2)

    prepaid = customer_history(db, "PRE-3", today=TODAY).payments
    assert prepaid == PaymentBehaviour(
        invoices=4,
        paid=4,  # the one on its way too: its money is in, only its receipt waits
        average_days_to_pay=0.0,
        paid_late=0,
        overdue=0,
        overdue_amount=Decimal(0),
        highest_dunning_rung=0,
    )
    net = customer_history(db, "NET-LATE", today=TODAY).payments
    assert net == PaymentBehaviour(
        invoices=3,
        paid=2,
        average_days_to_pay=(14 + 23) / 2,  # due in 14 days; paid on the day and 9 late
        paid_late=1,
        overdue=1,
        overdue_amount=WIDGETS / 2,  # what is still owed on the half-paid one
        highest_dunning_rung=0,
    )
    log_in(client, "mia.chen")
    page = text_of(client.get("/customers/PRE-3").text)
    assert "Invoices paid 4 / 4 Average days to pay 0.0 Paid late 0 Overdue now 0 ·" in page
    page = text_of(client.get("/customers/NET-LATE").text)
    assert "Invoices paid 2 / 3 Average days to pay 18.5 Paid late 1 Overdue now 1 ·" in page
