"""Marketing campaigns: a message to the customers of a segment (plus filters), sent
through the notifier only to those with marketing consent, each at most once, at a
configured rate, by one durable ``CampaignWorkflow`` per campaign.

A share of the audience is held out as a control group (chosen by a hash of the
campaign and the customer, so it is the same however often it is computed) and gets
nothing. The campaign's response is the share of each group that ordered in the
``response_days`` after the sending ended: the difference is what the campaign did.

Consent is read again for every message as it is sent, so an unsubscribe (the link in
every message, or a changed record) takes effect at once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.messages import InboundMessage
from domain.segments import Abc, Segment


class CampaignStatus(StrEnum):
    """Where a campaign stands."""

    SENDING = "sending"
    PAUSED = "paused"
    MEASURING = "measuring"
    """Sent; waiting out the response window."""
    FINISHED = "finished"
    CANCELLED = "cancelled"


class CampaignDefinition(InboundMessage):
    """A campaign as a marketer defines it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=120)]
    segment: Segment | None = None
    """Only customers in this segment; None: every segment."""
    abc: Abc | None = None
    tag: Annotated[str, Field(max_length=64)] = ""
    """Only customers carrying this tag; empty: any."""
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    message: Annotated[str, Field(min_length=1, max_length=5000)]
    rate_per_minute: Annotated[int, Field(ge=1, le=6000)] = 60
    control_share: Annotated[Decimal, Field(ge=0, le=Decimal("0.5"), decimal_places=2)] = Decimal(
        "0.10"
    )
    response_days: Annotated[int, Field(ge=1, le=90)] = 14


def in_control_group(campaign_id: int, customer_id: str, share: Decimal) -> bool:
    """Whether the customer is held out of the campaign (stable for the pair)."""
    digest = hashlib.sha256(f"campaign-{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


CAMPAIGN_WORKFLOW_TYPE = "CampaignWorkflow"
PAUSE_CAMPAIGN = "pause_campaign"
RESUME_CAMPAIGN = "resume_campaign"
CANCEL_CAMPAIGN = "cancel_campaign"
"""Staff actions on a running campaign (updates: the name plus ``_now``)."""
SELECT_AUDIENCE = "select_campaign_audience"
"""Activity: choose the campaign's recipients and control group, once."""
SEND_CAMPAIGN_BATCH = "send_campaign_batch"
"""Activity: send the next messages (up to the rate), each once."""
MEASURE_CAMPAIGN = "measure_campaign"
"""Activity: count the orders of the targeted customers and the control group."""
RECORD_CAMPAIGN_STATUS = "record_campaign_status"


def campaign_workflow_id(campaign_id: int) -> str:
    """The workflow id of campaign ``campaign_id``."""
    return f"campaign-{campaign_id}"


class CampaignStart(BaseModel):
    """Input of the campaign's workflow (and of each run it continues as)."""

    campaign_id: int
    rate_per_minute: int
    response_days: int
    paused: bool = False
    sent: int = 0
    skipped: int = 0


class CampaignAction(InboundMessage):
    """Pause, resume or cancel: who asks."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    actor: Annotated[str, Field(min_length=1, max_length=64)]


class AudienceChosen(BaseModel):
    """Result of :data:`SELECT_AUDIENCE`."""

    targeted: int
    control: int


class BatchRequest(BaseModel):
    """Input of :data:`SEND_CAMPAIGN_BATCH`."""

    campaign_id: int
    limit: int


class BatchSent(BaseModel):
    """Result of :data:`SEND_CAMPAIGN_BATCH`."""

    sent: int
    skipped: int
    """Recipients who withdrew consent (or were erased or deactivated) before their turn."""
    remaining: int


class CampaignStatusChange(BaseModel):
    """Input of :data:`RECORD_CAMPAIGN_STATUS`."""

    campaign_id: int
    status: CampaignStatus
    actor: str = "system"
    at: datetime


class CampaignResponse(BaseModel):
    """Reach and response of a campaign."""

    targeted: int
    sent: int
    skipped: int
    control: int
    targeted_ordered: int
    """Targeted customers who were sent the message and ordered in the window."""
    control_ordered: int
    response_rate: float | None
    control_rate: float | None
    uplift: float | None
    """Response rate minus the control group's."""


class CampaignView(BaseModel):
    """A campaign as the console shows it."""

    id: int
    definition: CampaignDefinition
    status: CampaignStatus
    created_by: str
    created_at: datetime
    sent_until: datetime | None
    response: CampaignResponse
