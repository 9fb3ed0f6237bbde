"""The simulated partners keep their own books, as a real provider does: a worker that
crashed and the worker that retries its step see one provider, which acts once per key."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from domain.notifications import Audience
from integrations.simulated_books import PartnerBooks
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_notifier import SimulatedNotifier
from integrations.simulated_payment import SimulatedPaymentGateway
from integrations.simulated_supply import simulated_factory
from tests.factories import ADDRESS


async def test_a_retry_from_another_worker_gets_the_same_booking_and_one_charge(
    tmp_path: Path,
) -> None:
    path = tmp_path / "simulated-partners.db"
    crashed, retrying = PartnerBooks(path), PartnerBooks(path)
    first = await SimulatedCarrier(books=crashed).book(
        idempotency_key="O-1:book_shipment:O-1-S1", shipment_id="O-1-S1", address=ADDRESS, units=3
    )
    again = await SimulatedCarrier(books=retrying).book(
        idempotency_key="O-1:book_shipment:O-1-S1", shipment_id="O-1-S1", address=ADDRESS, units=3
    )
    assert again == first
    for books in (crashed, retrying):
        capture = await SimulatedPaymentGateway(books).capture(
            idempotency_key="O-1:capture_payment",
            authorisation="auth-1",
            amount=Decimal("59.70"),
            currency="EUR",
        )
        assert capture.startswith("simpay_capture_")
    placed = [
        await simulated_factory(books).place_order(
            idempotency_key="O-1:place_supply_order:2",
            sku="GADGET-7",
            quantity=4,
            deliver_to="WH-BER",
            lead_time=timedelta(days=5),
        )
        for books in (crashed, retrying)
    ]
    assert placed[0] == placed[1], "the same confirmation and promised date"
    ledger = PartnerBooks(path)
    [booking] = ledger.effects("simulated-carrier", "book")
    [charge] = ledger.effects("simulated-payments", "capture")
    assert (booking.requests, charge.requests) == (2, 2), "asked twice, acted once"
    assert booking.answer == first.tracking_number
    for books in (crashed, retrying, ledger):
        books.close()


async def test_books_kept_before_the_notifier_kept_its_own_are_read_and_extended(
    tmp_path: Path,
) -> None:
    path = tmp_path / "simulated-partners.db"
    with contextlib.closing(sqlite3.connect(path)) as old:  # the books as they were
        old.execute(
            "CREATE TABLE effects (partner TEXT NOT NULL, idempotency_key TEXT NOT NULL, "
            "operation TEXT NOT NULL, answer TEXT NOT NULL, requests INTEGER NOT NULL, "
            "created_at TEXT NOT NULL, PRIMARY KEY (partner, idempotency_key))"
        )
        old.execute(
            "INSERT INTO effects VALUES ('simulated-payments', 'O-1:capture_payment', "
            "'capture', 'simpay_capture_1', 1, '2026-12-01T00:00:00+00:00')"
        )
        old.commit()
    books = PartnerBooks(path)
    notifier = SimulatedNotifier(books)
    for _ in range(2):
        await notifier.send(
            idempotency_key="campaign-1:message:NEWS-01",
            audience=Audience.CUSTOMER,
            subject="Spring offer",
            message="10 % off",
            to="NEWS-01",
        )
    assert notifier.deliveries() == {"NEWS-01": 1}
    [capture] = books.effects("simulated-payments")
    assert (capture.answer, capture.detail) == ("simpay_capture_1", "")
    books.close()
