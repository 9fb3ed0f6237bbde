"""Complaint activities: the case's records, its owner, messages to the customer, remedies
booked through the order's money transactions, and the care follow-up."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.care import CareRules, CareTask
from domain.complaint_analysis import ANALYSE_COMPLAINTS, AnalysisRequest, ComplaintAnalysis
from domain.complaints import (
    ASSIGN_COMPLAINT,
    CARRY_OUT_REMEDY,
    FOLLOW_UP_COMPLAINT,
    PRICE_REPLACEMENT,
    RECORD_COMPLAINT_EVENT,
    SEND_COMPLAINT_MESSAGE,
    CaseEvent,
    CaseMessage,
    ComplaintCase,
    ComplaintPolicy,
    FollowUp,
    Owner,
    OwnerRequest,
    RemedyKind,
    RemedyOrder,
    RemedyOutcome,
    ReplacementPrice,
    complaint_workflow_id,
)
from domain.notifications import Audience, Notification, Notified
from integrations.ports import Notifier, PaymentGateway
from persistence.database import Database
from persistence.idempotency import step_key, stored_result
from persistence.keys import link_token
from persistence.transactions import care, complaint_analysis, complaints, outbox
from persistence.transactions.complaint_surveys import survey_subject

log = structlog.get_logger(__name__)


class ComplaintActivities:
    """What a complaint case does outside its workflow."""

    def __init__(
        self,
        db: Database,
        gateway: PaymentGateway,
        notifier: Notifier,
        care_rules: CareRules | None = None,
        *,
        policy: ComplaintPolicy | None = None,
        link_secret: bytes = b"",
        console_url: str = "http://localhost:8080",
    ) -> None:
        self._db = db
        self._link_secret = link_secret
        self._console_url = console_url.rstrip("/")
        self._policy = policy or ComplaintPolicy()
        self._gateway = gateway
        self._notifier = notifier
        self._care_rules = care_rules or CareRules()

    @activity.defn(name=RECORD_COMPLAINT_EVENT)
    def record_complaint_event(self, event: CaseEvent) -> ComplaintCase:
        """Write the case's event and its state after it."""
        structlog.contextvars.bind_contextvars(complaint_id=event.case.id)
        return complaints.record_case_event(self._db, event)

    @activity.defn(name=ASSIGN_COMPLAINT)
    def assign_complaint_owner(self, request: OwnerRequest) -> Owner:
        """The user named, or the least busy customer-service user (None: team queue)."""
        structlog.contextvars.bind_contextvars(complaint_id=request.complaint_id)
        return Owner(owner=complaints.assign_owner(self._db, request))

    @activity.defn(name=SEND_COMPLAINT_MESSAGE)
    async def send_complaint_message(self, message: CaseMessage) -> Notified:
        """Send the customer a message about the case, once per key, and keep it in the
        notifications record under the case's workflow id (what support sees was sent)."""
        structlog.contextvars.bind_contextvars(complaint_id=message.complaint_id)
        case_id = complaint_workflow_id(message.complaint_id)
        key = step_key(case_id, message.key)
        done = await self._db.run(stored_result, self._db, key, Notified)
        if done is not None:
            return done
        to = await self._db.run(complaints.customer_address, self._db, message.customer_id)
        if not to:
            log.info("complaint message not sent: no customer to send it to")
            return Notified(reference="not sent: no customer linked to the complaint")
        text = message.message
        if message.survey_link:
            number = message.survey_number
            subject = survey_subject(message.complaint_id, number)
            token = link_token(self._link_secret, subject)
            text += f"\n\n{self._console_url}/survey/{message.complaint_id}/{number}/{token}"
        notification = Notification(
            order_id=case_id,
            key=message.key,
            audience=Audience.CUSTOMER,
            subject=message.subject,
            message=text,
        )
        reference = await self._notifier.send(
            idempotency_key=key,
            audience=notification.audience,
            subject=notification.subject,
            message=notification.message,
            to=to,
        )
        return await self._db.run(
            outbox.record_notification, self._db, notification, key, reference
        )

    @activity.defn(name=CARRY_OUT_REMEDY)
    async def carry_out_remedy(self, remedy: RemedyOrder) -> RemedyOutcome:
        """Book the remedy: a refund (credit note plus money back), a goodwill credit, or a
        replacement parcel taken from stock (the case then books and follows it)."""
        structlog.contextvars.bind_contextvars(
            complaint_id=remedy.complaint_id, order_id=remedy.order_id
        )
        key = complaints.remedy_key(remedy)
        if remedy.kind is RemedyKind.GOODWILL_CREDIT:
            return await self._db.run(complaints.book_goodwill_credit, self._db, remedy, key)
        if remedy.kind is RemedyKind.RESHIP:
            return await self._db.run(complaints.plan_replacement, self._db, remedy, key)
        done = await self._db.run(stored_result, self._db, key, RemedyOutcome)
        if done is not None:
            return done
        currency, _, how, capture = await self._db.run(complaints.plan_refund, self._db, remedy)
        if capture is not None:
            reference = await self._gateway.refund(
                idempotency_key=key, capture=capture, amount=remedy.amount, currency=currency
            )
        else:
            # Net terms: the customer paid by bank transfer; finance sends the money back.
            notification = Notification(
                order_id=complaint_workflow_id(remedy.complaint_id),
                key=f"remedy{remedy.number}:finance",
                audience=Audience.FINANCE,
                subject=f"Pay back {remedy.amount} {currency} for order {remedy.order_id}",
                message=f"Complaint #{remedy.complaint_id}: {remedy.reason} ({how}).",
            )
            reference = await self._notifier.send(
                idempotency_key=f"{key}:finance",
                audience=notification.audience,
                subject=notification.subject,
                message=notification.message,
            )
            await self._db.run(
                outbox.record_notification, self._db, notification, f"{key}:finance", reference
            )
        return await self._db.run(complaints.book_refund, self._db, remedy, reference, key)

    @activity.defn(name=PRICE_REPLACEMENT)
    def price_replacement(self, remedy: RemedyOrder) -> ReplacementPrice:
        """What the items to send again are worth at the order's prices."""
        structlog.contextvars.bind_contextvars(
            complaint_id=remedy.complaint_id, order_id=remedy.order_id
        )
        return complaints.price_replacement(self._db, remedy)

    @activity.defn(name=ANALYSE_COMPLAINTS)
    def analyse_complaints(self, request: AnalysisRequest) -> ComplaintAnalysis:
        """Compute the week's complaint analysis and keep it."""
        assert request.week_start is not None, "the workflow names the week"
        analysis = complaint_analysis.analyse_week(
            self._db, request.week_start, self._policy.calendar
        )
        log.info(
            "complaint analysis kept",
            week=str(request.week_start),
            complaints=analysis.complaints,
            recurring=[cause.code for cause in analysis.root_causes if cause.recurring],
        )
        return analysis

    @activity.defn(name=FOLLOW_UP_COMPLAINT)
    def follow_up_complaint(self, follow_up: FollowUp) -> list[CareTask]:
        """The care follow-up task of a closed case (none if one is open already)."""
        return care.create_complaint_follow_up(
            self._db,
            follow_up.customer_id,
            follow_up.complaint_id,
            follow_up.at,
            self._care_rules,
        )
