"""InventoryReviewWorkflow and ReplenishmentWorkflow.

The review runs daily from a Temporal Schedule (and on demand from the console or
``oms inventory review``): it forecasts demand, projects stock, writes replenishment
proposals, raises and clears stock alerts, tells the planners, and starts the
replenishment orders of proposals a policy marks automatic.

A replenishment order is one approved proposal: it places a production or purchase
order with the factory or the supplier (the ports supply orders use), takes
deliveries (signal or update ``supply_received``, partial deliveries allowed, a
delivery note counted once) into stock through the ledger, and climbs a delay ladder
against the date the partner promised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.escalation import (
        EXTEND_DEADLINE_SIGNAL,
        DeadlineExtension,
        EscalationRung,
        LadderPosition,
    )
    from domain.notifications import Audience
    from domain.orders import UPDATE_SUFFIX
    from domain.replenishment import (
        FORECAST_AND_PROPOSE,
        INVENTORY_REVIEW_WORKFLOW_TYPE,
        PLACE_REPLENISHMENT,
        RECEIVE_REPLENISHMENT,
        REPLENISHMENT_WORKFLOW_TYPE,
        REVIEW_STOCK_ALERTS,
        ReplenishmentRequest,
        ReplenishmentView,
        ReviewFindings,
        ReviewOutcome,
        ReviewRequest,
        replenishment_delay_ladder,
        replenishment_workflow_id,
    )
    from domain.stock_alerts import AlertChanges
    from domain.supply import (
        SUPPLY_RECEIVED_SIGNAL,
        SupplyArrival,
        SupplyBalance,
        SupplyOrderPlaced,
        SupplyReceipt,
        SupplyStatus,
    )
    from domain.wording import Wording

from workflows._common import (
    EscalatingWait,
    Inbound,
    deliver,
    english,
    next_rung_details,
    notify,
    read_update,
    refuse,
    run_step,
    runs_database_steps_locally,
)
from workflows.policies import DATABASE_STEP, PARTNER_STEP, REVIEW_STEP

REVIEW_SUBJECT = "inventory-review"
"""What the review's notifications are filed under in the outbox."""


@workflow.defn(name=INVENTORY_REVIEW_WORKFLOW_TYPE)
class InventoryReviewWorkflow:
    """One review of every product and warehouse."""

    @workflow.run
    async def run(self, request: ReviewRequest) -> ReviewOutcome:
        """Forecast and propose, then alerts, then tell the planners, then start the
        replenishment orders that need no approval."""
        runs_database_steps_locally()  # pins the patch marker before any step
        request = ReviewRequest(day=request.day or workflow.now().date())
        assert request.day is not None
        findings = await run_step(
            FORECAST_AND_PROPOSE,
            request,
            ReviewFindings,
            f"Forecast demand and propose replenishment for {request.day}",
            REVIEW_STEP,
        )
        changes = await run_step(
            REVIEW_STOCK_ALERTS, request, AlertChanges, "Raise and clear stock alerts", REVIEW_STEP
        )
        started = []
        for order in findings.ordered:
            workflow_id = replenishment_workflow_id(order.proposal_id)
            try:
                await workflow.start_child_workflow(
                    REPLENISHMENT_WORKFLOW_TYPE,
                    order,
                    id=workflow_id,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    static_summary=(
                        f"Replenish {order.quantity} x {order.sku} in {order.warehouse_id}"
                    ),
                )
                started.append(workflow_id)
            except WorkflowAlreadyStartedError:
                pass  # started by the console, or by an earlier attempt of this review
        outcome = ReviewOutcome(
            day=request.day,
            series=findings.series,
            wape=findings.wape,
            naive_wape=findings.naive_wape,
            alerts_raised=len(changes.raised),
            alerts_cleared=len(changes.cleared),
            proposals_new=findings.proposals_new,
            proposals_updated=findings.proposals_updated,
            proposals_withdrawn=findings.proposals_withdrawn,
            replenishments_started=started,
        )
        if changes.raised or changes.cleared or findings.proposals_new or started:
            await notify(
                REVIEW_SUBJECT,
                f"review:{workflow.info().workflow_id}:{workflow.info().run_id}",
                Audience.INVENTORY,
                f"Inventory review {request.day}: {findings.proposals_new} new proposal(s), "
                f"{len(changes.raised)} alert(s) raised",
                _digest(outcome, changes),
            )
        workflow.set_current_details(_digest(outcome, changes))
        return outcome


def _digest(outcome: ReviewOutcome, changes: AlertChanges) -> str:
    lines = [
        f"Forecast {outcome.series} series; backtest WAPE "
        + (
            f"{outcome.wape:.1%} (seasonal-naive {outcome.naive_wape:.1%})"
            if outcome.wape is not None and outcome.naive_wape is not None
            else "n/a"
        ),
        f"Proposals: {outcome.proposals_new} new, {outcome.proposals_updated} updated, "
        f"{outcome.proposals_withdrawn} withdrawn; replenishments started: "
        f"{', '.join(outcome.replenishments_started) or 'none'}",
    ]
    lines += [
        f"RAISED {alert.kind.value} {alert.sku} in {alert.warehouse_id}: {alert.detail}"
        for alert in changes.raised
    ]
    lines += [
        f"cleared {alert.kind.value} {alert.sku} in {alert.warehouse_id}"
        for alert in changes.cleared
    ]
    return "\n".join(lines)


SIGNALS_DESCRIPTION = (
    "Signals: supply_received (SupplyReceipt), extend_deadline (DeadlineExtension). "
    "A payload that cannot be read is logged and ignored."
)


