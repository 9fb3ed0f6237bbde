"""Marketing campaigns written and read: a campaign created, its audience chosen once,
each recipient's turn claimed and recorded, its status, its reach and response."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.campaigns import (
    AudienceChosen,
    CampaignDefinition,
    CampaignResponse,
    CampaignStatus,
    CampaignStatusChange,
    CampaignView,
    in_control_group,
)
from domain.customers import NOT_KEPT
from persistence.database import Database
from persistence.keys import link_token, link_token_valid
from persistence.models import (
    CampaignRecipient,
    CampaignRow,
    Customer,
    CustomerSegmentRow,
    Order,
)

from .customers import customer_record, save_in_session
from .records import utcnow


class CampaignError(ValueError):
    """No such campaign, or it cannot do what was asked."""


def create_campaign(db: Database, definition: CampaignDefinition, actor: str) -> int:
    """Record a new campaign (its workflow is started next); its id."""
    with db.transaction() as session:
        row = CampaignRow(
            name=definition.name,
            definition=definition.model_dump(mode="json"),
            status=CampaignStatus.SENDING.value,
            created_by=actor,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id


def campaign_definition(db: Database, campaign_id: int) -> CampaignDefinition:
    """What campaign ``campaign_id`` sends to whom."""
    with db.reading() as session:
        return CampaignDefinition.model_validate(_campaign(session, campaign_id).definition)


def choose_audience(db: Database, campaign_id: int) -> AudienceChosen:
    """Choose the recipients once: active customers with marketing consent in the
    campaign's segment, class and tag; a stable share of them held out as the control
    group. A repeat (a retried step) finds them chosen and changes nothing."""
    with db.transaction() as session:
        campaign = _campaign(session, campaign_id)
        definition = CampaignDefinition.model_validate(campaign.definition)
        chosen = session.scalar(
            select(func.count()).where(CampaignRecipient.campaign_id == campaign_id)
        )
        if not chosen:
            query = select(Customer).where(
                Customer.active.is_(True),
                Customer.marketing_consent.is_(True),
                Customer.erased_at.is_(None),
            )
            if definition.segment or definition.abc:
                query = query.join(
                    CustomerSegmentRow, CustomerSegmentRow.customer_id == Customer.id
                )
                if definition.segment:
                    query = query.where(CustomerSegmentRow.segment == definition.segment.value)
                if definition.abc:
                    query = query.where(CustomerSegmentRow.abc == definition.abc.value)
            for customer in session.scalars(query.order_by(Customer.id)):
                if definition.tag and definition.tag not in customer.tags.split(", "):
                    continue
                control = in_control_group(campaign_id, customer.id, definition.control_share)
                session.add(
                    CampaignRecipient(
                        campaign_id=campaign_id,
                        customer_id=customer.id,
                        control=control,
                        status="control" if control else "pending",
                    )
                )
            session.flush()
        counts = dict(
            session.execute(
                select(CampaignRecipient.control, func.count())
                .where(CampaignRecipient.campaign_id == campaign_id)
                .group_by(CampaignRecipient.control)
            ).all()
        )
    return AudienceChosen(targeted=counts.get(False, 0), control=counts.get(True, 0))


def next_recipients(db: Database, campaign_id: int, limit: int) -> list[str]:
    """The next ``limit`` pending recipients; whether each may still be written to is read
    just before their message (:func:`may_write_to`), not here."""
    with db.reading() as session:
        return list(
            session.scalars(
                select(CampaignRecipient.customer_id)
                .where(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.status == "pending",
                )
                .order_by(CampaignRecipient.customer_id)
                .limit(limit)
            )
        )


def may_write_to(db: Database, customer_id: str) -> bool:
    """Whether a campaign may write to ``customer_id`` now: consent given, active, not
    erased. Read just before each message, so an unsubscribe while a batch runs counts."""
    with db.reading() as session:
        customer = session.get(Customer, customer_id)
        return bool(
            customer is not None
            and customer.marketing_consent
            and customer.active
            and customer.erased_at is None
        )


def record_turn(db: Database, campaign_id: int, customer_id: str, *, reference: str | None) -> None:
    """A recipient's turn is over: sent (with the notifier's message id) or skipped."""
    with db.transaction() as session:
        row = session.get(CampaignRecipient, (campaign_id, customer_id))
        if row is None or row.status != "pending":
            return
        row.status = "sent" if reference else "skipped"
        row.reference = reference
        row.sent_at = utcnow() if reference else None


def pending_count(db: Database, campaign_id: int) -> int:
    """Recipients not yet written to."""
    with db.reading() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.status == "pending",
                )
            )
            or 0
        )


def record_status(db: Database, change: CampaignStatusChange) -> None:
    """The campaign's status as its workflow says; sending's end starts the window."""
    with db.transaction() as session:
        campaign = _campaign(session, change.campaign_id)
        if campaign.status == CampaignStatus.SENDING.value and change.status in (
            CampaignStatus.MEASURING,
            CampaignStatus.CANCELLED,
        ):
            campaign.sent_until = change.at
        campaign.status = change.status.value


def campaign_response(db: Database, campaign_id: int, now: datetime) -> CampaignResponse:
    """Reach so far and response: of the customers sent the message and of the control
    group, the share that ordered between the campaign's start and the end of its
    window (so far, while it lasts)."""
    with db.reading() as session:
        campaign = _campaign(session, campaign_id)
        definition = CampaignDefinition.model_validate(campaign.definition)
        statuses = dict(
            session.execute(
                select(CampaignRecipient.status, func.count())
                .where(CampaignRecipient.campaign_id == campaign_id)
                .group_by(CampaignRecipient.status)
            ).all()
        )
        end = min(
            now,
            (campaign.sent_until or now) + timedelta(days=definition.response_days),
        )
        ordered = dict(
            session.execute(
                select(CampaignRecipient.status, func.count(func.distinct(Order.customer_id)))
                .join(Order, Order.customer_id == CampaignRecipient.customer_id)
                .where(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.status.in_(("sent", "control")),
                    Order.status.not_in(NOT_KEPT),
                    Order.created_at >= campaign.created_at,
                    Order.created_at <= end,
                )
                .group_by(CampaignRecipient.status)
            ).all()
        )
    sent, control = statuses.get("sent", 0), statuses.get("control", 0)
    response = ordered.get("sent", 0) / sent if sent else None
    baseline = ordered.get("control", 0) / control if control else None
    return CampaignResponse(
        targeted=sent + statuses.get("pending", 0) + statuses.get("skipped", 0),
        sent=sent,
        skipped=statuses.get("skipped", 0),
        control=control,
        targeted_ordered=ordered.get("sent", 0),
        control_ordered=ordered.get("control", 0),
        response_rate=response,
        control_rate=baseline,
        uplift=None if response is None or baseline is None else response - baseline,
    )


def campaigns(db: Database, now: datetime) -> list[CampaignView]:
    """Every campaign, newest first, with its reach and response."""
    with db.reading() as session:
        ids = session.scalars(select(CampaignRow.id).order_by(CampaignRow.id.desc())).all()
    return [view for campaign_id in ids if (view := campaign_view(db, campaign_id, now))]


def campaign_view(db: Database, campaign_id: int, now: datetime) -> CampaignView | None:
    """One campaign with its reach and response; None when there is no such campaign."""
    with db.reading() as session:
        row = session.get(CampaignRow, campaign_id)
        if row is None:
            return None
        head = (
            CampaignDefinition.model_validate(row.definition),
            CampaignStatus(row.status),
            row.created_by,
            row.created_at,
            row.sent_until,
        )
    definition, status, created_by, created_at, sent_until = head
    return CampaignView(
        id=campaign_id,
        definition=definition,
        status=status,
        created_by=created_by,
        created_at=created_at,
        sent_until=sent_until,
        response=campaign_response(db, campaign_id, now),
    )


def unsubscribe_token(secret: bytes, customer_id: str) -> str:
    """The token of a customer's unsubscribe link (it proves the link was ours)."""
    return link_token(secret, f"unsubscribe:{customer_id}")


def unsubscribe_link_valid(secrets: list[bytes], customer_id: str, token: str) -> bool:
    """Whether ``token`` is the token of ``customer_id``'s unsubscribe link."""
    return link_token_valid(secrets, f"unsubscribe:{customer_id}", token)


def unsubscribe(db: Database, secrets: list[bytes], customer_id: str, token: str) -> bool:
    """Withdraw a customer's marketing consent from their link (audited); False when the
    link is not one of ours. Takes effect for the very next message of any campaign."""
    if not unsubscribe_link_valid(secrets, customer_id, token):
        return False
    with db.transaction() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return False
        if customer.marketing_consent:
            record = customer_record(customer).model_copy(
                update={"marketing_consent": False, "consent_source": ""}
            )
            save_in_session(session, record, "unsubscribe link", utcnow())
    return True


def _campaign(session: Session, campaign_id: int) -> CampaignRow:
    campaign = session.get(CampaignRow, campaign_id)
    if campaign is None:
        raise CampaignError(f"no campaign {campaign_id}")
    return campaign
