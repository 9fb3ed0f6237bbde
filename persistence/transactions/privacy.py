"""Privacy: everything held about a customer exported, a customer erased, and the personal
data of long-archived orders purged.

Erasure removes personal data and keeps the business record: the customer row stays
(invoices, receipts, credit notes and the archive name it by id, as accounting law
requires) with its name, contacts (and the contact people), addresses, notes and tags
gone; every order's
address and payment token are removed (the country stays, for tax); the audit of the
customer's record keeps who changed which field when, with the personal values gone;
messages sent to the customer are blanked; complaints lose what the customer wrote and
what was written to them (categories, times, remedies and scores stay for the analysis).
Orders still running, and complaints not yet closed, refuse erasure. Orders arriving for
an erased customer are rejected and keep no address; complaints naming them are refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.complaints import ComplaintStatus
from domain.customers import PERSONAL_FIELDS
from domain.notifications import Audience
from domain.orders import OrderStatus
from persistence.database import Database
from persistence.models import (
    ArchiveRecord,
    ComplaintEventRow,
    ComplaintRow,
    CreditNote,
    CreditProposal,
    Customer,
    CustomerChangeRow,
    CustomerContact,
    CustomerSegmentChange,
    GoodwillCredit,
    Invoice,
    NotificationRow,
    Order,
    OrderEventRow,
    OrderLine,
    Payment,
    Receipt,
    Shipment,
)

from .complaints import erase_complaint_mail
from .customers import customer_changes, customer_record
from .records import utcnow

ERASED = "[erased]"
"""What an erased value reads as."""
ERASED_EMAIL = "erased@erased.invalid"
"""An erased customer's e-mail: an address that can reach no one (RFC 2606)."""
FINISHED = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.FAILED}
)
"""Order statuses after which nothing more happens to an order."""


class ErasureRefusedError(ValueError):
    """The customer cannot be erased now; the message says why."""


class Erased(BaseModel):
    """What an erasure did."""

    customer_id: str
    orders: int
    """Orders whose address and payment token were removed."""
    audit_values: int
    """Audited values made unreadable."""
    messages: int
    """Messages to the customer blanked."""


def export_customer_data(db: Database, customer_id: str) -> dict[str, Any] | None:
    """Everything held about one customer, as JSON-ready data; None when there is none."""
    with db.reading() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return None
        orders = session.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at)
        ).all()
        ids = [order.id for order in orders]
        data: dict[str, Any] = {
            "exported_at": utcnow().isoformat(),
            "customer": customer_record(customer).model_dump(mode="json"),
            "contacts": _rows(session, CustomerContact, CustomerContact.customer_id == customer_id),
            "marketing_consent_given_at": _iso(customer.consent_at),
            "created_at": _iso(customer.created_at),
            "erased_at": _iso(customer.erased_at),
            "credit_score": customer.credit_score,
            "credit_reasons": customer.credit_reasons or [],
            "orders": [_order(session, order) for order in orders],
            "invoices": _rows(session, Invoice, Invoice.order_id.in_(ids)),
            "credit_notes": _rows(session, CreditNote, CreditNote.order_id.in_(ids)),
            "receipts": _rows(session, Receipt, Receipt.order_id.in_(ids)),
            "payments": _rows(session, Payment, Payment.order_id.in_(ids)),
            "shipments": _rows(session, Shipment, Shipment.order_id.in_(ids)),
            "archive": _rows(session, ArchiveRecord, ArchiveRecord.order_id.in_(ids)),
            "messages": _rows(session, NotificationRow, NotificationRow.order_id.in_(ids)),
            "segment_history": _rows(
                session, CustomerSegmentChange, CustomerSegmentChange.customer_id == customer_id
            ),
            "credit_proposals": _rows(
                session, CreditProposal, CreditProposal.customer_id == customer_id
            ),
            "complaints": _rows(session, ComplaintRow, ComplaintRow.customer_id == customer_id),
            "complaint_events": _rows(
                session,
                ComplaintEventRow,
                ComplaintEventRow.complaint_id.in_(
                    select(ComplaintRow.id).where(ComplaintRow.customer_id == customer_id)
                ),
            ),
            "goodwill_credits": _rows(
                session, GoodwillCredit, GoodwillCredit.customer_id == customer_id
            ),
        }
    data["record_changes"] = [
        change.model_dump(mode="json")
        for change in customer_changes(db, customer_id, limit=100_000)
    ]
    return data


