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
    exposure: Amount = Decimal(0)
    """Open receivables plus open orders of the customer, without this order."""
    credit_limit: Amount = Decimal(0)
    order_total: Amount = Decimal(0)


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
    if customer.payment_terms is PaymentTerms.PREPAID:
        return CreditDecision(
            outcome=CreditOutcome.APPROVED, reason="prepaid order: no credit extended", **figures
        )
    if customer.standing is Standing.WATCH:
        return CreditDecision(
            outcome=CreditOutcome.HOLD, reason="customer is on credit watch", **figures
        )
    if exposure + order_total > customer.credit_limit:
        return CreditDecision(
            outcome=CreditOutcome.HOLD,
            reason=(
                f"exposure {exposure} + order {order_total} exceeds "
                f"credit limit {customer.credit_limit}"
            ),
            **figures,
        )
    return CreditDecision(
        outcome=CreditOutcome.APPROVED,
        reason=f"exposure {exposure} + order {order_total} within limit {customer.credit_limit}",
        **figures,
    )


APPROVE_SIGNAL = "approve"
"""Signal: support staff approve a held order (carries a :class:`StaffDecision`)."""
REJECT_SIGNAL = "reject"
"""Signal: support staff reject a held order (carries a :class:`StaffDecision`)."""


APPROVAL_LADDER = EscalationLadder(
    name="credit hold",
    rungs=(
        EscalationRung(
            name="remind the assignee", after=timedelta(hours=24), notify=Audience.ASSIGNEE
        ),
        EscalationRung(
            name="escalate to a supervisor", after=timedelta(hours=48), notify=Audience.SUPERVISOR
        ),
        EscalationRung(name="auto-reject", after=timedelta(hours=72), notify=Audience.CUSTOMER),
    ),
)
"""While an order is held for approval: counted from the moment the hold began.

The last rung rejects the order, recording that nobody decided in time.
"""


def approval_subject(order_id: str, decision: CreditDecision) -> str:
    """The title of the messages the approval ladder sends about a held order."""
    return f"Order {order_id} held for approval ({decision.reason})"
