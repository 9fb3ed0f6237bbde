"""A campaign's steps: its audience chosen, messages sent through the notifier (each once,
consent read again just before), its status and response recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import structlog
from temporalio import activity

from domain.campaigns import (
    MEASURE_CAMPAIGN,
    RECORD_CAMPAIGN_STATUS,
    SELECT_AUDIENCE,
    SEND_CAMPAIGN_BATCH,
    AudienceChosen,
    BatchRequest,
    BatchSent,
    CampaignResponse,
    CampaignStatusChange,
    campaign_workflow_id,
)
from domain.notifications import Audience, Notification, Notified
from integrations.ports import Notifier
from persistence.database import Database
from persistence.idempotency import step_key, stored_result
from persistence.transactions import campaigns, outbox

log = structlog.get_logger(__name__)


class CampaignActivities:
    """Choose, send, measure."""

    def __init__(
        self, db: Database, notifier: Notifier, *, link_secret: bytes, console_url: str
    ) -> None:
        self._db = db
        self._notifier = notifier
        self._secret = link_secret
        self._console_url = console_url.rstrip("/")

    @activity.defn(name=SELECT_AUDIENCE)
    def select_campaign_audience(self, campaign_id: int) -> AudienceChosen:
        """Choose the recipients and the control group, once."""
        return campaigns.choose_audience(self._db, campaign_id)

    @activity.defn(name=SEND_CAMPAIGN_BATCH)
    async def send_campaign_batch(self, batch: BatchRequest) -> BatchSent:
        """Write to the next recipients, up to the batch's limit: each whose consent still
        stands gets the message once (its outbox key and the notifier's idempotency key
        are the campaign and the customer), each whose consent went is skipped."""
        definition = await self._db.run(campaigns.campaign_definition, self._db, batch.campaign_id)
        subject_of = campaign_workflow_id(batch.campaign_id)
        sent = skipped = 0
        turns = await self._db.run(
            campaigns.next_recipients, self._db, batch.campaign_id, batch.limit
        )
        for customer_id in turns:
            activity.heartbeat(customer_id)
            key = step_key(subject_of, f"message:{customer_id}")
            done = await self._db.run(stored_result, self._db, key, Notified)
            # Consent is read just before each message, not once for the batch: a customer
            # who unsubscribed while the batch ran gets nothing more. (A message the outbox
            # holds was sent before; its turn is recorded as sent.)
            if done is None and not await self._db.run(
                campaigns.may_write_to, self._db, customer_id
            ):
                await self._db.run(
                    campaigns.record_turn, self._db, batch.campaign_id, customer_id, reference=None
                )
                skipped += 1
                continue
            if done is None:
                message = f"{definition.message}\n\n{self._unsubscribe_line(customer_id)}"
                reference = await self._notifier.send(
                    idempotency_key=key,
                    audience=Audience.CUSTOMER,
                    subject=definition.subject,
                    message=message,
                    to=customer_id,
                )
                done = await self._db.run(
                    outbox.record_notification,
                    self._db,
                    Notification(
                        order_id=subject_of,
                        key=f"message:{customer_id}",
                        audience=Audience.CUSTOMER,
                        subject=definition.subject,
                        message=message,
                    ),
                    key,
                    reference,
                )
            await self._db.run(
                campaigns.record_turn,
                self._db,
                batch.campaign_id,
                customer_id,
                reference=done.reference,
            )
            sent += 1
        remaining = await self._db.run(campaigns.pending_count, self._db, batch.campaign_id)
        log.info(
            "campaign batch sent",
            campaign=batch.campaign_id,
            sent=sent,
            skipped=skipped,
            remaining=remaining,
        )
        return BatchSent(sent=sent, skipped=skipped, remaining=remaining)

    @activity.defn(name=MEASURE_CAMPAIGN)
    def measure_campaign(self, campaign_id: int) -> CampaignResponse:
        """Reach and response against the control group."""
        return campaigns.campaign_response(self._db, campaign_id, datetime.now(UTC))

    @activity.defn(name=RECORD_CAMPAIGN_STATUS)
    def record_campaign_status(self, change: CampaignStatusChange) -> str:
        """The campaign's status in the business database."""
        campaigns.record_status(self._db, change)
        return change.status.value

    def _unsubscribe_line(self, customer_id: str) -> str:
        token = campaigns.unsubscribe_token(self._secret, customer_id)
        link = f"{self._console_url}/unsubscribe/{quote(customer_id)}/{token}"
        return f"No more of these? Unsubscribe: {link}"
