"""The simulated partners keep their own books, as a real provider does: a worker that
crashed and the worker that retries its step see one provider, which acts once per key."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from integrations.simulated_books import PartnerBooks
from integrations.simulated_carrier import SimulatedCarrier
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
