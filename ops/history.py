"""``oms demo-history``: a realistic past for lists, reports and forecasts to work with.

The past is written through the business transactions the workers use
(:mod:`persistence.transactions`), step by step in the order an order's
workflow takes them, each stamped with the moment it happened
(:func:`persistence.transactions.records.clock_of`). Every order's steps are
scheduled on one time line, so stock, credit exposure and voucher numbers
develop as they would have. Nothing is written behind the transactions' back,
so every invariant of ``oms check`` holds afterwards.

Every history order is finished by now (completed, cancelled or rejected):
an order placed shortly before now has its later steps brought forward so it
ends before now. Orders still under way belong to running workflows; ``--open``
submits some through Temporal like any channel does.

What it writes, repeatably for a seed: customers of several kinds (businesses
on net terms, consumers paying in advance, a few on credit watch), products
with seasonal, steady and intermittent demand, goods receipts that keep stock
ahead of demand, credit holds approved or rejected by support, cancellations,
late parcels and invoices paid in instalments or late.

Where an order waits, the history climbs the escalation ladder its workflow
waits under (the credit hold's, a late parcel's, a late payment's dunning), and
each rung that falls due before the wait ends writes what the workflow writes
(:func:`domain.escalation.rung_notice`): its message in the notifications
outbox and its event in the order's audit log.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, select

from domain.catalogue import PaymentTerms, Sourcing, Standing
from domain.credit import APPROVAL_LADDER, CreditOutcome, approval_subject
from domain.escalation import (
    EscalationLadder,
    EscalationRung,
    climb,
    due_rung,
    rung_notice,
    start_ladder,
)
from domain.intake import StatusChange
from domain.inventory import MovementKind, StockReason
from domain.notifications import NOTIFY, Notification
from domain.orders import (
    Channel,
    EventKind,
    OrderStatus,
    OrderSubmission,
    ShippingAddress,
    SubmittedLine,
)
from domain.settlement import (
    AUTHORISE_PAYMENT,
    CAPTURE_PAYMENT,
    DUNNING_LADDER,
    VOID_AUTHORISATION,
    IncomingPayment,
    PaymentBooking,
    PaymentKind,
    dunning_message,
    dunning_subject,
)
from domain.shipping import (
    BOOK_SHIPMENT,
    DELIVERY_DELAY_LADDER,
    Milestone,
    MilestoneRecord,
    ShipmentBooking,
    TrackingEvent,
    parcel_subject,
    parcel_subject_wording,
)
from domain.wording import N_, Wording
from ops.submissions import submit
from persistence.database import Database
from persistence.demo_catalogue import add_catalogue, seed_demo_catalogue
from persistence.idempotency import step_key
from persistence.migrate import upgrade
from persistence.models import Customer, Order, StockLevel
from persistence.transactions.archive import archive_order
from persistence.transactions.credit import check_credit
from persistence.transactions.intake import receive_order, record_order_status
from persistence.transactions.money import (
    book_payment,
    issue_invoice,
    issue_receipt,
    record_incoming_payment,
)
from persistence.transactions.outbox import record_notification
from persistence.transactions.parcels import plan_shipments, record_booking, record_milestone
from persistence.transactions.records import clock_of
from persistence.transactions.stock import (
    change_stock,
    ensure_stock_level,
    release_reservations,
    reserve_stock,
)
from runtime.settings import Settings
from runtime.temporal import connect
from runtime.workers import open_database

HISTORY_ACTOR = "history"
"""Who the history's staff decisions are recorded as."""

HISTORY_CARRIER = "simulated-carrier"
HISTORY_RUN = "demo-history"
"""The run id the history's orders are taken in under (no workflow ran them)."""

STEPS_PER_COMMIT = 2_000
"""Steps written in one transaction: one commit per batch, all or nothing."""


class HistoryError(ValueError):
    """The history cannot be written as asked; the message says why."""


@dataclass(frozen=True)
class Demand:
    """How a product sells: lines per day at the average, a yearly wave, intermittency."""

    sku: str
    name: str
    unit_price: Decimal
    sourcing: Sourcing
    lead_time_days: int
    weight: float
    """Share of order lines on an average day, relative to the other products."""
    season: float = 0.0
    """Amplitude of the yearly wave: 0.5 sells 50 % more at the peak, 50 % less at the trough."""
    peak_day: int = 0
    """Day of the year the wave peaks (e.g. 340 for the weeks before Christmas)."""
    sells_on: float = 1.0
    """Probability that the product sells at all on a given day (intermittent demand)."""
    units: tuple[int, int] = (1, 5)
    """Units per line, from .. to."""
    warehouse: str = "WH-BER"


