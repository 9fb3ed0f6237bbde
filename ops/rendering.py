"""How orders look on a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from domain.credit_scoring import CustomerReviewOutcome
from domain.orders import OrderStatus, OrderView
from domain.replenishment import ReviewOutcome
from persistence.invariants import Violation
from persistence.order_views import OrderSummary

from .history import HistorySummary

STATUS_STYLES = {
    OrderStatus.COMPLETED: "green",
    OrderStatus.REJECTED: "yellow",
    OrderStatus.CANCELLED: "yellow",
    OrderStatus.FAILED: "red",
    OrderStatus.NEEDS_ATTENTION: "bold red",
}


def status_text(status: OrderStatus) -> Text:
    """The status, coloured by outcome."""
    return Text(status.value, style=STATUS_STYLES.get(status, "cyan"))


def order_table(views: Sequence[OrderView]) -> Group:
    """One row per order with its final status, then the reasons of those not completed."""
    table = Table(title="Orders")
    for column in ("order", "channel", "customer", "total", "status", "invoice", "receipt"):
        table.add_column(column, no_wrap=column in ("order", "status"))
    for view in views:
        table.add_row(
            view.order_id,
            view.channel,
            view.customer_id,
            f"{view.money.total} {view.money.currency}",
            status_text(view.status),
            view.money.invoice_number or "",
            view.money.receipt_number or "",
        )
    reasons = [
        Text(f"{view.order_id} {view.status.value}:\n  " + "\n  ".join(view.rejection_reasons))
        for view in views
        if view.rejection_reasons
    ]
    return Group(table, *reasons)


def summary_table(summaries: Sequence[OrderSummary]) -> Table:
    """An order list."""
    table = Table()
    columns = ("order", "channel", "customer", "total", "status", "level", "needs", "updated (UTC)")
    for column in columns:
        table.add_column(column)
    for summary in summaries:
        table.add_row(
            summary.order_id,
            summary.channel,
            summary.customer_id,
            f"{summary.total} {summary.currency}",
            status_text(summary.status),
            str(summary.escalation_level or ""),
            Text(summary.needs_attention or "", style="red"),
            summary.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    return table


def order_timeline(view: OrderView) -> Group:
    """Everything about one order, ending with its audit timeline."""
    money = view.money
    header = Text.assemble(
        (f"Order {view.order_id}", "bold"),
        "  ",
        status_text(view.status),
        f"\ncustomer {view.customer_id} · channel {view.channel} · workflow {view.workflow_id}",
        f"\ntotal {money.total} {money.currency} · terms {money.payment_terms or '-'}"
        f" · authorised {money.authorised}"
        + (f" (voided {money.voided})" if money.voided else "")
        + f" · captured {money.captured}"
        f" · received {money.received} · refunded {money.refunded}"
        f" · invoice {money.invoice_number or '-'} (due {money.due_date or '-'})"
        f" · credit note {money.credit_note_number or '-'} · receipt {money.receipt_number or '-'}",
        f"\nescalation level {view.escalation_level}",
    )
    parts: list[Table | Text] = [header]
    if view.needs_attention:
        parts.append(Text(f"needs attention: {view.needs_attention}", style="bold red"))
    if view.waiting is not None:
        ladder = view.waiting.ladder
        upcoming = (
            f"; next: {ladder.next_rung} at {ladder.next_at:%Y-%m-%d %H:%M} UTC"
            if ladder is not None and ladder.next_at is not None
            else ""
        )
        parts.append(
            Text(
                f"waiting for {view.waiting.waiting_for} since "
                f"{view.waiting.since:%Y-%m-%d %H:%M} UTC{upcoming}"
            )
        )
    if view.rejection_reasons:
        parts.append(Text("reasons:\n  " + "\n  ".join(view.rejection_reasons), style="yellow"))
    lines = Table("line", "sku", "qty", "unit price", "total", title="Lines")
    for line in view.lines:
        lines.add_row(
            str(line.line_no),
            line.sku,
            str(line.quantity),
            str(line.unit_price),
            str(line.line_total),
        )
    parts.append(lines)
    if view.reservations:
        reservations = Table("line", "sku", "warehouse", "qty", "status", title="Reservations")
        for r in view.reservations:
            reservations.add_row(str(r.line_no), r.sku, r.warehouse_id, str(r.quantity), r.status)
        parts.append(reservations)
    if view.supply:
        supply = Table(
            "line", "sku", "kind", "ordered", "received", "expected", "status", title="Supply"
        )
        for order in view.supply:
            supply.add_row(
                str(order.line_no),
                order.sku,
                order.kind,
                str(order.quantity),
                str(order.received),
                f"{order.expected_at:%Y-%m-%d}" if order.expected_at else "",
                order.status,
            )
        parts.append(supply)
    if view.shipments:
        shipments = Table(
            "shipment", "warehouse", "carrier", "tracking", "promised", "status", title="Shipments"
        )
        for s in view.shipments:
            promised = f"{s.promised_by:%Y-%m-%d %H:%M}" if s.promised_by else ""
            shipments.add_row(
                s.shipment_id, s.warehouse_id, s.carrier, s.tracking_number, promised, s.status
            )
        parts.append(shipments)
    history = Table("when (UTC)", "event", "detail", "by", title="Timeline")
    for event in view.history:
        history.add_row(
            event.at.strftime("%Y-%m-%d %H:%M:%S"), event.kind, event.detail, event.actor
        )
    parts.append(history)
    return Group(*parts)


def violation_table(violations: Sequence[Violation]) -> Table:
    """Broken invariants, one per row."""
    table = Table("invariant", "subject", "detail", title=f"{len(violations)} violation(s)")
    for violation in violations:
        table.add_row(violation.invariant, violation.subject, violation.detail)
    return table


def history_table(summary: HistorySummary) -> Table:
    """What ``oms demo-history`` wrote."""
    table = Table(
        "",
        "",
        title=f"History: {summary.orders:,} orders, {summary.first_day} to {summary.last_day}",
        show_header=False,
    )
    for status, count in summary.by_status.items():
        table.add_row(status, f"{count:,}")
    table.add_row("customers", f"{summary.customers:,}")
    table.add_row("delivered late", f"{summary.late_deliveries:,}")
    table.add_row("invoices paid in instalments", f"{summary.instalments:,}")
    table.add_row("escalations (holds, late parcels, dunning)", f"{summary.escalations:,}")
    table.add_row("goods receipts", f"{summary.goods_receipts:,}")
    if summary.submitted:
        table.add_row("new orders submitted", f"{summary.submitted:,}")
    table.add_row("seconds", f"{summary.seconds:,.1f}")
    return table


def inventory_review_table(outcome: ReviewOutcome) -> Table:
    """What one inventory review did (``oms replenishment review``, ``oms demo``)."""
    table = Table("", "", title=f"Inventory review of {outcome.day}", show_header=False)
    table.add_row("series forecast", f"{outcome.series:,}")
    table.add_row("forecast error (WAPE)", _share(outcome.wape))
    table.add_row("naive forecast's error (WAPE)", _share(outcome.naive_wape))
    table.add_row("alerts raised", f"{outcome.alerts_raised:,}")
    table.add_row("alerts cleared", f"{outcome.alerts_cleared:,}")
    table.add_row("proposals new", f"{outcome.proposals_new:,}")
    table.add_row("proposals updated", f"{outcome.proposals_updated:,}")
    table.add_row("proposals withdrawn", f"{outcome.proposals_withdrawn:,}")
    table.add_row("replenishments started", ", ".join(outcome.replenishments_started) or "none")
    return table


def customer_review_table(outcome: CustomerReviewOutcome) -> Table:
    """What one customer review did (``oms customers classify``, ``oms demo``): customers
    per segment and ABC class, who moved, the credit evaluation."""
    classification = outcome.classification
    table = Table(
        "", "", title=f"{classification.classified:,} customers classified", show_header=False
    )
    for segment, count in sorted(classification.segments.items()):
        table.add_row(f"segment {segment}", f"{count:,}")
    for abc_class, count in sorted(classification.abc.items()):
        table.add_row(f"ABC class {abc_class}", f"{count:,}")
    for move in classification.moved:
        before = move.previous.value if move.previous else "new"
        table.add_row(f"moved: {move.customer_id}", f"{before} -> {move.segment.value}")
    table.add_row("credit scored", f"{outcome.credit.scored:,}")
    table.add_row("credit proposals", f"{len(outcome.credit.proposed):,}")
    return table


def _share(value: float | None) -> str:
    """A share as a percentage; "n/a" when there was nothing to measure."""
    return "n/a" if value is None else f"{value:.1%}"
