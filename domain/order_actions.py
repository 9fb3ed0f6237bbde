"""What staff may still do to an order as it stands: one rule per action, kept once.

The order workflow refuses an action by these rules (an update answers with the
reason, a signal records it), and the console offers only the actions they let
through, so a page never shows a button the workflow would refuse. Each rule
reads the order's view and a :class:`Situation`: what the workflow knows for sure
(a cancellation under way, a staff decision taken, the parcels delivered,
something waiting on a deadline); the console reads the same from the view
(:func:`situation_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.catalogue import PaymentTerms
from domain.orders import EventKind, OrderStatus, OrderView, ShipmentView, SupplyView
from domain.shipping import ShipmentAction, ShipmentStatus
from domain.supply import SupplyStatus
from domain.wording import N_, Wording

STATUS_WORDS: dict[str, str] = {
    OrderStatus.RECEIVED: N_("RECEIVED"),
    OrderStatus.CONFIRMED: N_("CONFIRMED"),
    OrderStatus.REJECTED: N_("REJECTED"),
    OrderStatus.AWAITING_APPROVAL: N_("AWAITING_APPROVAL"),
    OrderStatus.APPROVED: N_("APPROVED"),
    OrderStatus.AWAITING_SUPPLY: N_("AWAITING_SUPPLY"),
    OrderStatus.ALLOCATED: N_("ALLOCATED"),
    OrderStatus.SHIPMENT_BOOKED: N_("SHIPMENT_BOOKED"),
    OrderStatus.DELIVERED: N_("DELIVERED"),
    OrderStatus.INVOICED: N_("INVOICED"),
    OrderStatus.PAID: N_("PAID"),
    OrderStatus.COMPLETED: N_("COMPLETED"),
    OrderStatus.CANCELLED: N_("CANCELLED"),
    OrderStatus.NEEDS_ATTENTION: N_("NEEDS_ATTENTION"),
    OrderStatus.FAILED: N_("FAILED"),
}
"""An order's status as a term of a refusal: the code itself, so that the English sentence
reads as it always did (``the order is COMPLETED already``); the catalogue gives each code
the words of its status label."""

PARCEL_STATE_WORDS: dict[str, str] = {
    ShipmentStatus.PLANNED: N_("planned"),
    ShipmentStatus.AWAITING_PACKING: N_("awaiting_packing"),
    ShipmentStatus.BOOKED: N_("booked"),
    ShipmentStatus.PICKED_UP: N_("picked_up"),
    ShipmentStatus.IN_TRANSIT: N_("in_transit"),
    ShipmentStatus.EXCEPTION: N_("exception"),
    ShipmentStatus.DELIVERED: N_("delivered"),
    ShipmentStatus.LOST: N_("lost"),
    ShipmentStatus.CANCELLED: N_("cancelled"),
}
"""A parcel's state (or a tracking milestone, which shares its codes) as a term, likewise."""


def status_term(status: str) -> str:
    """``status`` as a term: its catalogue code (an unknown one as it is)."""
    return STATUS_WORDS.get(status, status)


def parcel_term(state: str) -> str:
    """A parcel's ``state`` as a term (an unknown one as it is)."""
    return PARCEL_STATE_WORDS.get(state, state)


class OrderAction(StrEnum):
    """Something a person may do to an order (each a workflow update of the same name)."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETRY = "retry"
    EXTEND = "extend"
    PAY = "pay"


LEFT_THE_WAREHOUSE = frozenset(
    {
        ShipmentStatus.PICKED_UP.value,
        ShipmentStatus.IN_TRANSIT.value,
        ShipmentStatus.EXCEPTION.value,
        ShipmentStatus.DELIVERED.value,
        ShipmentStatus.LOST.value,
    }
)
"""Parcel states after which the order can no longer be cancelled (only returned)."""

PARCEL_DONE = frozenset(
    {ShipmentStatus.DELIVERED.value, ShipmentStatus.LOST.value, ShipmentStatus.CANCELLED.value}
)
"""Parcel states in which the parcel's workflow follows it no more."""

