"""SupplyWorkflow: one production or purchase order for one short order line.

Started by the order as a child. Places the supply order, takes receipts
(signal ``supply_received``, partial receipts allowed) until every unit has
arrived and is reserved for the order, and climbs the delay ladder against the
date the partner promised. Cancellation comes from the order, which then
cancels the supply order itself; this workflow only stops waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from domain.escalation import (
        EXTEND_DEADLINE_SIGNAL,
        DeadlineExtension,
        EscalationRung,
        LadderPosition,
    )
    from domain.notifications import Audience
    from domain.order_actions import receipt_refusal
    from domain.orders import UPDATE_SUFFIX, SupplyView, order_workflow_id
    from domain.supply import (
        PLACE_SUPPLY_ORDER,
        PROMISE_SLIP,
        RECEIVE_SUPPLY,
        SUPPLY_PROGRESS_SIGNAL,
        SUPPLY_RECEIVED_SIGNAL,
        SUPPLY_WORKFLOW_TYPE,
        SupplyArrival,
        SupplyBalance,
        SupplyOrderPlaced,
        SupplyReceipt,
        SupplyRequest,
        SupplyResult,
        SupplyStatus,
        supply_delay_ladder,
    )
    from domain.wording import N_, Wording

from workflows._common import (
    EscalatingWait,
    IgnoredHandler,
    Inbound,
    audit_log_of,
    deliver,
    next_rung_details,
    read_update,
    records_ignored_messages,
    refuse,
    refused,
    run_step,
    runs_database_steps_locally,
    stop_if_cancelled,
)
from workflows.policies import DATABASE_STEP, PARTNER_STEP

SIGNALS_DESCRIPTION = (
    "Signals: supply_received (SupplyReceipt), extend_deadline (DeadlineExtension). "
    "A payload that cannot be read is recorded in the order's audit log and ignored."
)
"""Shown by the Web UI for the one handler every signal goes through."""


@workflow.defn(name=SUPPLY_WORKFLOW_TYPE)
class SupplyWorkflow:
    """Brings the shortage of one order line from the factory or a supplier."""

    def __init__(self) -> None:
        self._receipts: list[SupplyReceipt] = []
        self._seen_receipts: set[str] = set()
        self._wait: EscalatingWait | None = None
        self._view: SupplyView | None = None
        self._order_id = ""

    @workflow.run
    async def run(self, request: SupplyRequest) -> SupplyResult:
        """Order, wait for every unit (escalating when late), return when all are reserved."""
        runs_database_steps_locally()  # pins the patch markers before any step
        records_ignored_messages()
        self._order_id = request.order_id
        self._view = view = SupplyView(
            line_no=request.line_no,
            sku=request.sku,
            kind="",
            quantity=request.quantity,
            status=SupplyStatus.OPEN.value,
        )
        placed = await run_step(
            PLACE_SUPPLY_ORDER,
            request,
            SupplyOrderPlaced,
            f"Order {request.quantity} x {request.sku} for line {request.line_no}",
            PARTNER_STEP,
        )
        view.kind = placed.kind.value
        view.expected_at = placed.expected_at
        await self._report(request)
        promise = (placed.expected_at + PROMISE_SLIP).date()

        def explain(rung: EscalationRung) -> str:
            if rung.notify is Audience.CUSTOMER:
                return (
                    f"{request.quantity} x {request.sku} for your order {request.order_id} "
                    f"is delayed at our {placed.kind.value} partner; new promise date {promise}"
                )
            return (
                f"{placed.kind.value} order {placed.supply_order_id} ({placed.partner}, "
                f"{placed.partner_reference}) was expected {placed.expected_at:%Y-%m-%d}; "
                f"{view.received} of {request.quantity} received. {rung.name}"
            )

        async def on_rung(rung: EscalationRung, position: LadderPosition) -> None:
            view.escalation_level = position.level
            if rung.asks_for_decision:
                late = Wording(
                    message=N_("line %(line)s supply is late: extend the deadline or cancel"),
                    args={"line": request.line_no},
                )
                view.needs_attention = late.english()
                view.needs_attention_wording = late
            await self._report(request)

        subject = Wording(
            message=N_("Supply for order %(order)s line %(line)s"),
            args={"order": request.order_id, "line": request.line_no},
        )
        self._wait = EscalatingWait(
            supply_delay_ladder(placed.kind),
            placed.expected_at,
            order_id=request.order_id,
            subject=subject.english(),
            key=f"supply:L{request.line_no}",
            explain=explain,
            subject_wording=subject,
        )
        received = 0
        while received < request.quantity:
            await self._wait.until(lambda: bool(self._receipts), on_rung)
            receipt = self._receipts.pop(0)
            balance = await run_step(
                RECEIVE_SUPPLY,
                SupplyArrival(
                    supply_order_id=placed.supply_order_id,
                    order_id=request.order_id,
                    line_no=request.line_no,
                    receipt=receipt,
                ),
                SupplyBalance,
                f"Receive {receipt.quantity} x {request.sku} (note {receipt.receipt_id})",
                DATABASE_STEP,
            )
            received = balance.received
            view.received = received
            await self._report(request)
        view.status = SupplyStatus.RECEIVED.value
        view.needs_attention = None
        view.needs_attention_wording = None
        self._wait = None  # every unit is in: no rung will fire
        await self._report(request)
        return SupplyResult(
            line_no=request.line_no,
            sku=request.sku,
            warehouse_id=placed.warehouse_id,
            received=received,
            reserved=request.quantity,
        )

    async def _report(self, request: SupplyRequest) -> None:
        """Tell the order where the supply order stands; every step ends here: stop if cancelled."""
        stop_if_cancelled()
        assert self._view is not None
        view = self._view
        workflow.set_current_details(
            f"**{view.status}** · {view.kind or 'ordering'} of {view.quantity} x {view.sku} for "
            f"line {view.line_no} · received {view.received}"
            + (f" · expected {view.expected_at:%Y-%m-%d}" if view.expected_at else "")
            + (f"\n\nEscalation level {view.escalation_level}" if view.escalation_level else "")
            + next_rung_details(self._wait)
            + (f"\n\n**Needs attention:** {view.needs_attention}" if view.needs_attention else "")
        )
        order = workflow.get_external_workflow_handle(order_workflow_id(request.order_id))
        await order.signal(SUPPLY_PROGRESS_SIGNAL, self._view)

    # --- messages --------------------------------------------------------------------

    @workflow.signal(dynamic=True, description=SIGNALS_DESCRIPTION)
    async def on_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """Every signal comes in here and is read field by field (see ``deliver``)."""
        inbound: dict[str, Inbound[Any]] = {
            SUPPLY_RECEIVED_SIGNAL: Inbound(SupplyReceipt, self._take_receipt),
            EXTEND_DEADLINE_SIGNAL: Inbound(DeadlineExtension, self._extend),
        }
        await deliver(name, payloads, inbound, self._audit_log())

    def _take_receipt(self, receipt: SupplyReceipt) -> None:
        """Units arrived; the same delivery note twice counts once."""
        if receipt.receipt_id in self._seen_receipts:
            return
        self._seen_receipts.add(receipt.receipt_id)
        self._receipts.append(receipt)

    @workflow.update(name=SUPPLY_RECEIVED_SIGNAL + UPDATE_SUFFIX)
    async def supply_received_now(self, *arguments: Any) -> str:
        """As the signal, with an answer: refused for a delivery note already taken."""
        name = SUPPLY_RECEIVED_SIGNAL + UPDATE_SUFFIX
        receipt = await read_update(name, SupplyReceipt, arguments, self._audit_log())
        refusal: Wording | None
        if receipt.receipt_id in self._seen_receipts:
            refusal = Wording(
                message=N_("delivery note %(note)s was received already"),
                args={"note": repr(receipt.receipt_id)},
            )
        else:
            refusal = receipt_refusal(self._view)
        if refusal is not None:
            await refuse(refusal, refused(name, refusal), self._audit_log())
        self._take_receipt(receipt)
        return f"receipt {receipt.receipt_id} of {receipt.quantity} accepted"

    def _extend(self, extension: DeadlineExtension) -> None:
        """Support decided to wait longer: the ladder's next rung moves to the new deadline."""
        if self._wait is not None:
            self._wait.extend(extension)
            if self._view is not None:
                self._view.needs_attention = None
                self._view.needs_attention_wording = None

    def _audit_log(self) -> IgnoredHandler:
        order_id = workflow.info().workflow_id.removeprefix("supply-").rsplit("-L", 1)[0]
        return audit_log_of(self._order_id or order_id)

    @workflow.query(name="supply")
    def supply(self) -> SupplyView | None:
        """Where this supply order stands."""
        return self._view