HISTORY_PRODUCTS = (
    Demand("WIDGET-1", "Widget, steel", Decimal("19.90"), Sourcing.STOCK, 0, 30, units=(1, 20)),
    Demand("GADGET-2", "Gadget, deluxe", Decimal("249.00"), Sourcing.BUY, 10, 6, 0.5, 340),
    Demand(
        "BOLT-M8",
        "Bolt M8 (box of 100)",
        Decimal("7.45"),
        Sourcing.MAKE,
        5,
        25,
        units=(2, 40),
        warehouse="WH-HAM",
    ),
    Demand(
        "PANEL-X",
        "Control panel X",
        Decimal("1290.00"),
        Sourcing.MAKE,
        21,
        1,
        sells_on=0.15,
        units=(1, 2),
        warehouse="WH-HAM",
    ),
    Demand("LAMP-S", "Desk lamp S", Decimal("39.00"), Sourcing.BUY, 14, 8, 0.6, 320),
    Demand("FAN-12", 'Table fan 12"', Decimal("54.00"), Sourcing.BUY, 20, 7, 0.8, 190),
    Demand("HEATER-2K", "Heater 2 kW", Decimal("89.00"), Sourcing.BUY, 20, 6, 0.8, 15),
    Demand("CABLE-5M", "Power cable 5 m", Decimal("6.90"), Sourcing.STOCK, 0, 20, units=(1, 30)),
    Demand(
        "GLOVE-L",
        "Work gloves L (pair)",
        Decimal("4.20"),
        Sourcing.STOCK,
        0,
        15,
        0.2,
        300,
        units=(5, 50),
        warehouse="WH-HAM",
    ),
    Demand("DRILL-P", "Drill, professional", Decimal("310.00"), Sourcing.BUY, 15, 3, 0.3, 120),
    Demand(
        "PUMP-H",
        "Hydraulic pump H",
        Decimal("2150.00"),
        Sourcing.MAKE,
        30,
        0.6,
        sells_on=0.08,
        units=(1, 1),
        warehouse="WH-HAM",
    ),
    Demand(
        "VALVE-3",
        "Valve DN32",
        Decimal("64.50"),
        Sourcing.MAKE,
        12,
        4,
        sells_on=0.4,
        units=(2, 12),
        warehouse="WH-HAM",
    ),
)

COUNTRIES = ("DE", "DE", "DE", "AT", "CH", "NL", "FR", "TW", "TW")
FIRST = (
    "Anna",
    "Ben",
    "Chen",
    "Daniel",
    "Emma",
    "Felix",
    "Hui-Min",
    "Jonas",
    "Lena",
    "Mei",
    "Noah",
    "Olivia",
    "Paul",
    "Sofia",
    "Wei",
    "Yu-Ting",
)
LAST = (
    "Bauer",
    "Chang",
    "Fischer",
    "Huang",
    "Keller",
    "Lin",
    "Meyer",
    "Schmidt",
    "Wang",
    "Weber",
    "Wu",
    "Zimmermann",
)
FIRM = (
    "Alpen",
    "Nordlicht",
    "Delta",
    "Formosa",
    "Hansa",
    "Jade",
    "Lotus",
    "Rhein",
    "Summit",
    "Taipei",
    "Vega",
    "Zenith",
)
TRADE = ("Hardware", "Technik", "Trading", "Supplies", "Industrie", "Electric", "Handel")
FORM = ("GmbH", "AG", "KG", "Ltd", "B.V.", "Co., Ltd.")
STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Industrieweg",
    "Hafenstraße",
    "Zhongshan Rd",
    "Minsheng Rd",
    "Marktplatz",
    "Kanaalweg",
)
CITIES = {
    "DE": ("Berlin", "Hamburg", "Köln", "München"),
    "AT": ("Wien", "Graz"),
    "CH": ("Zürich", "Basel"),
    "NL": ("Rotterdam", "Utrecht"),
    "FR": ("Lyon", "Lille"),
    "TW": ("Taipei", "Taichung", "Kaohsiung"),
}


class CustomerKind(BaseModel):
    """A kind of customer: how many there are, how they pay and how they order."""

    name: str
    share: float
    terms: PaymentTerms
    standing: Standing = Standing.GOOD
    credit_limit: tuple[int, int] = (0, 0)
    net_days: int = 0
    lines: tuple[int, int] = (1, 2)
    channels: tuple[Channel, ...] = (Channel.WEB,)
    activity: float = 1.0
    """How often one such customer orders, relative to a consumer."""
    pays_late: float = 0.1
    """Share of invoices paid after their due date."""