SUPPLY_DONE = frozenset({SupplyStatus.RECEIVED.value, SupplyStatus.CANCELLED.value})
"""Supply order states in which its workflow waits no more."""

DEADLINE_STATUSES = frozenset({OrderStatus.AWAITING_APPROVAL, OrderStatus.AWAITING_SUPPLY})
"""Statuses in which the order always waits under a ladder (the approval ladder; its supply
orders' ladders)."""

DELIVERED_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.PAID})
"""Open statuses reached only after every parcel was delivered."""


@dataclass(frozen=True)
class Situation:
    """What the rules need beyond the order's view."""

    cancelled_by: str | None = None
    """Who asked for the cancellation under way (None: none is)."""
    decided: tuple[bool, str] | None = None
    """The staff decision taken on a held order: approved or not, and by whom."""
    delivered: bool = False
    """Every parcel was delivered."""
    waits_on_deadline: bool = False
    """Something the order waits for escalates on a ladder whose deadline can move."""


def approval_refusal(view: OrderView, situation: Situation) -> Wording | None:
    """Why the order cannot be approved or rejected now (None: it can)."""
    if situation.cancelled_by is not None:
        return Wording(message=N_("the order is being cancelled"))
    if situation.decided is not None:
        approved, actor = situation.decided
        if approved:
            return Wording(
                message=N_("the order was approved by %(actor)s already"), args={"actor": actor}
            )
        return Wording(
            message=N_("the order was rejected by %(actor)s already"), args={"actor": actor}
        )
    if view.status is not OrderStatus.AWAITING_APPROVAL:
        return Wording(
            message=N_("the order is %(status)s, not held for approval"),
            terms={"status": status_term(view.status)},
        )
    return None


def cancel_refusal(view: OrderView, situation: Situation) -> Wording | None:
    """Why the order cannot be cancelled now (None: it can)."""
    if view.status.is_final:
        return Wording(
            message=N_("the order is %(status)s already"),
            terms={"status": status_term(view.status)},
        )
    if situation.cancelled_by is not None:
        return Wording(
            message=N_("cancellation by %(actor)s is under way"),
            args={"actor": situation.cancelled_by},
        )
    if situation.delivered:
        return Wording(message=N_("the order was delivered; file a return instead"))
    gone = [s for s in view.shipments if s.status in LEFT_THE_WAREHOUSE]
    if gone:
        return Wording(
            message=N_(
                "parcel %(parcel)s has left the warehouse (%(state)s); "
                "wait for delivery and file a return"
            ),
            args={"parcel": gone[0].shipment_id},
            terms={"state": parcel_term(gone[0].status)},
        )
    return None


def retry_refusal(view: OrderView) -> Wording | None:
    """Why there is nothing to retry (None: an undo step waits for a retry)."""
    if view.status is not OrderStatus.NEEDS_ATTENTION:
        return Wording(
            message=N_("the order is %(status)s: no undo step is waiting for a retry"),
            terms={"status": status_term(view.status)},
        )
    return None


def extension_refusal(view: OrderView, situation: Situation) -> Wording | None:
    """Why no deadline of the order can move now (None: one can); the new deadline itself
    is checked by the workflow, which knows the time."""
    if situation.cancelled_by is not None or view.status.is_final:
        return Wording(
            message=N_("the order is %(status)s"), terms={"status": status_term(view.status)}
        )
    if not situation.waits_on_deadline:
        return Wording(
            message=N_("the order is %(status)s: nothing waits on a deadline"),
            terms={"status": status_term(view.status)},
        )
    return None


