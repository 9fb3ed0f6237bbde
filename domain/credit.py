"""Credit review: may this order go ahead without a person looking at it?"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from domain.catalogue import CustomerProfile, PaymentTerms, Standing
from domain.escalation import EscalationLadder, EscalationRung
from domain.money import Amount
from domain.notifications import Audience
from domain.wording import N_, Wording

CHECK_CREDIT = "check_credit"
"""Activity: review credit and record the decision."""


class CreditOutcome(StrEnum):
    """The result of a credit review."""

    APPROVED = "approved"
    HOLD = "hold"
    """A person must approve or reject the order."""


class CreditDecision(BaseModel):
    """The decision and the figures it was based on."""

    outcome: CreditOutcome
    reason: str
    """Why, in English (``wording.english()``)."""
    wording: Wording | None = None
    """Why, as a catalogue message read in each reader's language."""
    exposure: Amount = Decimal(0)
    """Open receivables plus open orders of the customer, without this order."""
    credit_limit: Amount = Decimal(0)
    order_total: Amount = Decimal(0)


def _decision(outcome: CreditOutcome, wording: Wording, **figures: Decimal) -> CreditDecision:
    return CreditDecision(outcome=outcome, reason=wording.english(), wording=wording, **figures)


def decide_credit(
    customer: CustomerProfile, exposure: Decimal, order_total: Decimal
) -> CreditDecision:
    """Approve within policy, otherwise hold.

    Prepaid orders carry no credit risk: the payment authorisation is their check.
    Net-terms orders must fit under the credit limit with everything already open,
    and the customer must be in good standing.
    """
    figures = {
        "exposure": exposure,
        "credit_limit": customer.credit_limit,
        "order_total": order_total,
    }
    amounts: dict[str, str | int | Decimal] = {
        "exposure": exposure,
        "order": order_total,
        "limit": customer.credit_limit,
    }
    if customer.payment_terms is PaymentTerms.PREPAID:
        return _decision(
            CreditOutcome.APPROVED,
            Wording(message=N_("prepaid order: no credit extended")),
            **figures,
        )
    if customer.standing is Standing.WATCH:
        return _decision(
            CreditOutcome.HOLD, Wording(message=N_("customer is on credit watch")), **figures
        )
    if exposure + order_total > customer.credit_limit:
        return _decision(
            CreditOutcome.HOLD,
            Wording(
                message=N_(
                    "exposure %(exposure)s + order %(order)s exceeds credit limit %(limit)s"
                ),
                args=amounts,
            ),
            **figures,
        )
    return _decision(
        CreditOutcome.APPROVED,
        Wording(
            message=N_("exposure %(exposure)s + order %(order)s within limit %(limit)s"),
            args=amounts,
        ),
        **figures,
    )


APPROVE_SIGNAL = "approve"
"""Signal: support staff approve a held order (carries a :class:`StaffDecision`)."""
REJECT_SIGNAL = "reject"
"""Signal: support staff reject a held order (carries a :class:`StaffDecision`)."""


APPROVAL_LADDER = EscalationLadder(
    name=N_("credit hold"),
    rungs=(
        EscalationRung(
            name=N_("remind the assignee"), after=timedelta(hours=24), notify=Audience.ASSIGNEE
        ),
        EscalationRung(
            name=N_("escalate to a supervisor"),
            after=timedelta(hours=48),
            notify=Audience.SUPERVISOR,
        ),
        EscalationRung(name=N_("auto-reject"), after=timedelta(hours=72), notify=Audience.CUSTOMER),
    ),
)
"""While an order is held for approval: counted from the moment the hold began.

The last rung rejects the order, recording that nobody decided in time.
"""


def approval_subject(order_id: str, decision: CreditDecision) -> str:
    """The title of the messages the approval ladder sends about a held order."""
    return f"Order {order_id} held for approval ({decision.reason})"
