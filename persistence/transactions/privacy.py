"""Privacy: everything held about a customer exported, a customer erased, and the personal
data of long-archived orders purged.

Erasure removes personal data and keeps the business record: the customer row stays
(invoices, receipts, credit notes and the archive name it by id, as accounting law
requires) with its name, contacts (and the contact people), addresses, notes and tags
gone; every order's
address and payment token are removed (the country stays, for tax); the audit of the
customer's record keeps who changed which field when, with the personal values gone;
messages sent to the customer, and to staff about their orders and complaints, are
blanked (when, to whom and the provider's reference stay); complaints lose what the
customer wrote and what was written to them (categories, times, remedies and scores stay
for the analysis).
What staff wrote about the customer (the reasons of a cancellation, an approval or a
rejection, a deadline moved, a refund or goodwill credit, a care task's outcome, a credit
override's note) is erased too: each entry keeps its kind, who wrote it and when, and
reads ``[erased]``.
Orders still running, and complaints not yet closed, refuse erasure. Orders arriving for
an erased customer are rejected and keep no address; complaints naming them are refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from domain.campaigns import campaign_workflow_id
from domain.complaints import ComplaintCase, ComplaintStatus, complaint_workflow_id
from domain.customers import ERASED_EMAIL, PERSONAL_FIELDS
from domain.orders import EventKind, OrderStatus
from domain.wording import Wording
from persistence.database import Database
from persistence.models import (
    ArchiveRecord,
    AttachmentContent,
    CampaignRecipient,
    CampaignRow,
    CareTaskRow,
    ComplaintAttachmentRow,
    ComplaintEventRow,
    ComplaintMailRow,
    ComplaintRow,
    CreditNote,
    CreditProposal,
    Customer,
    CustomerChangeRow,
    CustomerContact,
    CustomerSegmentChange,
    CustomerSegmentRow,
    GoodwillCredit,
    Invoice,
    NotificationRow,
    Order,
    OrderEventRow,
    OrderLine,
    Payment,
    Receipt,
    Shipment,
    table_of,
)

from .complaints import erase_complaint_mail
from .customers import customer_changes, customer_record
from .records import read_wording, stored_wording, utcnow

log = structlog.get_logger(__name__)

ERASED = "[erased]"
"""What an erased value reads as."""
STAFF_TEXT_EVENTS = frozenset(
    {
        EventKind.APPROVED_BY_STAFF,
        EventKind.REJECTED_BY_STAFF,
        EventKind.CANCELLATION_REQUESTED,
        EventKind.CANCELLED,
        EventKind.DEADLINE_EXTENDED,
        EventKind.PAYMENT_REFUNDED,
    }
)
"""Order events whose detail carries what a person typed (a reason, a remedy's reason)."""
STAFF_TEXT = re.compile(
    r"(?:^|; )(?:complaint #\d+|(?:cancelled|rejected) by [^:;]+|cancelled in Temporal): "
)
"""How a reason a person typed is quoted in an event, a rejection reason or a credit note:
what comes before it (the refund, which case, who) stays when the reason is erased."""
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
    """Messages to the customer, and to staff about them, blanked."""
    staff_texts: int = 0
    """What staff wrote about the customer (reasons, outcomes, notes) erased."""
    old_versions_removed: bool = True
    """Whether the database's files were cleared of the values' earlier versions too
    (False: a long-running reader kept SQLite's WAL; the next erasure or a restart does it)."""


def export_customer_data(
    db: Database, customer_id: str, *, retention_days: int = 730
) -> dict[str, Any] | None:
    """Everything held about one customer, as JSON-ready data, with the facts of its
    processing GDPR Art. 15 names (``retention_days``: the retention policy's setting);
    None when there is no such customer."""
    with db.reading() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return None
        orders = session.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at)
        ).all()
        ids = [order.id for order in orders]
        segment = session.get(CustomerSegmentRow, customer_id)
        data: dict[str, Any] = {
            "exported_at": utcnow().isoformat(),
            "processing": processing_facts(retention_days),
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
            "messages": _rows(session, NotificationRow, _messages_to(session, customer_id, ids)),
            "campaigns": _campaigns(session, customer_id),
            "care_tasks": _rows(session, CareTaskRow, CareTaskRow.customer_id == customer_id),
            "segment": None if segment is None else _row(segment),
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
        staff_texts = _erase_staff_texts(session, customer_id, list(order_ids))
        messages = 0
        # Every audience: a message to staff about the customer's order or case may quote
        # what staff typed about them (a refund's reason, for finance to pay it back).
        for message in session.scalars(
            select(NotificationRow).where(_messages_to(session, customer_id, list(order_ids)))
        ):
            message.subject = message.message = ERASED
            messages += 1
    return Erased(
        customer_id=customer_id,
        orders=orders,
        audit_values=audited,
        messages=messages,
        staff_texts=staff_texts,
        old_versions_removed=remove_old_versions(db),
    )


ERASED_TABLES = (
    Customer,
    CustomerContact,
    CustomerChangeRow,
    Order,
    OrderEventRow,
    NotificationRow,
    ComplaintRow,
    ComplaintEventRow,
    ComplaintMailRow,
    ComplaintAttachmentRow,
    AttachmentContent,
    CareTaskRow,
    GoodwillCredit,
    CreditNote,
    CreditProposal,
)
"""Tables an erasure (or the retention policy) overwrites values in."""


def remove_old_versions(db: Database) -> bool:
    """Clear the earlier versions of values just erased from the database's files, where the
    database allows it; False when it could not finish now.

    SQLite zeroes what a statement deletes or overwrites (``secure_delete``), but the WAL
    still holds the pages as they were until a checkpoint: the WAL is copied into the
    database file and truncated. PostgreSQL keeps an updated row's old version in the
    table until a vacuum removes it (autovacuum comes only once a fifth of a table is dead
    rows): the erased tables are vacuumed now. (Its write-ahead log and backups keep the
    old pages until they are recycled; see the README.)
    """
    try:
        if db.dialect == "sqlite":
            return db.checkpoint()
        tables = ", ".join(f'"{table_of(model).name}"' for model in ERASED_TABLES)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM {tables}")
    except SQLAlchemyError as error:
        # The erasure itself is committed: say what is left, do not undo the answer.
        log.warning("erased values' old versions not removed now", error=str(error))
        return False
    return True


def _messages_to(session: Session, customer_id: str, order_ids: list[str]) -> Any:
    """Which notifications concern the customer: those of their orders, of their complaint
    cases (replies, the survey) and the campaign messages sent to them."""
    cases = [
        complaint_workflow_id(complaint_id)
        for complaint_id in session.scalars(
            select(ComplaintRow.id).where(ComplaintRow.customer_id == customer_id)
        )
    ]
    campaigns = [
        campaign_workflow_id(campaign_id)
        for campaign_id in session.scalars(
            select(CampaignRecipient.campaign_id).where(
                CampaignRecipient.customer_id == customer_id
            )
        )
    ]
    return or_(
        NotificationRow.order_id.in_(order_ids + cases),
        and_(
            NotificationRow.order_id.in_(campaigns),
            # The campaign workflow's key of the customer's message (activities.campaigns).
            NotificationRow.key == f"message:{customer_id}",
        ),
    )


def _campaigns(session: Session, customer_id: str) -> list[dict[str, Any]]:
    """Every campaign whose audience held the customer: sent to, skipped, or held out in
    its control group (never sent anything, the baseline its response is measured by)."""
    return [
        {
            "campaign_id": campaign.id,
            "name": campaign.name,
            "subject": campaign.definition.get("subject", ""),
            "control_group": recipient.control,
            "status": recipient.status,
            "sent_at": _iso(recipient.sent_at),
            "reference": recipient.reference,
        }
        for recipient, campaign in session.execute(
            select(CampaignRecipient, CampaignRow)
            .join(CampaignRow, CampaignRow.id == CampaignRecipient.campaign_id)
            .where(CampaignRecipient.customer_id == customer_id)
            .order_by(CampaignRow.id)
        ).all()
    ]


def processing_facts(retention_days: int) -> dict[str, Any]:
    """What GDPR Art. 15(1) and (2) tell a data subject besides their data: purposes,
    recipients, retention, source, and the logic of the profiling and the credit score."""
    return {
        "purposes": [
            "taking, delivering, invoicing and collecting payment for orders (contract)",
            "keeping invoices, receipts and credit notes (legal obligation: accounting law)",
            "handling complaints and their remedies (contract)",
            "customer care: follow-up calls and tasks after orders and complaints "
            "(legitimate interest)",
            "deciding the credit extended: the credit score and limit (legitimate interest)",
            "segments (RFM, ABC) for care and campaigns (legitimate interest)",
            "marketing campaigns, only with marketing consent, which can be withdrawn at any "
            "time by the link in every campaign message (consent)",
        ],
        "recipients": [
            "carriers: the name and address a parcel goes to",
            "the payment provider: the amount and the payment token of an order",
            "the notification provider: the e-mail address and the text of each message",
            "suppliers and factories: no personal data (only products and quantities)",
            "finance, ERP and data warehouse systems: orders and vouchers by customer id",
            "our staff, by role: customer service, finance, warehouse, analysts (who see "
            "customers under a pseudonym)",
        ],
        "retention": {
            "customer record": "while the customer relationship lasts, until erased on request",
            "order address and payment token": "the payment token until the order is "
            f"finished; the address until {retention_days} days after the order is archived",
            "invoices, receipts, credit notes, goodwill credits": "as accounting law "
            "requires, by customer id (kept after an erasure, without personal data)",
            "messages, complaints, care tasks, notes": "until the customer is erased",
            "workflow histories in Temporal": "encrypted; deleted after the namespace's "
            "retention period once the workflow has closed",
        },
        "source": (
            "you (orders through the web shop, EDI or our phone desk; complaints; survey "
            "answers), our staff (the customer record, notes, care tasks), carriers (parcel "
            "tracking) and the payment provider (payments); nothing is bought from third "
            "parties"
        ),
        "automated_decisions": {
            "credit_score": (
                "Every night each customer gets a score from 0 to 100 over the last 12 "
                "months: payment behaviour up to 40 points (fewer for invoices paid after "
                "their due date, and the more days late the fewer), tenure up to 15 (one "
                "a month since the first order), volume up to 15 (one per 2,000 spent), "
                "dunning up to 15 (15 if never reminded, fewer for each reminder rung "
                "reached) and exposure up to 15 (what is owed against the credit limit, "
                "8 fewer for each overdue invoice). The score suggests a credit limit and a "
                "standing; a person with credit authority accepts or overrides every "
                "suggestion. An order above the limit is held for a person to decide; a "
                "hold nobody decides within the approval deadline is rejected. The last "
                "score and its reasons are in credit_score and credit_reasons."
            ),
            "segments": (
                "RFM: how recently, how often and how much you ordered, each scored 1 to 5 "
                "against the other customers, name a segment; ABC: A for the customers "
                "making up the first 80 % of revenue, B the next 15 %, C the rest. Segments "
                "choose care tasks and campaign audiences and raise a complaint's priority; "
                "they decide nothing about orders or credit."
            ),
        },
        "rights": (
            "access (this export), rectification, erasure, restriction, objection to "
            "processing based on legitimate interest and to direct marketing, "
            "portability, and a complaint to a supervisory authority"
        ),
    }


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
        event.wording = None  # it quotes what the detail held (a subject, a reason)
    erase_complaint_mail(session, complaint_ids, ERASED)


def _erase_staff_texts(session: Session, customer_id: str, order_ids: list[str]) -> int:
    """What staff wrote about the customer; who wrote it and when stay. How many texts."""
    erased = 0
    for event in session.scalars(
        select(OrderEventRow).where(
            OrderEventRow.order_id.in_(order_ids),
            OrderEventRow.kind.in_([kind.value for kind in STAFF_TEXT_EVENTS]),
        )
    ):
        if event.detail and event.detail != ERASED:
            quoted = _without_staff_text(event.detail)
            event.detail = quoted if quoted != event.detail else ERASED
            event.wording = None if event.detail == ERASED else _without_reason(event.wording)
            erased += 1
    for order in session.scalars(select(Order).where(Order.id.in_(order_ids))):
        reasons = [_without_staff_text(reason) for reason in order.rejection_reasons]
        if reasons != order.rejection_reasons:
            order.rejection_reasons = reasons
            erased += 1
    for note in session.scalars(select(CreditNote).where(CreditNote.order_id.in_(order_ids))):
        if (reason := _without_staff_text(note.reason)) != note.reason:
            note.reason = reason
            erased += 1
    texts: list[tuple[Any, str]] = [
        *((task, "outcome") for task in _of(session, CareTaskRow, customer_id)),
        *((credit, "reason") for credit in _of(session, GoodwillCredit, customer_id)),
        *((proposal, "note") for proposal in _of(session, CreditProposal, customer_id)),
    ]
    for row, field in texts:
        if getattr(row, field) not in ("", ERASED):
            setattr(row, field, ERASED)
            erased += 1
    for complaint in session.scalars(
        select(ComplaintRow).where(ComplaintRow.customer_id == customer_id)
    ):
        if not complaint.case:
            continue
        case = ComplaintCase.model_validate(complaint.case)
        remedies = [
            remedy.model_copy(update={"reason": ERASED}) if remedy.reason else remedy
            for remedy in case.remedies
        ]
        if remedies != case.remedies:
            complaint.case = case.model_copy(update={"remedies": remedies}).model_dump(mode="json")
            erased += sum(1 for remedy in case.remedies if remedy.reason not in ("", ERASED))
    return erased


def _of(session: Session, model: type[Any], customer_id: str) -> list[Any]:
    return list(session.scalars(select(model).where(model.customer_id == customer_id)))


def _without_reason(stored: str | None) -> str | None:
    """An event's wording with the reason a person typed erased (its ``reason``
    arguments); None (the erased English text is shown) when it quotes no reason."""
    wording = read_wording(stored)
    if wording is None:
        return None
    erased = _reason_erased(wording)
    return None if erased == wording else stored_wording(erased)


def _reason_erased(wording: Wording) -> Wording:
    args = {name: ERASED if name == "reason" else value for name, value in wording.args.items()}
    parts = {name: _reason_erased(part) for name, part in wording.parts.items()}
    return wording.model_copy(update={"args": args, "parts": parts})


def _without_staff_text(text: str) -> str:
    """``text`` with the reason a person typed erased (what comes before it stays); other
    text (the system's own reasons) as it is."""
    if match := STAFF_TEXT.search(text):
        return text[: match.end()] + ERASED
    return text


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
        purged = _remove_order_data(session, list(order_ids), utcnow())
    if purged:
        remove_old_versions(db)
    return purged


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
