"""Pick and pack (issue 16): a warehouse that confirms packing holds its parcels until
the warehouse says picked and packed, escalating when it takes long; then the carrier is
booked. The real order and shipment workflows on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.notifications import Audience
from domain.orders import UPDATE_SUFFIX, EventKind, OrderStatus
from domain.shipping import (
    BOOK_SHIPMENT,
    CARRIER_EVENT_SIGNAL,
    PARCEL_PACKED_SIGNAL,
    Milestone,
    ParcelPacked,
    ShipmentStatus,
    TrackingEvent,
    shipment_workflow_id,
)
from tests.workflow_fakes import (
    FakePartners,
    order_worker,
    refusal,
    start,
    unique_order,
    wait_until,
)

PACKED = PARCEL_PACKED_SIGNAL + UPDATE_SUFFIX


def awaiting_packing(view: Any) -> bool:
    return any(s.status == ShipmentStatus.AWAITING_PACKING.value for s in view.shipments)


async def test_the_carrier_is_booked_only_once_the_parcel_is_packed(
    own_time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(confirm_packing=True, carrier_pushes_events=True)
    order = unique_order()
    client = own_time_skipping_env.client
    worker, queue = order_worker(client, partners.activities())
    async with worker:
        handle = await start(client, queue, order)
        await wait_until(handle, awaiting_packing, "the parcel waits to be packed")
        assert BOOK_SHIPMENT not in partners.calls
        parcel: WorkflowHandle[Any, Any] = client.get_workflow_handle(
            shipment_workflow_id(f"{order.order_id}-S1")
        )
        answer = await parcel.execute_update(
            PACKED, ParcelPacked(actor="kai.wu", packages=2, note="fragile")
        )
        assert answer == "packed by kai.wu: the carrier is being booked"
        view = await wait_until(
            handle,
            lambda v: any(s.status == ShipmentStatus.BOOKED.value for s in v.shipments),
            "booked",
        )
        assert view.shipments[0].escalation_level == 0
        # a refused update leaves the test server's time skipping locked: ask without it
        with (
            own_time_skipping_env.auto_time_skipping_disabled(),
            pytest.raises(WorkflowUpdateFailedError) as again,
        ):
            await parcel.execute_update(PACKED, ParcelPacked(actor="kai.wu"))
        assert f"parcel {order.order_id}-S1 is not waiting to be packed (booked)" in refusal(
            again.value
        )
        await parcel.signal(
            CARRIER_EVENT_SIGNAL,
            TrackingEvent(
                milestone=Milestone.DELIVERED, at=await own_time_skipping_env.get_current_time()
            ),
        )
        assert (await handle.result()).status is OrderStatus.COMPLETED
    packed = [c for c in partners.status_changes if c.event is EventKind.PARCEL_PACKED]
    assert [(c.actor, c.detail) for c in packed] == [
        ("kai.wu", f"parcel {order.order_id}-S1 picked and packed in 2 package(s): fragile")
    ]


async def test_late_packing_climbs_its_ladder(own_time_skipping_env: WorkflowEnvironment) -> None:
    partners = FakePartners(confirm_packing=True, carrier_pushes_events=True)
    order = unique_order()
    client = own_time_skipping_env.client
    worker, queue = order_worker(client, partners.activities())
    async with worker:
        handle = await start(client, queue, order)
        await wait_until(handle, awaiting_packing, "the parcel waits to be packed")
        await own_time_skipping_env.sleep(timedelta(hours=25))
        view = await wait_until(
            handle, lambda v: v.shipments[0].needs_attention is not None, "support asked"
        )
        assert view.shipments[0].escalation_level == 3
        assert view.status is not OrderStatus.SHIPMENT_BOOKED
        assert BOOK_SHIPMENT not in partners.calls
        await handle.terminate("test over")  # nothing left waiting for the next test
    rungs = partners.rungs(f"packing:{order.order_id}-S1")
    assert [audience for audience, _ in rungs] == [
        Audience.WAREHOUSE,
        Audience.LOGISTICS,
        Audience.SUPPORT,
    ]