@workflow.defn(name=REPLENISHMENT_WORKFLOW_TYPE)
class ReplenishmentWorkflow:
    """Brings an approved proposal's quantity from the factory or the supplier."""

    def __init__(self) -> None:
        self._receipts: list[SupplyReceipt] = []
        self._seen_receipts: set[str] = set()
        self._wait: EscalatingWait | None = None
        self._view: ReplenishmentView | None = None

    @workflow.run
    async def run(self, request: ReplenishmentRequest) -> ReplenishmentView:
        """Order, wait for every unit (escalating when late), book each delivery."""
        runs_database_steps_locally()  # pins the patch marker before any step
        self._view = view = ReplenishmentView(
            proposal_id=request.proposal_id,
            sku=request.sku,
            warehouse_id=request.warehouse_id,
            kind=request.kind,
            quantity=request.quantity,
        )
        placed = await run_step(
            PLACE_REPLENISHMENT,
            request,
            SupplyOrderPlaced,
            f"Order {request.quantity} x {request.sku} for {request.warehouse_id}",
            PARTNER_STEP,
        )
        view.status = SupplyStatus.OPEN.value
        view.partner_reference = placed.partner_reference
        view.expected_at = placed.expected_at
        self._report()

        async def on_rung(rung: EscalationRung, position: LadderPosition) -> None:
            view.escalation_level = position.level
            if rung.asks_for_decision:
                view.needs_attention = "the delivery is late: extend the deadline or cancel"
            self._report()

        self._wait = EscalatingWait(
            replenishment_delay_ladder(request.kind),
            placed.expected_at,
            order_id=workflow.info().workflow_id,
            subject=f"Replenishment {request.quantity} x {request.sku} for {request.warehouse_id}",
            key="delay",
            audited=False,
            explain=lambda rung: (
                f"{placed.kind.value} order {placed.partner_reference} ({placed.partner}) was "
                f"expected {placed.expected_at:%Y-%m-%d}; {view.received} of "
                f"{request.quantity} received. {rung.name}"
            ),
        )
        while view.received < request.quantity:
            await self._wait.until(lambda: bool(self._receipts), on_rung)
            receipt = self._receipts.pop(0)
            balance = await run_step(
                RECEIVE_REPLENISHMENT,
                SupplyArrival(
                    supply_order_id=placed.supply_order_id,
                    order_id=placed.supply_order_id,
                    line_no=0,
                    receipt=receipt,
                ),
                SupplyBalance,
                f"Receive {receipt.quantity} x {request.sku} (note {receipt.receipt_id})",
                DATABASE_STEP,
            )
            view.received = balance.received
            self._report()
        view.status = SupplyStatus.RECEIVED.value
        view.needs_attention = None
        self._wait = None
        self._report()
        return view

    def _report(self) -> None:
        assert self._view is not None
        view = self._view
        workflow.set_current_details(
            f"**{view.status}** · {view.kind.value} of {view.quantity} x {view.sku} for "
            f"{view.warehouse_id} · received {view.received}"
            + (f" · expected {view.expected_at:%Y-%m-%d}" if view.expected_at else "")
            + next_rung_details(self._wait)
            + (f"\n\n**Needs attention:** {view.needs_attention}" if view.needs_attention else "")
        )

    @workflow.signal(dynamic=True, description=SIGNALS_DESCRIPTION)
    async def on_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """Every signal comes in here and is read field by field (see ``deliver``)."""
        inbound: dict[str, Inbound[Any]] = {
            SUPPLY_RECEIVED_SIGNAL: Inbound(SupplyReceipt, self._take_receipt),
            EXTEND_DEADLINE_SIGNAL: Inbound(DeadlineExtension, self._extend),
        }
        await deliver(name, payloads, inbound, _log_ignored)

    def _take_receipt(self, receipt: SupplyReceipt) -> None:
        if receipt.receipt_id in self._seen_receipts:
            return
        self._seen_receipts.add(receipt.receipt_id)
        self._receipts.append(receipt)

    @workflow.update(name=SUPPLY_RECEIVED_SIGNAL + UPDATE_SUFFIX)
    async def supply_received_now(self, *arguments: Any) -> str:
        """As the signal, with an answer: refused for a note already taken, before the
        order is placed, or for more units than are outstanding."""
        name = SUPPLY_RECEIVED_SIGNAL + UPDATE_SUFFIX
        receipt = await read_update(name, SupplyReceipt, arguments, _log_ignored)
        view = self._view
        refusal = None
        if receipt.receipt_id in self._seen_receipts:
            refusal = f"delivery note {receipt.receipt_id!r} was received already"
        elif view is None or view.status != SupplyStatus.OPEN.value:
            refusal = "the order is not placed yet; try again in a moment"
        if refusal is not None:
            await refuse(refusal, f"{name} refused: {refusal}", _log_ignored)
        self._take_receipt(receipt)
        return f"receipt {receipt.receipt_id} of {receipt.quantity} accepted"

    def _extend(self, extension: DeadlineExtension) -> None:
        if self._wait is not None:
            self._wait.extend(extension)
            if self._view is not None:
                self._view.needs_attention = None

    @workflow.query(name="replenishment")
    def replenishment(self) -> ReplenishmentView | None:
        """Where this replenishment order stands."""
        return self._view


async def _log_ignored(detail: str | Wording) -> None:
    workflow.logger.warning("replenishment %s: %s", workflow.info().workflow_id, english(detail))