def payment_refusal(view: OrderView) -> Wording | None:
    """Why no payment can be booked for the order (None: one can); a payment booked already
    is the workflow's to tell."""
    if view.status.is_final:
        return Wording(
            message=N_("the order is %(status)s"), terms={"status": status_term(view.status)}
        )
    if view.money.payment_terms == PaymentTerms.PREPAID.value:
        return Wording(message=N_("the order is prepaid: its payment is taken by card"))
    return None


def awaits_payment(view: OrderView) -> bool:
    """A net-terms invoice is issued and not paid in full: money received can be booked."""
    money = view.money
    return (
        money.payment_terms == PaymentTerms.NET.value
        and money.invoice_number is not None
        and money.received < money.total
    )


def receipt_refusal(supply: SupplyView | None) -> Wording | None:
    """Why a production or purchase order takes no delivery now (None: it does); a delivery
    note taken already is the workflow's to tell."""
    if supply is None or not supply.kind:
        return Wording(message=N_("the supply order is not placed yet; try again in a moment"))
    return None


def receivable(supply: SupplyView) -> bool:
    """A delivery can be booked for ``supply`` from the order's page: it is placed, open,
    and units are still to come."""
    return (
        receipt_refusal(supply) is None
        and supply.status == SupplyStatus.OPEN.value
        and supply.received < supply.quantity
    )


def resolution_refusal(asked: bool, lost: bool, action: ShipmentAction) -> Wording | None:
    """Why a parcel does not take ``action`` now (None: it does); ``asked``: the parcel waits
    for support's decision, ``lost``: it will not arrive."""
    if not asked:
        return Wording(message=N_("no decision is asked for this parcel"))
    if lost and action is ShipmentAction.WAIT:
        return Wording(message=N_("the parcel will not arrive: choose reship or refund"))
    return None


def parcel_decisions(parcel: ShipmentView) -> list[ShipmentAction]:
    """The decisions a parcel takes as its view shows it (none when it asks for none)."""
    asked = (
        parcel.needs_attention is not None
        and parcel.status not in PARCEL_DONE
        and parcel.status != ShipmentStatus.AWAITING_PACKING.value
    )
    lost = parcel.status == ShipmentStatus.EXCEPTION.value
    return [action for action in ShipmentAction if resolution_refusal(asked, lost, action) is None]


def situation_of(view: OrderView) -> Situation:
    """What the view tells of the order's situation (the workflow knows it for sure)."""
    cancelled_by = None
    decided = None
    delivered = view.status in DELIVERED_STATUSES
    for event in view.history:
        if event.kind == EventKind.CANCELLATION_REQUESTED:
            cancelled_by = event.actor
        elif event.kind in (EventKind.APPROVED_BY_STAFF, EventKind.REJECTED_BY_STAFF):
            decided = (event.kind == EventKind.APPROVED_BY_STAFF, event.actor)
        elif event.kind == EventKind.DELIVERED:
            delivered = True
    waits = (
        view.status in DEADLINE_STATUSES
        or (view.waiting is not None and view.waiting.ladder is not None)
        or any(s.status not in SUPPLY_DONE for s in view.supply)
        or any(p.status not in PARCEL_DONE for p in view.shipments)
    )
    return Situation(
        cancelled_by=cancelled_by, decided=decided, delivered=delivered, waits_on_deadline=waits
    )


def offered_actions(view: OrderView) -> list[OrderAction]:
    """The actions the workflow takes for the order as its view shows it, in the order a
    page offers them; a payment only while an invoice waits for it."""
    situation = situation_of(view)
    refusals = {
        OrderAction.APPROVE: approval_refusal(view, situation),
        OrderAction.REJECT: approval_refusal(view, situation),
        OrderAction.RETRY: retry_refusal(view),
        OrderAction.CANCEL: cancel_refusal(view, situation),
        OrderAction.EXTEND: extension_refusal(view, situation),
        OrderAction.PAY: payment_refusal(view)
        if awaits_payment(view)
        else Wording(message=N_("nothing is owed")),
    }
    return [action for action, refusal in refusals.items() if refusal is None]
