"""``oms complaints show``: one complaint case as support reads it (what ``oms status`` is
for an order): the case and where it stands, its service-level clocks, its remedies,
every message the customer (or staff) was sent about it, and its history."""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import BaseModel
from rich.console import Group
from rich.table import Table
from rich.text import Text

from domain.complaints import ComplaintCase, complaint_workflow_id
from domain.notifications import SentMessage
from persistence.complaint_views import ComplaintDetail, complaint_detail
from persistence.transactions.outbox import messages_about
from runtime.settings import Settings
from runtime.workers import open_database

from ._console import JsonOption, console, fail, record_number

CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution"}


class ComplaintShown(BaseModel):
    """What ``oms complaints show --json`` prints."""

    complaint: ComplaintDetail
    messages: list[SentMessage]
    """Every message sent about the case, oldest first (the notifications record)."""


def show_complaint(
    number: Annotated[int, record_number("complaint", "The complaint number, e.g. 12.")],
    as_json: JsonOption = False,
) -> None:
    """Show one complaint: the case, its state, clocks, remedies, the messages sent and its
    history."""
    settings = Settings()
    shown = asyncio.run(_read(settings, number))
    if shown is None:
        raise fail(
            f"complaint #{number}: not found in {settings.resolved_database_url} "
            "(check the number, or OMS_DATABASE_URL)"
        )
    if as_json:
        console.print_json(shown.model_dump_json())
    else:
        console.print(complaint_card(shown))


async def _read(settings: Settings, number: int) -> ComplaintShown | None:
    async with open_database(settings) as db:
        detail = await db.run(complaint_detail, db, number)
        if detail is None:
            return None
        messages = await db.run(messages_about, db, complaint_workflow_id(number))
    return ComplaintShown(complaint=detail, messages=messages)


def complaint_card(shown: ComplaintShown) -> Group:
    """The case, then its clocks, remedies, messages and history."""
    detail = shown.complaint
    case = detail.case
    header = Text.assemble(
        (f"Complaint #{case.id}", "bold"),
        "  ",
        (case.status.value, "bold"),
        f"\n{detail.subject}",
        f"\nchannel {case.channel.value} · customer {case.customer_id or '-'}"
        f" · order {case.order_id or '-'} · parcel {case.parcel_id or '-'}"
        f" · workflow {complaint_workflow_id(case.id)}",
        f"\ncategory {case.category.value} (suggested {detail.suggested_category})"
        f" · priority {case.priority.value} · owner {case.owner or 'team queue'}",
        f"\nreceived {case.received_at:%Y-%m-%d %H:%M} UTC · escalation level "
        f"{case.escalation_level} · deadlines missed {case.breaches} · reopened "
        f"{case.reopened}",
        f"\nroot cause {detail.root_cause or '-'} · remedies cost {case.remedy_cost} "
        f"{case.currency} · satisfaction "
        + ("-" if case.survey_score is None else f"{case.survey_score}/5")
        + (f" ({detail.survey_comment})" if detail.survey_comment else "")
        + (f" · closed {case.closed_at:%Y-%m-%d %H:%M} UTC" if case.closed_at else ""),
    )
    return Group(
        header,
        _clocks(case),
        _remedies(case),
        _messages(shown.messages),
        _history(detail),
    )


def _clocks(case: ComplaintCase) -> Table:
    table = Table("clock", "budget", "used", "due (UTC)", "state", title="Service levels")
    for clock in case.clocks:
        if clock.stopped_at is not None:
            state = f"stopped {clock.stopped_at:%Y-%m-%d %H:%M}"
        elif clock.due_at is None:
            state = "paused"
        else:
            state = "running"
        if clock.breached:
            state += f", breached (rungs {clock.rungs_fired})"
        table.add_row(
            CLOCK_LABELS.get(clock.clock.value, clock.clock.value),
            str(clock.budget),
            str(clock.used),
            "-" if clock.due_at is None else f"{clock.due_at:%Y-%m-%d %H:%M}",
            state,
        )
    return table


def _remedies(case: ComplaintCase) -> Table:
    table = Table("#", "kind", "amount", "status", "asked by", "decided by", "reason / outcome")
    table.title = "Remedies"
    for remedy in case.remedies:
        items = ", ".join(f"{item.quantity} x {item.sku}" for item in remedy.items)
        table.add_row(
            str(remedy.number),
            remedy.kind.value,
            f"{remedy.amount} {remedy.currency}",
            remedy.status,
            remedy.asked_by,
            remedy.decided_by or "",
            "; ".join(part for part in (items, remedy.reason, remedy.outcome) if part),
        )
    return table


def _messages(messages: list[SentMessage]) -> Table:
    table = Table("sent (UTC)", "to", "subject", "message", "reference", title="Messages sent")
    for message in messages:
        table.add_row(
            f"{message.sent_at:%Y-%m-%d %H:%M}",
            message.audience.value,
            message.subject,
            message.message,
            message.reference,
        )
    return table


def _history(detail: ComplaintDetail) -> Table:
    table = Table("at (UTC)", "what", "who", "detail", title="History")
    for entry in detail.history:
        amount = "" if entry.amount is None else f" ({entry.amount})"
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M}", entry.kind, entry.actor, entry.detail + amount)
    return table
