"""Shared by every business transaction: audit events, status writes, row-to-domain views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, update
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from domain.catalogue import CustomerProfile, PaymentTerms, ProductInfo, Sourcing, Standing
from domain.orders import EventKind, OrderStatus
from domain.wording import N_, Wording
from persistence.models import Customer, Order, OrderEventRow, Product, table_of

UNKNOWN_ORDER = "UnknownOrder"
"""ApplicationError type: an activity was asked about an order that was never received."""

# Every step writes an audit event and most change the order row: the statements are
# built once and take their values as parameters. Building a statement per call (and
# the ORM's bulk path for a mapped class) cost more CPU than running it.
_EVENTS = table_of(OrderEventRow)
_ORDERS = table_of(Order)
_INSERT_EVENT = insert(_EVENTS)
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("order_key"))
"""The columns it sets are the parameters it is given besides ``order_key``."""
_UPDATE_ORDER_STATUS = _UPDATE_ORDER.values(
    status_since=case(
        (_ORDERS.c.status == bindparam("new_status"), _ORDERS.c.status_since),
        else_=bindparam("since", type_=_ORDERS.c.status_since.type),
    )
)
"""The same, for a status write: ``status_since`` moves only when the status changes."""
_RAISE_ESCALATION = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_key"), _ORDERS.c.escalation_level < bindparam("level"))
    .values(escalation_level=bindparam("level"))
)


_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("oms_clock", default=None)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC: what every business transaction stamps rows
    with (the clock of :func:`clock_of` where one is set)."""
    clock = _CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


@contextmanager
def clock_of(clock: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, transactions in this context stamp rows with ``clock()`` instead
    of the wall clock: how ``oms demo-history`` writes a past through the same functions
    the workers use."""
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)


def write_event(
    session: Session,
    order_id: str,
    kind: EventKind | str,
    detail: str | Wording = "",
    *,
    wording: Wording | None = None,
    actor: str = "system",
    status: OrderStatus | None = None,
    **order_values: Any,
) -> None:
    """Append an audit event; with ``status`` (or other values) also update the order row.

    A ``detail`` given as a wording is kept as its English sentence and as the wording
    (``wording`` is the wording of a ``detail`` given as text); wordings among
    ``order_values`` (``needs_attention_wording``) are stored as JSON."""
    now = utcnow()
    if isinstance(detail, Wording):
        wording, detail = detail, detail.english()
    session.execute(
        _INSERT_EVENT,
        {
            "order_id": order_id,
            "kind": str(kind),
            "detail": detail,
            "wording": stored_wording(wording),
            "actor": actor,
            "created_at": now,
        },
    )
    for name, value in order_values.items():
        if isinstance(value, Wording):
            order_values[name] = stored_wording(value)
    if status is not None:
        order_values["status"] = status.value
        if status.is_final:
            # A finished order (completed, cancelled, rejected, failed) will never be
            # charged again: its payment token is dropped with the final status.
            order_values["payment_token"] = None
    if unknown := order_values.keys() - _ORDERS.c.keys():
        # The prebuilt UPDATE would skip them without a word.
        raise ValueError(f"orders has no column(s) {', '.join(sorted(unknown))}")
    if status is not None:
        session.execute(
            _UPDATE_ORDER_STATUS,
            {
                "order_key": order_id,
                "updated_at": now,
                "new_status": status.value,
                "since": now,
                **order_values,
            },
        )
    elif order_values:
        session.execute(_UPDATE_ORDER, {"order_key": order_id, "updated_at": now, **order_values})


def stored_wording(wording: Wording | None) -> str | None:
    """How a wording is kept in a column: its JSON document (None stays NULL)."""
    return None if wording is None else wording.model_dump_json(exclude_defaults=True)


def listing(wordings: Iterable[Wording]) -> Wording:
    """Wordings one after the other, as a list reads in the reader's language
    (``a, b, c`` in English)."""
    items = list(wordings)
    listed = items[0]
    for item in items[1:]:
        listed = Wording(
            message=N_("%(earlier)s, %(next)s"), parts={"earlier": listed, "next": item}
        )
    return listed


def read_wording(stored: str | None) -> Wording | None:
    """A wording kept by :func:`stored_wording`; None for NULL and for anything unreadable
    (the row's plain text is shown then)."""
    if not stored:
        return None
    try:
        return Wording.model_validate_json(stored)
    except ValueError:
        return None


def raise_escalation_level(session: Session, order_id: str, level: int) -> None:
    """Show ``level`` on the order unless it already shows a higher one.

    Several waits (the order's, its supply's and its parcels') escalate
    independently: the order shows the highest level any of them reached.
    """
    session.execute(_RAISE_ESCALATION, {"order_key": order_id, "level": level})


def load_order(session: Session, order_id: str) -> Order:
    """The order row, or a non-retryable error naming the order."""
    order = session.get(Order, order_id)
    if order is None:
        raise ApplicationError(
            f"order {order_id!r} is not in the business database",
            type=UNKNOWN_ORDER,
            non_retryable=True,
        )
    return order


def customer_profile(row: Customer) -> CustomerProfile:
    """The domain view of a customer row."""
    return CustomerProfile(
        customer_id=row.id,
        active=row.active,
        standing=Standing(row.standing),
        payment_terms=PaymentTerms(row.payment_terms),
        net_days=row.net_days,
        credit_limit=row.credit_limit,
        currency=row.currency,
    )


def product_info(row: Product) -> ProductInfo:
    """The domain view of a product row."""
    return ProductInfo(
        sku=row.sku,
        name=row.name,
        unit_price=row.unit_price,
        currency=row.currency,
        active=row.active,
        sourcing=Sourcing(row.sourcing),
        lead_time_days=row.lead_time_days,
    )