CUSTOMER_KINDS = (
    CustomerKind(
        name="business",
        share=0.35,
        terms=PaymentTerms.NET,
        net_days=30,
        credit_limit=(8_000, 80_000),
        lines=(1, 5),
        activity=6.0,
        channels=(Channel.EDI, Channel.EDI, Channel.PHONE, Channel.FAX, Channel.WEB),
    ),
    CustomerKind(
        name="small business",
        share=0.2,
        terms=PaymentTerms.NET,
        net_days=14,
        credit_limit=(1_500, 6_000),
        lines=(1, 3),
        activity=2.0,
        pays_late=0.25,
        channels=(Channel.PHONE, Channel.FAX, Channel.WEB),
    ),
    CustomerKind(
        name="consumer",
        share=0.4,
        terms=PaymentTerms.PREPAID,
        lines=(1, 2),
        channels=(Channel.WEB, Channel.WEB, Channel.WEB, Channel.PHONE),
    ),
    CustomerKind(
        name="on credit watch",
        share=0.05,
        terms=PaymentTerms.NET,
        net_days=30,
        standing=Standing.WATCH,
        credit_limit=(2_000, 10_000),
        lines=(1, 3),
        activity=1.5,
        pays_late=0.5,
        channels=(Channel.PHONE, Channel.FAX),
    ),
)

HISTORY_COST_SHARE = Decimal("0.55")
"""A unit's cost as a share of its list price."""
TYPICAL_ORDER_VALUE = Decimal("1500")
"""About what a business order is worth (the credit limits are set from it)."""

# Shares of orders that take another road than the straight one.
CANCELLED_SHARE = 0.025
INVALID_SHARE = 0.005
"""Orders naming a discontinued product: rejected at intake with the reason."""
HOLD_REJECTED_SHARE = 0.35
"""Of the orders held for credit review, the share support rejects."""
LATE_PARCEL_SHARE = 0.08
PROMISED_HOURS = 120
"""The carrier's promise: delivered within five days of booking."""
INSTALMENT_SHARE = 0.12
"""Net-terms invoices paid in two parts."""


class HistorySummary(BaseModel):
    """What ``oms demo-history`` wrote."""

    orders: int
    customers: int
    first_day: date
    last_day: date
    by_status: dict[str, int]
    late_deliveries: int
    """Orders delivered after the carrier's promise."""
    instalments: int
    goods_receipts: int
    escalations: int = 0
    """Rungs of escalation ladders that fell due: credit holds, late parcels, dunning."""
    seconds: float
    submitted: int = 0
    """New orders handed to Temporal (``--open``)."""


@dataclass
class _Customer:
    id: str
    kind: CustomerKind
    country: str
    address: ShippingAddress
    weight: float


@dataclass
class _Order:
    """One order of the history and the road it takes."""

    order_id: str
    placed_at: datetime
    customer: _Customer
    channel: Channel
    lines: list[SubmittedLine]
    reference: str | None
    cancelled: bool
    late: bool
    instalments: bool
    paid_late: bool
    hold_rejected: bool
    delays: dict[str, timedelta] = field(default_factory=dict)


