"""Complaints written and read: intake (once per gateway message id), the case's events
as its workflow records them, owners chosen round robin, and the remedies booked through
the order's money transactions."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.access import Role
from domain.complaint_mail import ReceivedMail
from domain.complaints import (
    ACTION_REFUSED,
    CATEGORY_WORDS,
    FROM_LIMIT,
    LARGEST_COMPLAINT_NUMBER,
    OPEN_STATUSES,
    CaseEvent,
    ComplaintCase,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEventKind,
    ComplaintIntake,
    ComplaintPriority,
    ComplaintStatus,
    Intake,
    OrderFacts,
    OwnerRequest,
    RemedyOrder,
    RemedyOutcome,
    ReplacementPrice,
    case_number_in,
    complaint_workflow_id,
    priority_of,
    sender_address,
    suggest_category,
)
from domain.credit_scoring import is_overdue
from domain.inventory import MovementKind
from domain.orders import EventKind, OrderStatus
from domain.segments import Segment
from domain.settlement import CREDIT_NOTE_SERIES, InvoiceStatus, PaymentKind
from domain.shipping import ShipmentRequest, ShipmentStatus
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.idempotency import run_once
from persistence.models import (
    AttachmentContent,
    ComplaintAttachmentRow,
    ComplaintEventRow,
    ComplaintMailRow,
    ComplaintRow,
    CreditNote,
    Customer,
    CustomerContact,
    CustomerSegmentRow,
    GoodwillCredit,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    RootCause,
    Shipment,
    StaffUser,
)
from persistence.wording_columns import wording_json

from .credit_reviews import invoices_by_customer
from .money import amount_paid, next_voucher
from .parcels import packs_first
from .records import utcnow, write_event
from .stock import change_stock

GOODWILL_SERIES = "GC"
"""Voucher series of goodwill credits."""


class ComplaintRefusedError(ValueError):
    """A complaint that cannot be filed as sent; the message names the field and value."""


def file_complaint(
    db: Database, intake: ComplaintIntake, reopen_days: int = 14, mail: ReceivedMail | None = None
) -> Intake:
    """Record a complaint and its first event; the case its workflow starts with.

    The same message id from the same channel is one complaint (``duplicate``), and one
    reply: a message already handed to its case is not handed over again (a duplicate
    of a reply says ``reopen`` as the first delivery did, with the same case). An e-mail whose
    subject names an earlier case (``complaint #12``), sent from that case's customer's
    address (or a contact's), open or closed less than ``reopen_days`` ago, is the customer
    writing about that case (``reopen``), not a new complaint; from anyone else it is a new
    complaint. ``mail``, the e-mail as read, is kept with the case: its original and its
    attachments (stored by content).
    """
    try:
        with db.transaction() as session:
            if (earlier := _same_message(session, intake)) is not None:
                return Intake(case=case_of(earlier), duplicate=True)
            if (kept := _kept_message(session, intake)) is not None:
                case = session.get(ComplaintRow, kept.complaint_id)
                assert case is not None
                if kept.delivered or not _take_over_handing(session, kept.id):
                    return Intake(
                        case=case_of(case), duplicate=True, reopen=kept.reply, mail_id=kept.id
                    )
                # Kept but never handed to the case (Temporal was out of reach): now.
                return Intake(case=case_of(case), reopen=True, mail_id=kept.id, delivered=False)
            customer_id, order = _parties(session, intake, mail)
            if (written := _written_about(session, intake, customer_id, reopen_days)) is not None:
                reply = _keep_message(session, written.id, intake, mail, reply=True)
                return Intake(
                    case=case_of(written),
                    reopen=True,
                    mail_id=None if reply is None else reply.id,
                    delivered=reply is None,
                )
            facts = None if order is None else _order_facts(session, order)
            suggested = suggest_category(facts)
            category = intake.category or suggested
            segment = None if customer_id is None else _segment(session, customer_id)
            now = utcnow()
            row = ComplaintRow(
                channel=intake.channel.value,
                message_id=intake.message_id or None,
                customer_id=customer_id,
                order_id=None if order is None else order.id,
                parcel_id=intake.parcel_id or None,
                category=category.value,
                suggested_category=suggested.value,
                priority=priority_of(category, segment).value,
                status=ComplaintStatus.NEW.value,
                owner=None,
                from_address=sender_address(intake.from_address)
                or intake.from_address
                or ("" if mail is None else mail.from_header[:FROM_LIMIT]),
                subject=intake.subject,
                description=intake.description,
                attachments=list(intake.attachments),
                taken_by=intake.taken_by,
                received_at=now,
                escalation_level=0,
                sla_breached=False,
                case={},
                remedy_cost=Decimal(0),
                survey_comment="",
                reopened=0,
            )
            session.add(row)
            session.flush()
            if order is not None and intake.parcel_id:
                _check_parcel(session, order.id, intake.parcel_id)
            row.case = (
                case_of(row)
                .model_copy(update={"segment": segment, "suggested_from": facts})
                .model_dump(mode="json")
            )
            received = (
                Wording(
                    message=N_("by %(channel)s (%(who)s): %(subject)s"),
                    terms={"channel": CHANNEL_WORDS[intake.channel]},
                    args={"who": intake.taken_by, "subject": intake.subject},
                )
                if intake.taken_by
                else Wording(
                    message=N_("by %(channel)s: %(subject)s"),
                    terms={"channel": CHANNEL_WORDS[intake.channel]},
                    args={"subject": intake.subject},
                )
            )
            _event(
                session,
                row.id,
                ComplaintEventKind.RECEIVED,
                intake.taken_by or "customer",
                received.english(),
                wording=received,
            )
            kept_mail = _keep_message(session, row.id, intake, mail, reply=False)
            if order is not None:
                write_event(
                    session,
                    order.id,
                    EventKind.COMPLAINT_RECEIVED,
                    f"complaint #{row.id}: {category.value}",
                    wording=Wording(
                        message=N_("complaint #%(complaint)s: %(category)s"),
                        args={"complaint": row.id},
                        terms={"category": CATEGORY_WORDS[category]},
                    ),
                )
            return Intake(case=case_of(row), mail_id=None if kept_mail is None else kept_mail.id)
    except IntegrityError:
        # Two deliveries of one message raced; the other one's row is the complaint.
        with db.reading() as session:
            earlier = _same_message(session, intake)
            if earlier is not None:
                return Intake(case=case_of(earlier), duplicate=True)
            kept = _kept_message(session, intake)
            if kept is None:
                raise
            case = session.get(ComplaintRow, kept.complaint_id)
            assert case is not None
            return Intake(case=case_of(case), duplicate=True, reopen=kept.reply, mail_id=kept.id)


REPLY_HANDOVER_GRACE = timedelta(minutes=1)
"""How long a delivery handing a reply to its case has before a repeat takes over (it
crashed); a repeat within it is a duplicate."""


def _take_over_handing(session: Session, mail_id: int) -> bool:
    """Whether this delivery hands the kept reply to its case: nobody else is (an atomic
    conditional update, so of parallel deliveries exactly one does)."""
    now = utcnow()
    taken = session.execute(
        update(ComplaintMailRow)
        .where(
            ComplaintMailRow.id == mail_id,
            ComplaintMailRow.delivered.is_(False),
            or_(
                ComplaintMailRow.handing_over_since.is_(None),
                ComplaintMailRow.handing_over_since < now - REPLY_HANDOVER_GRACE,
            ),
        )
        .values(handing_over_since=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


def reply_delivered(db: Database, mail_id: int) -> None:
    """The kept reply ``mail_id`` reached its case: a repeat of it is a duplicate now."""
    with db.transaction() as session:
        row = session.get(ComplaintMailRow, mail_id)
        if row is not None:
            row.delivered = True
            row.handing_over_since = None


def reply_not_delivered(db: Database, mail_id: int) -> None:
    """Handing the kept reply ``mail_id`` to its case failed: the next repeat hands it over."""
    with db.transaction() as session:
        row = session.get(ComplaintMailRow, mail_id)
        if row is not None and not row.delivered:
            row.handing_over_since = None


def _same_message(session: Session, intake: ComplaintIntake) -> ComplaintRow | None:
    if not intake.message_id:
        return None
    return session.scalar(
        select(ComplaintRow).where(
            ComplaintRow.channel == intake.channel.value,
            ComplaintRow.message_id == intake.message_id,
        )
    )


def _kept_message(session: Session, intake: ComplaintIntake) -> ComplaintMailRow | None:
    if not intake.message_id:
        return None
    return session.scalar(
        select(ComplaintMailRow).where(
            ComplaintMailRow.channel == intake.channel.value,
            ComplaintMailRow.message_key == intake.message_id,
        )
    )


def _keep_message(
    session: Session,
    complaint_id: int,
    intake: ComplaintIntake,
    mail: ReceivedMail | None,
    *,
    reply: bool,
) -> ComplaintMailRow | None:
    """Keep the message with the case (the original, what reading it cut, its attachments
    stored by content); nothing for a message without an id that came as fields."""
    if not intake.message_id:
        return None
    row = ComplaintMailRow(
        complaint_id=complaint_id,
        channel=intake.channel.value,
        message_key=intake.message_id,
        reply=reply,
        delivered=not reply,
        handing_over_since=utcnow() if reply else None,
        received_at=utcnow(),
        subject=intake.subject,
        original=None if mail is None else mail.original,
        cuts=[] if mail is None else list(mail.cuts),
    )
    session.add(row)
    session.flush()
    for attachment in [] if mail is None else mail.attachments:
        stored = attachment.content is not None
        if stored and session.get(AttachmentContent, attachment.sha256) is None:
            session.add(
                AttachmentContent(
                    sha256=attachment.sha256, size=attachment.size, content=attachment.content
                )
            )
            session.flush()
        session.add(
            ComplaintAttachmentRow(
                mail_id=row.id,
                complaint_id=complaint_id,
                filename=attachment.filename,
                media_type=attachment.media_type,
                size=attachment.size,
                sha256=attachment.sha256 if stored else None,
            )
        )
    return row


def erase_complaint_mail(session: Session, complaint_ids: Sequence[int], erased: str) -> None:
    """Erase what the customer sent with complaints ``complaint_ids`` (their erasure):
    originals, subjects and attachment names go; an attachment's content goes unless a
    message of another complaint holds the same file. That messages and attachments came,
    when, of what type and size, stays."""
    if not complaint_ids:
        return
    for mail in session.scalars(
        select(ComplaintMailRow).where(ComplaintMailRow.complaint_id.in_(complaint_ids))
    ):
        mail.original = None
        mail.subject = erased
        mail.cuts = []
    contents = set()
    for attachment in session.scalars(
        select(ComplaintAttachmentRow).where(ComplaintAttachmentRow.complaint_id.in_(complaint_ids))
    ):
        if attachment.sha256 is not None:
            contents.add(attachment.sha256)
        attachment.filename = erased
        attachment.sha256 = None
    session.flush()
    still_held = set(
        session.scalars(
            select(ComplaintAttachmentRow.sha256).where(ComplaintAttachmentRow.sha256.in_(contents))
        )
    )
    for sha256 in contents - still_held:
        content = session.get(AttachmentContent, sha256)
        if content is not None:
            session.delete(content)


def _parties(
    session: Session, intake: ComplaintIntake, mail: ReceivedMail | None
) -> tuple[str | None, Order | None]:
    """The customer and the order the complaint is about, each checked (an e-mail whose
    ``From`` names no single address is kept, matched to nobody)."""
    order = None
    if intake.order_id:
        order = session.get(Order, intake.order_id)
        if order is None:
            raise ComplaintRefusedError(f"order_id: no order {intake.order_id!r}")
    customer_id = intake.customer_id or None
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise ComplaintRefusedError(f"customer_id: no customer {customer_id!r}")
        if customer.erased_at is not None:
            raise ComplaintRefusedError(f"customer_id: customer {customer_id!r} was erased")
    elif order is not None:
        customer_id = order.customer_id
    elif intake.from_address:
        customer_id = customer_by_email(session, intake.from_address)
    if order is not None and customer_id is not None and order.customer_id != customer_id:
        raise ComplaintRefusedError(
            f"order_id: order {order.id!r} is not an order of customer {customer_id!r}"
        )
    if customer_id is None and not intake.from_address and not (mail and mail.from_header):
        raise ComplaintRefusedError(
            "customer_id: name the customer, the order, or the sender's from_address"
        )
    return customer_id, order


def customer_by_email(session: Session, address: str) -> str | None:
    """The customer whose e-mail (or a contact's) is the address part of ``address``; None
    if none or several, or if ``address`` names no single address.

    E-mail addresses are encrypted at rest, so they are compared after decryption.
    """
    wanted = sender_address(address)
    if not wanted:
        return None
    found: set[str] = set()
    for customer_id, email in session.execute(
        select(Customer.id, Customer.email).where(Customer.erased_at.is_(None))
    ):
        if _stored_address(email) == wanted:
            found.add(customer_id)
    for customer_id, email in session.execute(
        select(CustomerContact.customer_id, CustomerContact.email)
    ):
        if email and _stored_address(email) == wanted:
            found.add(customer_id)
    return found.pop() if len(found) == 1 else None


def _addresses_of(session: Session, customer_id: str) -> set[str]:
    """The customer's own address and their contacts'."""
    customer = session.get(Customer, customer_id)
    addresses = {"" if customer is None else _stored_address(customer.email)}
    for email in session.scalars(
        select(CustomerContact.email).where(CustomerContact.customer_id == customer_id)
    ):
        if email:
            addresses.add(_stored_address(email))
    return addresses - {""}


def _stored_address(address: str) -> str:
    """An address as the customer record keeps it, compared as a sender's is."""
    return sender_address(address) or address.strip().casefold()


def _written_about(
    session: Session, intake: ComplaintIntake, customer_id: str | None, reopen_days: int
) -> ComplaintRow | None:
    """The earlier case a message answers (its subject names it), if it came from that
    case's customer (their address or a contact's, when it names one) and can still be
    reopened."""
    number = case_number_in(intake.subject)
    if number is None or customer_id is None:
        return None
    earlier = session.get(ComplaintRow, number)
    if earlier is None or earlier.customer_id != customer_id:
        return None
    if intake.from_address and sender_address(intake.from_address) not in _addresses_of(
        session, customer_id
    ):
        return None  # someone else quoting the case's number: a complaint of their own
    if earlier.closed_at is not None and earlier.closed_at < utcnow() - timedelta(days=reopen_days):
        return None  # too late to reopen: a new complaint
    return earlier


def _check_parcel(session: Session, order_id: str, parcel_id: str) -> None:
    parcel = session.get(Shipment, parcel_id)
    if parcel is None or parcel.order_id != order_id:
        raise ComplaintRefusedError(f"parcel_id: no parcel {parcel_id!r} of order {order_id!r}")


def _order_facts(session: Session, order: Order) -> OrderFacts:
    lost_or_damaged, late = [], []
    for parcel in session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
    ):
        if parcel.status in (ShipmentStatus.LOST.value, ShipmentStatus.EXCEPTION.value):
            lost_or_damaged.append(parcel.id)
        elif parcel.promised_by is not None:
            arrived = parcel.delivered_at or utcnow()
            if arrived > parcel.promised_by:
                late.append(parcel.id)
    invoice = session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    overdue = voided = ""
    if invoice is not None and invoice.status == InvoiceStatus.VOIDED.value:
        voided = invoice.number
    elif invoice is not None:
        # Overdue as the credit score and the customer page count it: money captured for
        # a prepaid order settles its invoice, whatever the receipt's date.
        today = utcnow().date()
        money = invoices_by_customer(session, order_id=order.id).get(order.customer_id, [])
        if any(is_overdue(owed, today) for owed in money):
            overdue = invoice.number
    return OrderFacts(
        lost_or_damaged_parcels=lost_or_damaged,
        late_parcels=late,
        overdue_invoice=overdue,
        voided_invoice=voided,
    )


def _segment(session: Session, customer_id: str) -> Segment | None:
    row = session.get(CustomerSegmentRow, customer_id)
    return None if row is None else Segment(row.segment)


def _event(
    session: Session,
    complaint_id: int,
    kind: ComplaintEventKind,
    actor: str,
    detail: str,
    *,
    wording: Wording | None = None,
    amount: Decimal | None = None,
    key: str | None = None,
) -> None:
    session.add(
        ComplaintEventRow(
            complaint_id=complaint_id,
            at=utcnow(),
            kind=kind.value,
            actor=actor,
            detail=detail,
            wording=wording_json(wording),
            amount=amount,
            key=key,
        )
    )


CHANNEL_WORDS = {
    ComplaintChannel.PHONE: N_("phone"),
    ComplaintChannel.CHAT: N_("chat"),
    ComplaintChannel.EMAIL: N_("email"),
    ComplaintChannel.WEB: N_("web"),
}
"""Channels as a case's history names them (the English as the codes read)."""


def case_of(row: ComplaintRow) -> ComplaintCase:
    """The case as the workflow last reported it (or as filed, before it has)."""
    if row.case:
        return ComplaintCase.model_validate(row.case)
    return ComplaintCase(
        id=row.id,
        customer_id=row.customer_id,
        order_id=row.order_id,
        parcel_id=row.parcel_id,
        channel=ComplaintChannel(row.channel),
        category=ComplaintCategory(row.category),
        priority=ComplaintPriority(row.priority),
        status=ComplaintStatus(row.status),
        owner=row.owner,
        received_at=row.received_at,
    )


# --- what the workflow records ------------------------------------------------------


def record_case_event(db: Database, event: CaseEvent) -> ComplaintCase:
    """Write one event of the case and the case's state after it (once per ``event.key``)."""
    with db.transaction() as session:
        if event.key and session.scalar(
            select(ComplaintEventRow.id).where(ComplaintEventRow.key == event.key)
        ):
            return event.case
        row = session.get(ComplaintRow, event.case.id)
        if row is None:
            raise ApplicationError(f"no complaint {event.case.id}", non_retryable=True)
        case = event.case
        now = utcnow()
        row.status = case.status.value
        row.owner = case.owner
        row.category = case.category.value
        row.priority = case.priority.value
        row.escalation_level = case.escalation_level
        row.sla_breached = case.breached
        row.remedy_cost = case.remedy_cost
        row.reopened = case.reopened
        row.survey_score = case.survey_score
        row.case = case.model_dump(mode="json")
        if event.kind is ComplaintEventKind.REPLY and row.first_response_at is None:
            row.first_response_at = now
        if event.kind is ComplaintEventKind.RESOLVED:
            row.resolved_at = now
            row.root_cause = event.root_cause
        if event.kind is ComplaintEventKind.REOPENED:
            row.resolved_at = None
            row.closed_at = None
        if event.kind is ComplaintEventKind.CLOSED:
            row.closed_at = now
        if event.kind is ComplaintEventKind.SURVEY_ANSWERED:
            row.survey_comment = event.detail
        _event(
            session,
            row.id,
            event.kind,
            event.actor,
            event.detail,
            wording=event.wording,
            amount=event.amount,
            key=event.key or None,
        )
        return case


def assign_owner(db: Database, request: OwnerRequest) -> str | None:
    """The owner of the case: ``request.owner`` if an active customer-service user, else the
    one with the fewest open complaints (None: nobody, the team queue)."""
    with db.reading() as session:
        users = _customer_service(session)
        if request.owner:
            if request.owner not in users:
                raise ApplicationError(
                    f"owner: {request.owner!r} is not an active customer-service user",
                    type=ACTION_REFUSED,
                    non_retryable=True,
                    category=ApplicationErrorCategory.BENIGN,
                )
            return request.owner
        load = Counter(dict.fromkeys(users, 0))
        for owner, count in session.execute(
            select(ComplaintRow.owner, func.count())
            .where(
                ComplaintRow.status.in_([status.value for status in OPEN_STATUSES]),
                ComplaintRow.owner.in_(users),
                ComplaintRow.id != request.complaint_id,
            )
            .group_by(ComplaintRow.owner)
        ):
            if owner is not None:
                load[owner] = count
        return min(load, key=lambda user: (load[user], user)) if load else None


def _customer_service(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(StaffUser.username).where(
                StaffUser.role == Role.CUSTOMER_SERVICE.value, StaffUser.active.is_(True)
            )
        )
    )


def customer_address(db: Database, customer_id: str | None) -> str:
    """Where messages about a case go: the customer's id for the notifier (empty: none)."""
    if customer_id is None:
        return ""
    with db.reading() as session:
        customer = session.get(Customer, customer_id)
        return "" if customer is None or customer.erased_at is not None else customer_id


# --- remedies -----------------------------------------------------------------------


def plan_refund(db: Database, remedy: RemedyOrder) -> tuple[str, Decimal, str, str | None]:
    """What a refund of ``remedy.amount`` takes: (currency, money kept, how, capture reference).

    Refused (non-retryable :data:`ACTION_REFUSED`) when there is no finished order with an
    invoice, or the amount is more than the order kept.
    """
    with db.reading() as session:
        order = None if remedy.order_id is None else session.get(Order, remedy.order_id)
        if order is None:
            _refuse(
                Wording(
                    message=N_(
                        "a refund needs the complaint's order; link the complaint to an order"
                    )
                )
            )
        assert order is not None
        if order.status not in (OrderStatus.COMPLETED.value, OrderStatus.PAID.value):
            _refuse(
                Wording(
                    message=N_(
                        "order %(order)s is %(status)s: refunds are booked on completed orders "
                        "(cancel or wait for the order to finish)"
                    ),
                    args={"order": order.id, "status": order.status},
                )
            )
        invoice = session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        if invoice is None or invoice.status == InvoiceStatus.VOIDED.value:
            _refuse(
                Wording(
                    message=N_("order %(order)s has no valid invoice to credit"),
                    args={"order": order.id},
                )
            )
        assert invoice is not None
        credited = session.scalar(
            select(func.coalesce(func.sum(CreditNote.amount), 0)).where(
                CreditNote.order_id == order.id
            )
        )
        kept = min(amount_paid(session, order.id), invoice.amount - Decimal(credited or 0))
        if remedy.amount > kept:
            _refuse(
                Wording(
                    message=N_(
                        "a refund of %(amount)s %(currency)s is more than the %(kept)s "
                        "%(currency)s order %(order)s still keeps"
                    ),
                    args={
                        "amount": f"{remedy.amount:.2f}",
                        "currency": order.currency,
                        "kept": kept,
                        "order": order.id,
                    },
                )
            )
        capture = session.scalar(
            select(Payment.reference).where(
                Payment.order_id == order.id, Payment.kind == PaymentKind.CAPTURE.value
            )
        )
        how = "card refund" if capture is not None else "bank transfer by finance"
        return order.currency, kept, how, capture


def _refuse(reason: Wording) -> None:
    """Refuse the remedy: the English reason is the error's message, its wording the
    error's one detail (the case records it in the reader's language)."""
    # A refusal is a business outcome the case records, not an error for the logs.
    raise ApplicationError(
        reason.english(),
        reason.model_dump(mode="json"),
        type=ACTION_REFUSED,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,
    )


def book_refund(db: Database, remedy: RemedyOrder, reference: str, key: str) -> RemedyOutcome:
    """A partial credit note for the order's invoice and the refund payment, once per ``key``."""

    def effect(session: Session) -> RemedyOutcome:
        assert remedy.order_id is not None
        order = session.get(Order, remedy.order_id)
        invoice = session.scalar(select(Invoice).where(Invoice.order_id == remedy.order_id))
        assert order is not None
        assert invoice is not None
        now = utcnow()
        reason = f"complaint #{remedy.complaint_id}: {remedy.reason}"
        note = CreditNote(
            **next_voucher(session, CREDIT_NOTE_SERIES, now),
            invoice_id=invoice.id,
            order_id=order.id,
            amount=remedy.amount,
            reason=reason,
            issued_at=now,
        )
        session.add(note)
        session.add(
            Payment(
                order_id=order.id,
                kind=PaymentKind.REFUND.value,
                amount=remedy.amount,
                currency=order.currency,
                reference=reference,
                idempotency_key=key,
                created_at=now,
            )
        )
        detail = (
            f"refunded {remedy.amount} {order.currency} ({reference}) with credit note "
            f"{note.number}"
        )
        refunded = Wording(
            message=N_(
                "refunded %(amount)s %(currency)s (%(reference)s) with credit note %(note)s"
            ),
            args={
                "amount": remedy.amount,
                "currency": order.currency,
                "reference": reference,
                "note": note.number,
            },
        )
        write_event(
            session,
            order.id,
            EventKind.PAYMENT_REFUNDED,
            f"{detail}; {reason}",
            # The reason is what a person typed: erasure blanks the argument so named.
            wording=Wording(
                message=N_("%(refund)s; complaint #%(complaint)s: %(reason)s"),
                parts={"refund": refunded},
                args={"complaint": remedy.complaint_id, "reason": remedy.reason},
            ),
        )
        return RemedyOutcome(done=True, detail=detail, wording=refunded, currency=order.currency)

    return run_once(db, key, RemedyOutcome, effect)


def book_goodwill_credit(db: Database, remedy: RemedyOrder, key: str) -> RemedyOutcome:
    """A numbered goodwill credit on the customer's account, once per ``key``."""

    def effect(session: Session) -> RemedyOutcome:
        if remedy.customer_id is None:
            _refuse(
                Wording(
                    message=N_("a goodwill credit needs the complaint's customer; link one first")
                )
            )
        assert remedy.customer_id is not None
        order = None if remedy.order_id is None else session.get(Order, remedy.order_id)
        currency = "EUR" if order is None else order.currency
        now = utcnow()
        credit = GoodwillCredit(
            **next_voucher(session, GOODWILL_SERIES, now),
            customer_id=remedy.customer_id,
            complaint_id=remedy.complaint_id,
            amount=remedy.amount,
            currency=currency,
            reason=remedy.reason,
            issued_at=now,
        )
        session.add(credit)
        session.flush()
        credited = Wording(
            message=N_("goodwill credit %(number)s of %(amount)s %(currency)s"),
            args={"number": credit.number, "amount": remedy.amount, "currency": currency},
        )
        return RemedyOutcome(
            done=True, detail=credited.english(), wording=credited, currency=currency
        )

    return run_once(db, key, RemedyOutcome, effect)


def remedy_key(remedy: RemedyOrder) -> str:
    """The idempotency key of a remedy: the payment provider and the database see it once."""
    return f"complaint-{remedy.complaint_id}:remedy{remedy.number}:{remedy.kind.value}"


# --- reading ------------------------------------------------------------------------


def find_case(db: Database, complaint_id: int) -> ComplaintCase | None:
    """The case of complaint ``complaint_id``, or None (a number no complaint can have)."""
    if not 1 <= complaint_id <= LARGEST_COMPLAINT_NUMBER:
        return None
    with db.reading() as session:
        row = session.get(ComplaintRow, complaint_id)
        return None if row is None else case_of(row)


ROOT_CAUSE_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def add_root_cause(db: Database, code: str, label: str) -> None:
    """Extend the list of root causes (a code already there gets the new label, active)."""
    if not ROOT_CAUSE_CODE.fullmatch(code):
        raise ComplaintRefusedError(
            f"code: {code!r} is not a code (lower-case letters, digits and _, 2 to 64)"
        )
    if not label.strip() or len(label) > 200:
        raise ComplaintRefusedError("label: 1 to 200 characters")
    with db.transaction() as session:
        session.merge(RootCause(code=code, label=label.strip(), active=True))


def _replacement_lines(
    session: Session, remedy: RemedyOrder
) -> tuple[Order, dict[str, tuple[int, Decimal]]]:
    """The order and, per SKU to send again, the units and the order's unit price; refused
    when a SKU is not on the order or more units are asked than it held."""
    order = None if remedy.order_id is None else session.get(Order, remedy.order_id)
    if order is None:
        _refuse(
            Wording(
                message=N_(
                    "a re-shipment needs the complaint's order; link the complaint to an order"
                )
            )
        )
    assert order is not None
    ordered: dict[str, tuple[int, Decimal]] = {}
    for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
        units, _price = ordered.get(line.sku, (0, line.unit_price))
        ordered[line.sku] = (units + line.quantity, line.unit_price)
    wanted: dict[str, int] = {}
    for item in remedy.items:
        wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
    problems = [
        Wording(message=N_("%(sku)s: not on order %(order)s"), args={"sku": sku, "order": order.id})
        if sku not in ordered
        else Wording(
            message=N_("%(sku)s: %(units)s asked, the order held %(held)s"),
            args={"sku": sku, "units": units, "held": ordered[sku][0]},
        )
        for sku, units in sorted(wanted.items())
        if sku not in ordered or units > ordered[sku][0]
    ]
    if problems:
        _refuse(
            functools.reduce(
                lambda earlier, following: Wording(
                    message=N_("%(earlier)s; %(next)s"),
                    parts={"earlier": earlier, "next": following},
                ),
                problems,
            )
        )
    return order, {sku: (units, ordered[sku][1]) for sku, units in wanted.items()}


def price_replacement(db: Database, remedy: RemedyOrder) -> ReplacementPrice:
    """What the items to send again are worth at the order's prices (for the approval)."""
    with db.reading() as session:
        order, lines = _replacement_lines(session, remedy)
        value = sum((units * price for units, price in lines.values()), Decimal(0))
        return ReplacementPrice(value=value, currency=order.currency)


def plan_replacement(db: Database, remedy: RemedyOrder, key: str) -> RemedyOutcome:
    """Take the items from stock and plan the replacement parcel, once per ``key``.

    The parcel leaves from the warehouse of the parcel the complaint names (else the
    order's first); refused, changing nothing, when it holds too few free units.
    """

    def effect(session: Session) -> RemedyOutcome:
        order, lines = _replacement_lines(session, remedy)
        source = session.get(Shipment, remedy.parcel_id) if remedy.parcel_id else None
        if source is None:
            source = session.scalar(
                select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
            )
        if source is None:
            _refuse(
                Wording(
                    message=N_("order %(order)s was never shipped: nothing to send again"),
                    args={"order": order.id},
                )
            )
        assert source is not None
        cost = Decimal(0)
        for sku, (units, _price) in sorted(lines.items()):
            if not change_stock(
                session,
                sku=sku,
                warehouse_id=source.warehouse_id,
                kind=MovementKind.SHIP,
                on_hand_change=-units,
                order_id=order.id,
                reason="complaint replacement",
                reference=f"complaint #{remedy.complaint_id}",
            ):
                _refuse(
                    Wording(
                        message=N_(
                            "%(warehouse)s has fewer than %(units)s free %(sku)s for the "
                            "replacement; refund instead, or re-ship after restocking"
                        ),
                        args={"warehouse": source.warehouse_id, "units": units, "sku": sku},
                    )
                )
            product = session.get(Product, sku)
            cost += units * (product.cost if product is not None else Decimal(0))
        parcel = Shipment(
            id=f"{order.id}-C{remedy.complaint_id}R{remedy.number}",
            order_id=order.id,
            warehouse_id=source.warehouse_id,
            carrier="",
            tracking_number="",
            status=ShipmentStatus.PLANNED.value,
            booked_at=utcnow(),
            replaces_id=source.id,
            contents={sku: units for sku, (units, _price) in lines.items()},
            complaint_id=remedy.complaint_id,
        )
        session.add(parcel)
        what = ", ".join(f"{units} x {sku}" for sku, (units, _p) in sorted(lines.items()))
        write_event(
            session,
            order.id,
            EventKind.SHIPMENT_RESHIPPED,
            Wording(
                message=N_("%(parcel)s for complaint #%(complaint)s: %(items)s"),
                args={"parcel": parcel.id, "complaint": remedy.complaint_id, "items": what},
            ),
        )
        sent = Wording(
            message=N_("replacement parcel %(parcel)s (%(items)s) from %(warehouse)s"),
            args={"parcel": parcel.id, "items": what, "warehouse": source.warehouse_id},
        )
        return RemedyOutcome(
            done=True,
            detail=sent.english(),
            wording=sent,
            currency=order.currency,
            cost=cost,
            parcel=ShipmentRequest(
                order_id=order.id,
                shipment_id=parcel.id,
                warehouse_id=source.warehouse_id,
                units=sum(units for units, _p in lines.values()),
                confirm_packing=packs_first(session, source.warehouse_id),
                report_to=complaint_workflow_id(remedy.complaint_id),
            ),
        )

    return run_once(db, key, RemedyOutcome, effect)
