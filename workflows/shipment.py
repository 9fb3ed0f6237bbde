"""ShipmentWorkflow: one parcel of an order, from booking to delivery.

Started by the order as a child once the parcel is planned. Books the carrier,
follows tracking events (pushed by the carrier as ``carrier_event`` signals, or
fetched by a heartbeating poll for carriers that must be asked), tells the
customer at each milestone and climbs the late-delivery ladder against the
promised date. A lost or damaged parcel, or one so late that support is asked,
waits for ``resolve_shipment``: re-ship (a replacement parcel, tracked the same
way) or refund (the order then refunds the customer). Cancellation comes from
the order, which cancels the booking itself; this workflow only stops following.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from domain.escalation import (
        EXTEND_DEADLINE_SIGNAL,
        DeadlineExtension,
        EscalationRung,
        LadderPosition,
    )
    from domain.intake import StatusChange
    from domain.notifications import Audience
    from domain.order_actions import parcel_term, resolution_refusal
    from domain.orders import UPDATE_SUFFIX, EventKind, ShipmentView, order_workflow_id
    from domain.shipping import (
        BOOK_SHIPMENT,
        CARRIER_EVENT_SIGNAL,
        DELIVERY_DELAY_LADDER,
        PACKING_LADDER,
        PARCEL_PACKED_SIGNAL,
        POLL_TRACKING,
        RECORD_MILESTONE,
        RESHIP_SHIPMENT,
        RESOLVE_SHIPMENT_SIGNAL,
        SHIPMENT_PROGRESS_SIGNAL,
        SHIPMENT_WORKFLOW_TYPE,
        Milestone,
        MilestoneRecord,
        MilestoneRecorded,
        NewMilestones,
        ParcelPacked,
        ShipmentAction,
        ShipmentBooking,
        ShipmentOutcome,
        ShipmentProgress,
        ShipmentRef,
        ShipmentRequest,
        ShipmentResolution,
        ShipmentStatus,
        TrackingEvent,
        TrackingPoll,
        parcel_subject,
        parcel_subject_wording,
    )
    from domain.wording import N_, Wording

from workflows._common import (
    EscalatingWait,
    IgnoredHandler,
    Inbound,
    audit_log_of,
    deliver,
    next_rung_details,
    notify,
    read_update,
    record,
    records_ignored_messages,
    refuse,
    refused,
    run_step,
    runs_database_steps_locally,
    stop_if_cancelled,
)
from workflows.patches import PICK_AND_PACK
from workflows.policies import DATABASE_STEP, PARTNER_STEP, TRACKING_POLL

CUSTOMER_MESSAGES = {
    Milestone.PICKED_UP: "your parcel {parcel} has left our warehouse",
    Milestone.IN_TRANSIT: "your parcel {parcel} is on its way",
    Milestone.EXCEPTION: "there is a problem with your parcel {parcel}: {detail}",
    Milestone.DELIVERED: "your parcel {parcel} was delivered",
}


SIGNALS_DESCRIPTION = (
    "Signals: carrier_event (TrackingEvent), resolve_shipment (ShipmentResolution), "
    "parcel_packed (ParcelPacked), "
    "extend_deadline (DeadlineExtension). A payload that cannot be read is recorded in the "
    "order's audit log and ignored."
)
"""Shown by the Web UI for the one handler every signal goes through."""


def _poll_ended(poll: asyncio.Task[None]) -> None:
    """Take in how a tracking poll ended, so no task failure goes unretrieved: stopped
    with the parcel (cancelled) as usual, or a failure, which is logged."""
    if poll.cancelled():
        return
    failure = poll.exception()
    stopped = isinstance(failure, ActivityError) and isinstance(failure.cause, CancelledError)
    if failure is not None and not stopped:
        workflow.logger.warning("tracking poll ended by a failure: %s", failure)


@workflow.defn(name=SHIPMENT_WORKFLOW_TYPE)
class ShipmentWorkflow:
    """Gets one parcel to the customer, or hands the decision to support."""

    def __init__(self) -> None:
        self._events: list[TrackingEvent] = []
        self._known: set[Milestone] = set()
        self._resolution: ShipmentResolution | None = None
        self._awaiting_resolution: Wording | None = None
        self._wait: EscalatingWait | None = None
        self._view: ShipmentView | None = None
        self._order_id = ""
        self._report_to = ""
        self._local_steps = False
        self._packs = False
        self._packed: ParcelPacked | None = None

    @workflow.run
    async def run(self, request: ShipmentRequest) -> ShipmentOutcome:
        """Book and follow the parcel (and its replacements) until delivered or refunded."""
        self._local_steps = runs_database_steps_locally()
        records_ignored_messages()
        self._packs = workflow.patched(PICK_AND_PACK)
        self._order_id = request.order_id
        self._report_to = request.report_to or order_workflow_id(request.order_id)
        parcel = request
        attempt = 1
        while True:
            delivered = await self._deliver(parcel, attempt)
            if delivered is not None:
                return ShipmentOutcome(shipment_id=parcel.shipment_id, delivered_at=delivered.at)
            resolution = self._resolution
            assert resolution is not None
            self._resolution = None
            if resolution.action is ShipmentAction.REFUND:
                self._wait = None
                self._describe()
                return ShipmentOutcome(
                    shipment_id=parcel.shipment_id,
                    refunded=True,
                    detail=(
                        f"parcel {parcel.shipment_id}: refund chosen by "
                        f"{resolution.decision.actor}: {resolution.decision.reason}"
                    ),
                )
            attempt += 1
            parcel = await run_step(
                RESHIP_SHIPMENT,
                ShipmentRef(
                    order_id=request.order_id, shipment_id=parcel.shipment_id, attempt=attempt
                ),
                ShipmentRequest,
                f"Send a replacement for parcel {parcel.shipment_id}",
                DATABASE_STEP,
            )

    async def _deliver(self, parcel: ShipmentRequest, attempt: int) -> TrackingEvent | None:
        """Book and follow one parcel. The delivery event, or None when support must decide."""
        self._view = view = ShipmentView(
            shipment_id=parcel.shipment_id,
            warehouse_id=parcel.warehouse_id,
            status=ShipmentStatus.PLANNED.value,
        )
        self._events.clear()
        self._known.clear()
        if parcel.confirm_packing and self._packs:
            await self._await_packing(parcel, view)
        booking = await run_step(
            BOOK_SHIPMENT,
            ShipmentRef(order_id=parcel.order_id, shipment_id=parcel.shipment_id, attempt=attempt),
            ShipmentBooking,
            f"Book parcel {parcel.shipment_id} with the carrier",
            PARTNER_STEP,
        )
        view.carrier = booking.carrier
        view.tracking_number = booking.tracking_number
        view.promised_by = booking.promised_by
        view.status = ShipmentStatus.BOOKED.value
        self._known.add(Milestone.BOOKED)
        await self._report()

        poll: asyncio.Task[None] | None = None
        if not booking.carrier_pushes_events:
            poll = asyncio.create_task(self._poll(parcel, booking))
            poll.add_done_callback(_poll_ended)
        self._wait = EscalatingWait(
            DELIVERY_DELAY_LADDER,
            booking.promised_by,
            order_id=parcel.order_id,
            subject=parcel_subject(parcel.shipment_id, parcel.order_id),
            key=f"delivery:{parcel.shipment_id}",
            subject_wording=parcel_subject_wording(parcel.shipment_id, parcel.order_id),
        )

        async def on_rung(rung: EscalationRung, position: LadderPosition) -> None:
            view.escalation_level = position.level
            if rung.asks_for_decision:
                self._ask_support(
                    Wording(
                        message=N_("parcel %(parcel)s is late: re-ship, refund or wait"),
                        args={"parcel": parcel.shipment_id},
                    )
                )
            await self._report()

        try:
            while True:
                await self._wait.until(
                    lambda: bool(self._events) or self._resolution is not None, on_rung
                )
                if self._resolution is not None:
                    if self._resolution.action is ShipmentAction.WAIT:
                        self._resolution = None
                        self._settled()
                        await self._report()
                        continue
                    return None
                event = self._events.pop(0)
                await self._follow(parcel, event)
                if event.milestone is Milestone.DELIVERED:
                    self._settled()
                    self._wait = None  # no rung will fire for a delivered parcel
                    await self._report()
                    return event
                if event.problem is not None:
                    question = Wording(
                        message=N_("parcel %(parcel)s is %(problem)s: re-ship or refund"),
                        args={"parcel": parcel.shipment_id},
                        terms={"problem": event.problem.value},
                    )
                    self._ask_support(question)
                    await record(
                        StatusChange(
                            order_id=parcel.order_id,
                            event=EventKind.SHIPMENT_LOST,
                            wording=question,
                            needs_attention_wording=question,
                        )
                    )
                    await notify(
                        parcel.order_id,
                        f"{parcel.shipment_id}:{event.problem.value}",
                        Audience.SUPPORT,
                        f"Decide on parcel {parcel.shipment_id}",
                        question.english(),
                    )
                    await self._report()
                    await workflow.wait_condition(
                        lambda: (
                            self._resolution is not None
                            and self._resolution.action is not ShipmentAction.WAIT
                        )
                    )
                    return None
        finally:
            if poll is not None and not poll.done():
                poll.cancel()

    async def _follow(self, parcel: ShipmentRequest, event: TrackingEvent) -> None:
        """Record a milestone, tell the customer, update the view; tell the order once caught up."""
        assert self._view is not None
        await run_step(
            RECORD_MILESTONE,
            MilestoneRecord(order_id=parcel.order_id, shipment_id=parcel.shipment_id, event=event),
            MilestoneRecorded,
            f"Record {event.milestone.value} of parcel {parcel.shipment_id}",
            DATABASE_STEP,
        )
        self._view.status = event.milestone.value
        template = CUSTOMER_MESSAGES.get(event.milestone)
        if template is not None:
            await notify(
                parcel.order_id,
                f"{parcel.shipment_id}:{event.milestone.value}",
                Audience.CUSTOMER,
                f"Order {parcel.order_id}: parcel {event.milestone.value.replace('_', ' ')}",
                template.format(parcel=parcel.shipment_id, detail=event.detail or "see tracking"),
            )
        if self._local_steps and (self._events or event.milestone is Milestone.DELIVERED):
            # The report after the next milestone (or after delivery) carries this one
            # too: one signal to the order, not one for each milestone taken at once.
            stop_if_cancelled()
            return
        await self._report()

    async def _poll(self, parcel: ShipmentRequest, booking: ShipmentBooking) -> None:
        """Ask the carrier for news until delivery; new milestones join the signalled ones."""
        while Milestone.DELIVERED not in self._known:
            news = await run_step(
                POLL_TRACKING,
                TrackingPoll(
                    order_id=parcel.order_id,
                    shipment_id=parcel.shipment_id,
                    tracking_number=booking.tracking_number,
                    known=sorted(self._known),
                ),
                NewMilestones,
                f"Follow parcel {parcel.shipment_id} ({booking.tracking_number})",
                TRACKING_POLL,
            )
            for event in news.events:
                self._take(event)

    def _take(self, event: TrackingEvent) -> None:
        """Queue a milestone seen for the first time (an exception may repeat)."""
        if event.milestone in self._known and event.milestone is not Milestone.EXCEPTION:
            return
        self._known.add(event.milestone)
        self._events.append(event)

    async def _await_packing(self, parcel: ShipmentRequest, view: ShipmentView) -> None:
        """Wait for the warehouse to confirm the parcel picked and packed, escalating when
        it takes long; then record who packed it."""
        view.status = ShipmentStatus.AWAITING_PACKING.value
        self._wait = EscalatingWait(
            PACKING_LADDER,
            workflow.now(),
            order_id=parcel.order_id,
            subject=parcel_subject(parcel.shipment_id, parcel.order_id),
            key=f"packing:{parcel.shipment_id}",
            subject_wording=parcel_subject_wording(parcel.shipment_id, parcel.order_id),
        )
        await self._report()

        async def on_rung(rung: EscalationRung, position: LadderPosition) -> None:
            view.escalation_level = position.level
            if rung.asks_for_decision:
                not_packed = Wording(
                    message=N_("parcel %(parcel)s is not packed yet"),
                    args={"parcel": parcel.shipment_id},
                )
                view.needs_attention = not_packed.english()
                view.needs_attention_wording = not_packed
            await self._report()

        await self._wait.until(lambda: self._packed is not None, on_rung)
        packed = self._packed
        assert packed is not None
        self._packed = None
        await record(
            StatusChange(
                order_id=parcel.order_id,
                event=EventKind.PARCEL_PACKED,
                wording=Wording(
                    message=N_("parcel %(parcel)s picked and packed in %(packages)s package(s)")
                    if not packed.note
                    else N_(
                        "parcel %(parcel)s picked and packed in %(packages)s package(s): %(note)s"
                    ),
                    args={"parcel": parcel.shipment_id, "packages": packed.packages}
                    | ({"note": packed.note} if packed.note else {}),
                ),
                actor=packed.actor,
            )
        )
        self._wait = None
        view.status = ShipmentStatus.PLANNED.value
        view.escalation_level = 0
        view.needs_attention = None
        view.needs_attention_wording = None

    def _take_packed(self, packed: ParcelPacked) -> None:
        """The warehouse packed the parcel (a repeat before booking changes nothing)."""
        if self._packed is None:
            self._packed = packed

    @workflow.update(name=PARCEL_PACKED_SIGNAL + UPDATE_SUFFIX)
    async def parcel_packed_now(self, *arguments: Any) -> str:
        """As the signal, with an answer: refused unless the parcel waits to be packed."""
        name = PARCEL_PACKED_SIGNAL + UPDATE_SUFFIX
        on_refused = self._audit_log()
        packed = await read_update(name, ParcelPacked, arguments, on_refused)
        view = self._view
        if view is None or view.status != ShipmentStatus.AWAITING_PACKING.value:
            parcel = view.shipment_id if view is not None else workflow.info().workflow_id
            refusal = Wording(
                message=N_("parcel %(parcel)s is not waiting to be packed (%(state)s)"),
                args={"parcel": parcel},
                terms={
                    "state": parcel_term(view.status) if view is not None else N_("not planned yet")
                },
            )
            await refuse(refusal, refused(name, refusal), on_refused)
        self._take_packed(packed)
        return f"packed by {packed.actor}: the carrier is being booked"

    def _ask_support(self, question: Wording) -> None:
        self._awaiting_resolution = question
        if self._view is not None:
            self._view.needs_attention = question.english()
            self._view.needs_attention_wording = question

    def _settled(self) -> None:
        self._awaiting_resolution = None
        if self._view is not None:
            self._view.needs_attention = None
            self._view.needs_attention_wording = None

    async def _report(self) -> None:
        """Show where the parcel stands and tell the order (or the complaint that sent a
        replacement); every step ends here: stop if cancelled."""
        stop_if_cancelled()
        self._describe()
        told = workflow.get_external_workflow_handle(self._report_to)
        await told.signal(SHIPMENT_PROGRESS_SIGNAL, ShipmentProgress(shipment=self._view))

    def _describe(self) -> None:
        """The Web UI's current details: status, promise, level, the next rung if any."""
        assert self._view is not None
        view = self._view
        workflow.set_current_details(
            f"**{view.status}** · parcel {view.shipment_id} from {view.warehouse_id}"
            + (f" · {view.carrier} {view.tracking_number}" if view.tracking_number else "")
            + (f" · promised by {view.promised_by:%Y-%m-%d %H:%M} UTC" if view.promised_by else "")
            + (f"\n\nEscalation level {view.escalation_level}" if view.escalation_level else "")
            + next_rung_details(self._wait)
            + (f"\n\n**Needs attention:** {view.needs_attention}" if view.needs_attention else "")
        )

    # --- messages --------------------------------------------------------------------

    @workflow.signal(dynamic=True, description=SIGNALS_DESCRIPTION)
    async def on_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """Every signal comes in here and is read field by field (see ``deliver``)."""
        inbound: dict[str, Inbound[Any]] = {
            CARRIER_EVENT_SIGNAL: Inbound(TrackingEvent, self._take),
            RESOLVE_SHIPMENT_SIGNAL: Inbound(ShipmentResolution, self._resolve_by_signal),
            PARCEL_PACKED_SIGNAL: Inbound(ParcelPacked, self._take_packed),
            EXTEND_DEADLINE_SIGNAL: Inbound(DeadlineExtension, self._extend),
        }
        await deliver(name, payloads, inbound, self._audit_log())

    @workflow.update(name=CARRIER_EVENT_SIGNAL + UPDATE_SUFFIX)
    async def carrier_event_now(self, *arguments: Any) -> str:
        """As the signal, with an answer: refused for a milestone already recorded."""
        name = CARRIER_EVENT_SIGNAL + UPDATE_SUFFIX
        on_refused = self._audit_log()
        event = await read_update(name, TrackingEvent, arguments, on_refused)
        if event.milestone in self._known and event.milestone is not Milestone.EXCEPTION:
            refusal = Wording(
                message=N_("milestone %(milestone)s was recorded already"),
                terms={"milestone": parcel_term(event.milestone.value)},
            )
            await refuse(refusal, _refused_for(name, refusal), on_refused)
        self._take(event)
        return f"{event.milestone.value} taken"

    def _resolve_by_signal(self, resolution: ShipmentResolution) -> None:
        """Support's answer for a lost, damaged or very late parcel; ignored when none is asked."""
        if self._resolution_refusal(resolution) is None:
            self._resolution = resolution

    @workflow.update(name=RESOLVE_SHIPMENT_SIGNAL + UPDATE_SUFFIX)
    async def resolve_shipment_now(self, *arguments: Any) -> str:
        """As the signal, with an answer."""
        name = RESOLVE_SHIPMENT_SIGNAL + UPDATE_SUFFIX
        on_refused = self._audit_log()
        resolution = await read_update(name, ShipmentResolution, arguments, on_refused)
        refusal = self._resolution_refusal(resolution)
        if refusal is not None:
            await refuse(refusal, _refused_for(name, refusal), on_refused)
        self._resolution = resolution
        return f"{resolution.action.value} accepted"

    def _audit_log(self) -> IgnoredHandler:
        parcel = workflow.info().workflow_id.removeprefix("shipment-")
        return audit_log_of(self._order_id or parcel.rsplit("-S", 1)[0])

    def _lost(self) -> bool:
        return self._view is not None and self._view.status == Milestone.EXCEPTION.value

    def _resolution_refusal(self, resolution: ShipmentResolution) -> Wording | None:
        asked = self._awaiting_resolution is not None
        return resolution_refusal(asked, self._lost(), resolution.action)

    def _extend(self, extension: DeadlineExtension) -> None:
        """Support gives the carrier until the new deadline before the next rung."""
        if self._wait is not None:
            self._wait.extend(extension)
            if not self._lost():
                self._settled()

    @workflow.query(name="shipment")
    def shipment(self) -> ShipmentView | None:
        """Where this parcel stands."""
        return self._view


def _refused_for(update: str, reason: Wording) -> Wording:
    """``<update> for <this parcel's workflow> refused: <reason>``, for the audit log."""
    return Wording(
        message=N_("%(update)s for %(workflow)s refused: %(reason)s"),
        args={"update": update, "workflow": workflow.info().workflow_id},
        parts={"reason": reason},
    )
