"""Read a customer's history for people: orders, what they buy, how they pay."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from domain.customers import (
    NOT_KEPT,
    CustomerHistory,
    OrderSummary,
    PaymentBehaviour,
    ProductShare,
    payment_behaviour,
)
from domain.orders import EventKind
from persistence.database import Database
from persistence.models import Order, OrderEventRow, OrderLine, Product
from persistence.transactions.credit_reviews import invoices_by_customer

DUNNING_LEVEL = re.compile(r"^dunning: .*\(level (\d+)\)$")


def customer_history(
    db: Database, customer_id: str, *, today: date, recent: int = 20
) -> CustomerHistory:
    """A customer's orders, products, channels and payment behaviour up to ``today``."""
    with db.reading() as session:
        orders = session.execute(
            select(
                Order.id, Order.created_at, Order.channel, Order.status, Order.total, Order.currency
            )
            .where(Order.customer_id == customer_id)
            .order_by(Order.created_at.desc())
        ).all()
        kept = [o for o in orders if o.status not in NOT_KEPT]
        dates = sorted(o.created_at for o in kept)
        gaps = [
            (later - earlier).total_seconds() / 86400
            for earlier, later in itertools.pairwise(dates)
        ]
        products = session.execute(
            select(
                OrderLine.sku,
                func.coalesce(Product.name, OrderLine.sku),
                func.coalesce(Product.category, ""),
                func.sum(OrderLine.quantity),
                func.sum(OrderLine.line_total),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .outerjoin(Product, Product.sku == OrderLine.sku)
            .where(Order.customer_id == customer_id, Order.status.not_in(NOT_KEPT))
            .group_by(OrderLine.sku, Product.name, Product.category)
            .order_by(func.sum(OrderLine.line_total).desc())
        ).all()
        shares = [
            ProductShare(sku=sku, name=name, category=category, units=int(units), spend=spend)
            for sku, name, category, units, spend in products
        ]
        categories: dict[str, Decimal] = {}
        for share in shares:
            categories[share.category] = categories.get(share.category, Decimal(0)) + share.spend
        return CustomerHistory(
            orders=len(orders),
            orders_kept=len(kept),
            spend=sum((o.total for o in kept), start=Decimal(0)),
            first_order_at=dates[0] if dates else None,
            last_order_at=dates[-1] if dates else None,
            usual_interval_days=statistics.median(gaps) if len(gaps) >= 2 else None,
            top_channel=Counter(o.channel for o in kept).most_common(1)[0][0] if kept else None,
            recent=[
                OrderSummary(
                    order_id=o.id,
                    created_at=o.created_at,
                    channel=o.channel,
                    status=o.status,
                    total=o.total,
                    currency=o.currency,
                )
                for o in orders[:recent]
            ],
            top_products=shares[:5],
            top_categories=sorted(categories.items(), key=lambda item: -item[1])[:3],
            payments=_payments(db, customer_id, today),
        )


def _payments(db: Database, customer_id: str, today: date) -> PaymentBehaviour:
    with db.reading() as session:
        # The credit score's own reading: paid when the money covered what was owed.
        invoices = invoices_by_customer(session, customer_id=customer_id).get(customer_id, [])
        # Details are encrypted at rest: the dunning ones are picked after decryption.
        details = session.scalars(
            select(OrderEventRow.detail)
            .join(Order, Order.id == OrderEventRow.order_id)
            .where(
                Order.customer_id == customer_id,
                OrderEventRow.kind == EventKind.ESCALATED.value,
            )
        ).all()
    rungs = [int(m.group(1)) for d in details if (m := DUNNING_LEVEL.match(d))]
    return payment_behaviour(invoices, today, highest_dunning_rung=max(rungs, default=0))