def erase_customer(db: Database, customer_id: str, actor: str) -> Erased:
    """Erase a customer's personal data (see the module's text); refused, changing
    nothing, while any of their orders is still running."""
    with db.transaction() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise ErasureRefusedError(f"no customer {customer_id!r}")
        running = session.scalars(
            select(Order.id)
            .where(
                Order.customer_id == customer_id,
                Order.status.not_in([status.value for status in FINISHED]),
            )
            .order_by(Order.id)
        ).all()
        if running:
            raise ErasureRefusedError(
                f"customer {customer_id} has {len(running)} order(s) still running "
                f"({', '.join(running[:10])}); erase once they have finished"
            )
        handling = session.scalars(
            select(ComplaintRow.id)
            .where(
                ComplaintRow.customer_id == customer_id,
                ComplaintRow.status.not_in([ComplaintStatus.CLOSED.value]),
            )
            .order_by(ComplaintRow.id)
        ).all()
        if handling:
            raise ErasureRefusedError(
                f"customer {customer_id} has {len(handling)} complaint(s) still being handled "
                f"(#{', #'.join(str(i) for i in handling[:10])}); erase once they are closed"
            )
        now = utcnow()
        for name in PERSONAL_FIELDS:
            setattr(customer, name, "")
        customer.name = ERASED
        customer.email = ERASED_EMAIL
        customer.tags = ""
        customer.active = False
        customer.marketing_consent = False
        customer.consent_source = ""
        customer.consent_at = None
        customer.contact_by_email = False
        customer.contact_by_phone = False
        customer.erased_at = now
        customer.updated_at = now
        for contact in session.scalars(
            select(CustomerContact).where(CustomerContact.customer_id == customer_id)
        ):
            session.delete(contact)
        order_ids = session.scalars(select(Order.id).where(Order.customer_id == customer_id)).all()
        orders = _remove_order_data(session, list(order_ids), now)
        audited = 0
        for change in session.scalars(
            select(CustomerChangeRow).where(
                CustomerChangeRow.customer_id == customer_id,
                CustomerChangeRow.field.in_(
                    PERSONAL_FIELDS | {"tags", "consent_source", "contact"}
                ),
            )
        ):
            change.old_value = ERASED if change.old_value else ""
            change.new_value = ERASED if change.new_value else ""
            audited += 1
        session.add(
            CustomerChangeRow(
                customer_id=customer_id,
                at=now,
                actor=actor,
                field="erasure",
                old_value="",
                new_value="personal data erased",
            )
        )
        _erase_complaints(session, customer_id)
        messages = 0
        for message in session.scalars(
            select(NotificationRow).where(
                NotificationRow.order_id.in_(order_ids),
                NotificationRow.audience == Audience.CUSTOMER.value,
            )
        ):
            message.subject = message.message = ERASED
            messages += 1
    return Erased(customer_id=customer_id, orders=orders, audit_values=audited, messages=messages)


def _erase_complaints(session: Session, customer_id: str) -> None:
    """What the customer said and what was said to them; categories, times, remedies and
    scores stay for the analysis."""
    complaint_ids = []
    for complaint in session.scalars(
        select(ComplaintRow).where(ComplaintRow.customer_id == customer_id)
    ):
        complaint.subject = complaint.description = ERASED
        complaint.from_address = complaint.survey_comment = ""
        complaint_ids.append(complaint.id)
    for event in session.scalars(
        select(ComplaintEventRow).where(ComplaintEventRow.complaint_id.in_(complaint_ids))
    ):
        if event.detail:
            event.detail = ERASED
    erase_complaint_mail(session, complaint_ids, ERASED)


def purge_archived_personal_data(db: Database, archived_before: datetime) -> int:
    """Remove the address and payment token of every order archived before
    ``archived_before`` that still has them (the retention policy); how many."""
    with db.transaction() as session:
        order_ids = session.scalars(
            select(Order.id)
            .join(ArchiveRecord, ArchiveRecord.order_id == Order.id)
            .where(
                ArchiveRecord.archived_at < archived_before,
                Order.personal_data_removed_at.is_(None),
            )
        ).all()
        return _remove_order_data(session, list(order_ids), utcnow())


def _remove_order_data(session: Session, order_ids: list[str], now: datetime) -> int:
    for order in session.scalars(select(Order).where(Order.id.in_(order_ids))):
        order.ship_to_name = ""
        order.ship_to_street = ""
        order.ship_to_postal_code = ""
        order.ship_to_city = ""
        order.payment_token = None
        order.personal_data_removed_at = now
    return len(order_ids)


def _order(session: Session, order: Order) -> dict[str, Any]:
    values = _row(order)
    values["lines"] = _rows(session, OrderLine, OrderLine.order_id == order.id)
    values["events"] = _rows(session, OrderEventRow, OrderEventRow.order_id == order.id)
    return values


def _rows(session: Session, model: type[Any], where: Any) -> list[dict[str, Any]]:
    return [_row(row) for row in session.scalars(select(model).where(where))]


def _row(row: Any) -> dict[str, Any]:
    values = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if hasattr(value, "isoformat") else _plain(value)
    return values


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