def write_history(
    db: Database,
    *,
    orders: int,
    days: int,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> HistorySummary:
    """Write ``orders`` finished orders placed over the ``days`` before ``now``.

    ``progress(finished, planned)`` is called after each committed batch.
    Refuses (:class:`HistoryError`) when the database already holds history of
    this seed's customers, so running it twice never doubles the past.
    """
    if orders < 1 or days < 1:
        raise HistoryError("--orders and --days must be at least 1")
    started = time.monotonic()
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    prefix = f"H{seed}"
    with db.reading() as session:
        if session.scalar(
            select(func.count()).select_from(Order).where(Order.id.startswith(f"{prefix}-"))
        ):
            raise HistoryError(
                f"this database already holds the history of seed {seed} "
                f"(orders {prefix}-…); use another --seed or a fresh database"
            )
        known = set(session.scalars(select(Customer.id)))
    customers = _customers(rng, prefix, max(12, orders // 40))
    total_weight = sum(c.weight for c in customers)
    seed_demo_catalogue(db)
    add_catalogue(
        db,
        customers=[
            _customer_row(c, orders / days * c.weight / total_weight)
            for c in customers
            if c.id not in known
        ],
        products=[_product_row(p) for p in HISTORY_PRODUCTS],
    )
    first_day = (now - timedelta(days=days)).date()
    plan = _plan_orders(rng, prefix, customers, orders, first_day, now)
    writer = _Writer(db, now)
    writer.run(plan, first_day, progress or (lambda finished, planned: None))
    by_status = Counter(writer.ends.values())
    return HistorySummary(
        orders=len(plan),
        customers=len(customers),
        first_day=first_day,
        last_day=max(order.placed_at for order in plan).date(),
        by_status=dict(sorted(by_status.items())),
        late_deliveries=sum(
            order.late
            for order in plan
            if writer.ends[order.order_id] == OrderStatus.COMPLETED.value
        ),
        instalments=writer.instalments,
        goods_receipts=writer.receipts,
        escalations=writer.escalations,
        seconds=round(time.monotonic() - started, 1),
    )


async def write_demo_history(
    settings: Settings,
    orders: int,
    days: int,
    seed: int,
    open_orders: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> HistorySummary:
    """``oms demo-history``: migrate, write the past, then submit ``open_orders`` new ones."""
    settings.prepare_data_dir()
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    async with open_database(settings) as db:
        summary = await db.run(
            functools.partial(write_history, progress=progress),
            db,
            orders=orders,
            days=days,
            seed=seed,
        )
        if open_orders:
            client = await connect(settings)
            for submission in open_submissions(seed, open_orders, orders=orders):
                await submit(client, submission, db)
            summary.submitted = open_orders
    return summary


def open_submissions(seed: int, count: int, *, orders: int) -> list[OrderSubmission]:
    """``count`` orders placed now by the history's customers of ``seed`` (the same ones
    :func:`write_history` made for ``orders``), for the pipeline to take through Temporal."""
    rng = random.Random(seed)
    prefix = f"H{seed}"
    customers = _customers(rng, prefix, max(12, orders // 40))
    now = datetime.now(UTC)
    weights = [product.weight for product in HISTORY_PRODUCTS]
    submissions = []
    for number in range(1, count + 1):
        customer = rng.choices(customers, weights=[c.weight for c in customers])[0]
        order = _order(rng, prefix, customer, now.date(), number, now, weights)
        submissions.append(_submission(order, f"{prefix}-OPEN-{now:%Y%m%d%H%M%S}-{number:03d}"))
    return submissions


def _submission(order: _Order, order_id: str | None = None) -> OrderSubmission:
    customer = order.customer
    prepaid = customer.kind.terms is PaymentTerms.PREPAID
    return OrderSubmission(
        order_id=order_id or order.order_id,
        channel=order.channel,
        customer_id=customer.id,
        lines=order.lines,
        shipping_address=customer.address,
        customer_reference=order.reference,
        payment_token="SIMTOK-history" if prepaid else None,
    )


# --- the plan: who orders what, when, and which road each order takes -----------------


def _customers(rng: random.Random, prefix: str, count: int) -> list[_Customer]:
    kinds = rng.choices(CUSTOMER_KINDS, weights=[k.share for k in CUSTOMER_KINDS], k=count)
    made = []
    for number, kind in enumerate(kinds, start=1):
        country = rng.choice(COUNTRIES)
        if kind.terms is PaymentTerms.PREPAID:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            name = f"{rng.choice(FIRM)} {rng.choice(TRADE)} {rng.choice(FORM)}"
        address = ShippingAddress(
            name=name,
            street=f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
            postal_code=f"{rng.randint(10000, 99999)}",
            city=rng.choice(CITIES[country]),
            country=country,
        )
        # A few customers bring most orders (a long tail, as in any trade).
        weight = kind.activity * rng.paretovariate(1.6)
        made.append(_Customer(f"{prefix}-C{number:05d}", kind, country, address, weight))
    return made


def _customer_row(customer: _Customer, orders_per_day: float) -> dict[str, object]:
    """The customer's row; most credit limits cover what they usually owe, some fall short
    (their larger orders wait for a credit review)."""
    kind = customer.kind
    draw = random.Random(customer.id)
    low, high = kind.credit_limit
    limit = draw.uniform(low, high)
    if high and draw.random() < 0.9:
        usually_owed = orders_per_day * (kind.net_days + 5) * float(TYPICAL_ORDER_VALUE)
        limit = max(limit, usually_owed * draw.uniform(1.5, 3.0))
    limit = round(limit, -2)
    return {
        "id": customer.id,
        "name": customer.address.name,
        "email": f"orders@{customer.id.lower()}.example",
        "standing": kind.standing,
        "payment_terms": kind.terms,
        "net_days": kind.net_days,
        "credit_limit": Decimal(limit).quantize(Decimal("0.01")),
        "currency": "EUR",
    }


def _product_row(demand: Demand) -> dict[str, object]:
    return {
        "sku": demand.sku,
        "name": demand.name,
        "unit_price": demand.unit_price,
        "currency": "EUR",
        "sourcing": demand.sourcing,
        "lead_time_days": demand.lead_time_days,
        # What the history's business pays for a unit, so stock has a value at cost.
        "cost": (demand.unit_price * HISTORY_COST_SHARE).quantize(Decimal("0.01")),
    }


def _day_weight(day: date) -> float:
    """Orders on ``day`` relative to an average weekday: quiet weekends, busy Decembers."""
    weekday = (1.0, 1.1, 1.05, 1.0, 0.95, 0.35, 0.2)[day.weekday()]
    year_wave = 1 + 0.25 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 340) / 365)
    return weekday * year_wave


def _product_weights(rng: random.Random, day: date) -> list[float]:
    weights = []
    for product in HISTORY_PRODUCTS:
        wave = 1 + product.season * math.cos(
            2 * math.pi * (day.timetuple().tm_yday - product.peak_day) / 365
        )
        sells = rng.random() < product.sells_on
        weights.append(product.weight * wave if sells else 0.0)
    return weights


def _plan_orders(
    rng: random.Random,
    prefix: str,
    customers: list[_Customer],
    count: int,
    first_day: date,
    now: datetime,
) -> list[_Order]:
    days = [first_day + timedelta(days=n) for n in range((now.date() - first_day).days + 1)]
    per_day = Counter(rng.choices(days, weights=[_day_weight(d) for d in days], k=count))
    customer_weights = [c.weight for c in customers]
    planned: list[_Order] = []
    for day in days:
        if not per_day[day]:
            continue
        product_weights = _product_weights(rng, day)
        if not any(product_weights):
            product_weights = [p.weight for p in HISTORY_PRODUCTS]
        for number in range(1, per_day[day] + 1):
            customer = rng.choices(customers, weights=customer_weights)[0]
            seconds = rng.triangular(6 * 3600, 20 * 3600, 10 * 3600)
            placed = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=seconds)
            if placed > now - timedelta(minutes=10):
                placed = now - timedelta(minutes=rng.uniform(10, 600))
            planned.append(_order(rng, prefix, customer, day, number, placed, product_weights))
    planned.sort(key=lambda order: order.placed_at)
    for order in planned:
        order.delays = _delays(rng, order, now)
    return planned


def _order(
    rng: random.Random,
    prefix: str,
    customer: _Customer,
    day: date,
    number: int,
    placed: datetime,
    product_weights: list[float],
) -> _Order:
    kind = customer.kind
    products = rng.choices(HISTORY_PRODUCTS, weights=product_weights, k=rng.randint(*kind.lines))
    lines = []
    for product in dict.fromkeys(products):  # one line per product
        low, high = product.units
        # Consumers buy a few units; businesses up to three times a product's usual most.
        high = max(low, high // 3) if kind.terms is PaymentTerms.PREPAID else high * 3
        quantity = rng.randint(low, high)
        lines.append(
            SubmittedLine(sku=product.sku, quantity=quantity, unit_price=product.unit_price)
        )
    invalid = rng.random() < INVALID_SHARE
    if invalid:
        lines.append(SubmittedLine(sku="LEGACY-0", quantity=1, unit_price=Decimal("5.00")))
    channel = rng.choice(kind.channels)
    return _Order(
        order_id=f"{prefix}-{day:%Y%m%d}-{number:04d}",
        placed_at=placed,
        customer=customer,
        channel=channel,
        lines=lines,
        reference=f"PO-{rng.randint(100000, 999999)}" if channel is Channel.EDI else None,
        cancelled=rng.random() < CANCELLED_SHARE,
        late=rng.random() < LATE_PARCEL_SHARE,
        instalments=kind.terms is PaymentTerms.NET and rng.random() < INSTALMENT_SHARE,
        paid_late=rng.random() < kind.pays_late,
        hold_rejected=rng.random() < HOLD_REJECTED_SHARE,
    )


def _delays(rng: random.Random, order: _Order, now: datetime) -> dict[str, timedelta]:
    """How long each stage takes; squeezed so the order ends before ``now``."""
    net_days = order.customer.kind.net_days
    pay_after = net_days + (rng.uniform(1, 25) if order.paid_late else -rng.uniform(0, net_days))
    pickup, transit = rng.uniform(2, 30), rng.uniform(4, 20)
    # The carrier promises delivery within PROMISED_HOURS of booking; a late parcel
    # comes hours to days after that, the others before it.
    if order.late:
        delivery = PROMISED_HOURS - pickup - transit + rng.uniform(4, 96)
    else:
        delivery = rng.uniform(12, PROMISED_HOURS - pickup - transit - 1)
    delays = {
        "credit": timedelta(seconds=rng.uniform(1, 5)),
        "approval": timedelta(hours=rng.uniform(0.5, 30)),
        "booking": timedelta(hours=rng.uniform(1, 20)),
        "pickup": timedelta(hours=pickup),
        "transit": timedelta(hours=transit),
        "delivery": timedelta(hours=delivery),
        "payment": timedelta(days=max(pay_after, 0.2)),
        "second_payment": timedelta(days=rng.uniform(5, 20)),
        "cancel": timedelta(hours=rng.uniform(0.5, 12)),
    }
    total = sum(delays.values(), timedelta())
    delays["promise"] = timedelta(hours=PROMISED_HOURS)
    room = now - timedelta(minutes=1) - order.placed_at
    if total > room:
        factor = room / total
        delays = {stage: delay * factor for stage, delay in delays.items()}
    return delays


# --- the writer: every order's steps on one time line ---------------------------------


class _Wait:
    """One of an order's waits under an escalation ladder, climbed on the history's time
    line as the workflow's ``EscalatingWait`` climbs it, and written as it writes each rung
    (the same :func:`domain.escalation.rung_notice`, the same transactions)."""

    def __init__(
        self,
        writer: _Writer,
        ladder: EscalationLadder,
        started_at: datetime,
        *,
        order_id: str,
        subject: str,
        key: str,
        explain: Callable[[EscalationRung], str] | None = None,
        subject_wording: Wording | None = None,
    ) -> None:
        self.ladder = ladder
        self.position = start_ladder(ladder, started_at)
        self.asked_for_decision = False
        """Whether a rung handed the order to a person (the workflow clears it when the
        wait ends)."""
        self._writer = writer
        self._order_id = order_id
        self._subject = subject
        self._key = key
        self._explain = explain
        self._subject_wording = subject_wording
        self._fired = 0

    def falls_due_before(self, moment: datetime) -> bool:
        """Whether a rung falls due before the wait ends at ``moment``."""
        return self.position.next_at is not None and self.position.next_at < moment

    def climb(self) -> None:
        """The next rung falls due: tell whom it tells, and record it on the order."""
        rung = due_rung(self.ladder, self.position)
        self.position = climb(self.ladder, self.position)
        self._fired += 1
        notice = rung_notice(
            self.ladder,
            rung,
            self.position.level,
            self._fired,
            subject=self._subject,
            key=self._key,
            message=self._explain(rung) if self._explain else None,
            subject_wording=self._subject_wording,
        )
        notification = Notification(
            order_id=self._order_id,
            key=notice.key,
            audience=notice.audience,
            subject=notice.subject,
            message=notice.message,
        )
        key = step_key(self._order_id, f"{NOTIFY}:{notice.key}")
        record_notification(self._writer.db, notification, key, f"SIMMSG-{HISTORY_RUN}")
        record_order_status(
            self._writer.db,
            StatusChange(
                order_id=self._order_id,
                event=EventKind.ESCALATED,
                detail=notice.detail,
                wording=notice.wording,
                escalation_level=notice.level,
                needs_attention=notice.needs_attention,
                needs_attention_wording=notice.needs_attention_wording,
            ),
        )
        self.asked_for_decision |= rung.asks_for_decision
        self._writer.escalations += 1


def _rungs_until(waits: list[_Wait], ends: datetime) -> Iterator[datetime]:
    """Climb ``waits`` (running side by side) through every rung that falls due before
    they end at ``ends``, earliest first; yields each rung's moment before writing it."""
    while due := [wait for wait in waits if wait.falls_due_before(ends)]:
        wait = min(due, key=lambda w: w.position.next_at or ends)
        assert wait.position.next_at is not None
        yield wait.position.next_at
        wait.climb()


class _Writer:
    """Runs every order's life as a sequence of steps, earliest step first."""

    def __init__(self, db: Database, now: datetime) -> None:
        self.db = db
        self.now = now
        self.ends: dict[str, str] = {}
        self.receipts = 0
        self.instalments = 0
        self.escalations = 0
        self._clock = now

    def run(
        self, plan: list[_Order], first_day: date, progress: Callable[[int, int], None]
    ) -> None:
        sequence = itertools.count()
        queue: list[tuple[datetime, int, Iterator[datetime]]] = []
        for order in plan:
            heapq.heappush(queue, (order.placed_at, next(sequence), self._life(order)))
        reviews = self._daily_reviews(plan, first_day)
        heapq.heappush(queue, (next(reviews), next(sequence), reviews))
        with clock_of(lambda: self._clock):
            while queue:
                with self.db.batch():
                    for _ in range(STEPS_PER_COMMIT):
                        if not queue:
                            break
                        at, number, life = heapq.heappop(queue)
                        self._clock = at
                        following = next(life, None)
                        if following is not None:
                            heapq.heappush(queue, (max(following, at), number, life))
                progress(len(self.ends), len(plan))

    def _daily_reviews(self, plan: list[_Order], first_day: date) -> Iterator[datetime]:
        """Each morning the warehouse receives what the next fortnight's orders will need.

        Receipts bring stock up to the next 14 days' demand plus a fifth when
        free stock is below the next 7 days' (the buyer knows the order book
        the history is drawn from: it keeps reservations whole, with no
        production or purchase orders in the history).
        """
        demand: dict[tuple[date, str], int] = Counter()
        for order in plan:
            for line in order.lines:
                demand[(order.placed_at.date(), line.sku)] += line.quantity
        home = {product.sku: product.warehouse for product in HISTORY_PRODUCTS}
        receipt_reasons = {
            product.sku: StockReason.PRODUCTION_OUTPUT
            if product.sourcing is Sourcing.MAKE
            else StockReason.SUPPLIER_DELIVERY
            for product in HISTORY_PRODUCTS
        }
        day = first_day - timedelta(days=1)
        while day <= self.now.date():
            morning = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=5)
            yield min(morning, self.now - timedelta(minutes=10))
            with self.db.transaction() as session:
                for sku, warehouse in home.items():
                    week = sum(demand[(day + timedelta(days=n), sku)] for n in range(1, 8))
                    fortnight = week + sum(
                        demand[(day + timedelta(days=n), sku)] for n in range(8, 15)
                    )
                    ensure_stock_level(session, sku, warehouse)
                    free = sum(
                        row.on_hand - row.reserved
                        for row in session.scalars(select(StockLevel).where(StockLevel.sku == sku))
                    )
                    if free < week:
                        change_stock(
                            session,
                            sku=sku,
                            warehouse_id=warehouse,
                            kind=MovementKind.RECEIVE,
                            on_hand_change=fortnight * 6 // 5 - free + 1,
                            reason=receipt_reasons[sku].value,
                            actor=HISTORY_ACTOR,
                        )
                        self.receipts += 1
            day += timedelta(days=1)

    def _life(self, order: _Order) -> Iterator[datetime]:
        db, at, delays = self.db, order.placed_at, order.delays
        customer = order.customer
        submission = _submission(order)
        received = receive_order(db, submission, HISTORY_RUN)
        if not received.accepted:
            self.ends[order.order_id] = OrderStatus.REJECTED.value
            return
        at += delays["credit"]
        yield at
        ref = order.order_id
        decision = check_credit(db, ref)
        if decision.outcome is CreditOutcome.HOLD:
            held = _Wait(
                self,
                APPROVAL_LADDER,
                at,
                order_id=ref,
                subject=approval_subject(ref, decision),
                key="approval",
            )
            at += delays["approval"]
            yield from _rungs_until([held], at)
            yield at
            if order.hold_rejected:
                self._finish(
                    ref,
                    OrderStatus.REJECTED,
                    EventKind.REJECTED_BY_STAFF,
                    f"credit review: {decision.reason}",
                )
                return
            self._status(
                ref,
                OrderStatus.APPROVED,
                EventKind.APPROVED_BY_STAFF,
                "credit confirmed by phone",
                actor=HISTORY_ACTOR,
            )
        prepaid = customer.kind.terms is PaymentTerms.PREPAID
        total, currency = received.total, submission.currency
        if prepaid:
            book_payment(
                db,
                ref,
                AUTHORISE_PAYMENT,
                PaymentKind.AUTHORISATION,
                total,
                currency,
                f"SIMAUTH-{ref}",
                EventKind.PAYMENT_AUTHORISED,
            )
        reserve_stock(db, ref)
        if order.cancelled:
            at += delays["cancel"]
            yield at
            self._cancel(ref, prepaid, total, currency)
            return
        at += delays["booking"]
        yield at
        parcels = plan_shipments(db, ref).shipments
        late_parcels = []
        for parcel in parcels:
            key = step_key(ref, f"{BOOK_SHIPMENT}:{parcel.shipment_id}")
            booking = ShipmentBooking(
                carrier=HISTORY_CARRIER,
                tracking_number=f"SIMTRK-{parcel.shipment_id}",
                promised_by=at + delays["promise"],
                carrier_pushes_events=True,
            )
            record_booking(db, ref, parcel.shipment_id, key, booking)
            late_parcels.append(
                _Wait(
                    self,
                    DELIVERY_DELAY_LADDER,
                    booking.promised_by,
                    order_id=ref,
                    subject=parcel_subject(parcel.shipment_id, ref),
                    key=f"delivery:{parcel.shipment_id}",
                    subject_wording=parcel_subject_wording(parcel.shipment_id, ref),
                )
            )
        self._status(
            ref,
            OrderStatus.SHIPMENT_BOOKED,
            EventKind.SHIPMENT_BOOKED,
            Wording(message=N_("%(count)s parcel(s) booked"), args={"count": len(parcels)}),
        )
        if prepaid:
            book_payment(
                db,
                ref,
                CAPTURE_PAYMENT,
                PaymentKind.CAPTURE,
                total,
                currency,
                f"SIMCAP-{ref}",
                EventKind.PAYMENT_CAPTURED,
            )
        invoice = issue_invoice(db, ref)
        for stage, milestone in (
            ("pickup", Milestone.PICKED_UP),
            ("transit", Milestone.IN_TRANSIT),
            ("delivery", Milestone.DELIVERED),
        ):
            at += delays[stage]
            yield from _rungs_until(late_parcels, at)
            yield at
            for parcel in parcels:
                event = TrackingEvent(milestone=milestone, at=at)
                record_milestone(
                    db, MilestoneRecord(order_id=ref, shipment_id=parcel.shipment_id, event=event)
                )
        self._status(
            ref,
            OrderStatus.DELIVERED,
            EventKind.DELIVERED,
            Wording(
                message=N_("all %(count)s parcel(s) delivered, last at %(at)s"),
                args={"count": len(parcels)},
                moments={"at": at},
            ),
        )
        if not prepaid:
            paid = Decimal(0)
            dunning = _Wait(
                self,
                DUNNING_LADDER,
                datetime.combine(invoice.due_date, time_of_day(), UTC),
                order_id=ref,
                subject=dunning_subject(invoice, ref),
                key="dunning",
                explain=lambda rung: dunning_message(invoice, paid, rung),
            )
            at += delays["payment"]
            parts = [invoice.amount]
            if order.instalments and invoice.amount >= Decimal("2.00"):
                first = (invoice.amount / 2).quantize(Decimal("0.01"))
                parts = [first, invoice.amount - first]
                self.instalments += 1
            for number, amount in enumerate(parts, start=1):
                if number > 1:
                    at += delays["second_payment"]
                yield from _rungs_until([dunning], at)
                yield at
                payment = IncomingPayment(
                    payment_id=f"SIMBANK-{ref}-{number}", amount=amount, received_at=at
                )
                balance = record_incoming_payment(db, PaymentBooking(order_id=ref, payment=payment))
                paid = balance.paid
            if dunning.asked_for_decision:
                # As the order workflow does when the money is in: collections need not act.
                record_order_status(
                    db,
                    StatusChange(
                        order_id=ref,
                        event=EventKind.PAYMENT_RECEIVED,
                        wording=Wording(
                            message=N_("invoice %(invoice)s paid in full"),
                            args={"invoice": invoice.number},
                        ),
                        needs_attention="",
                    ),
                )
        issue_receipt(db, ref)
        archive_order(db, ref)
        self.ends[ref] = OrderStatus.COMPLETED.value

    def _cancel(self, ref: str, prepaid: bool, total: Decimal, currency: str) -> None:
        record_order_status(
            self.db,
            StatusChange(
                order_id=ref,
                event=EventKind.CANCELLATION_REQUESTED,
                actor=HISTORY_ACTOR,
                detail="customer changed their mind",
            ),
        )
        release_reservations(self.db, ref)
        if prepaid:
            book_payment(
                self.db,
                ref,
                VOID_AUTHORISATION,
                PaymentKind.VOID,
                total,
                currency,
                f"SIMVOID-{ref}",
                EventKind.AUTHORISATION_VOIDED,
            )
        self._finish(ref, OrderStatus.CANCELLED, EventKind.CANCELLED, "customer changed their mind")

    def _status(
        self,
        ref: str,
        status: OrderStatus,
        event: EventKind,
        detail: str | Wording,
        actor: str = "system",
    ) -> None:
        wording = detail if isinstance(detail, Wording) else None
        record_order_status(
            self.db,
            StatusChange(
                order_id=ref,
                event=event,
                status=status,
                detail=detail if wording is None else wording.english(),
                wording=wording,
                actor=actor,
            ),
        )

    def _finish(self, ref: str, status: OrderStatus, event: EventKind, detail: str) -> None:
        self._status(ref, status, event, detail, actor=HISTORY_ACTOR)
        self.ends[ref] = status.value
