"""Filing complaints from any channel and opening their cases; ``oms complaints …``.

:func:`file_and_open` is the one way in for the console, the HTTP API and the command
line: the complaint is recorded (once per gateway message id), then its
``ComplaintWorkflow`` is started. A repeat of the same message starts it again if an
earlier attempt recorded the complaint but could not reach Temporal (the start is
idempotent), so a gateway's retry heals that gap. A message about an earlier case is
delivered to that case as the customer's reply (it reopens a resolved or closed one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import structlog
import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.complaint_mail import ReceivedMail, read_mail
from domain.complaints import (
    CASE_QUERY,
    COMPLAINT_WORKFLOW_TYPE,
    CUSTOMER_REPLIED_SIGNAL,
    REMEDY,
    REPLY,
    RESOLVE,
    CaseReply,
    ComplaintCase,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintPolicy,
    ComplaintStart,
    CustomerMessage,
    Intake,
    RemedyKind,
    RemedyRequest,
    Resolution,
    complaint_workflow_id,
)
from domain.messages import describe_validation_error
from domain.orders import TASK_QUEUE, OrderStatus, OrderView
from domain.visibility import complaint_search_attributes
from persistence.database import Database
from persistence.transactions.complaints import (
    ComplaintRefusedError,
    file_complaint,
    find_case,
    reply_delivered,
    reply_not_delivered,
)
from runtime.settings import Settings
from runtime.temporal import connect
from runtime.workers import open_database

from ._console import JsonOption, console, fail, record_number
from .staff import StaffAction, perform

MAX_EML_BYTES = 25 * 1024 * 1024
"""The largest ``.eml`` file read (mail servers commonly refuse bigger messages)."""
DEFAULT_ATTACHMENT_BYTES = Settings.model_fields["complaint_attachment_max_bytes"].default
"""Attachments larger than this are kept only inside the original message."""

log = structlog.get_logger(__name__)


class EmlError(ValueError):
    """An ``.eml`` file that cannot be read as a complaint; the message says why."""


async def file_and_open(
    client: Client,
    db: Database,
    intake: ComplaintIntake,
    policy: ComplaintPolicy,
    mail: ReceivedMail | None = None,
) -> Intake:
    """Record the complaint and start its case, or hand a reply to the case it answers.
    ``mail`` (an e-mail as read) is kept with the case, original and attachments.

    Raises :class:`ComplaintRefusedError` (nothing recorded) when it names a customer,
    order or parcel that does not exist.
    """
    filed = await db.run(file_complaint, db, intake, policy.reopen_days, mail)
    try:
        await _open_case(client, filed, intake, policy)
    except RPCError as error:
        if filed.mail_id is not None and not filed.delivered:
            await db.run(reply_not_delivered, db, filed.mail_id)
        raise CaseNotStartedError(filed.case.id, error.message) from error
    if filed.mail_id is not None and not filed.delivered:
        await db.run(reply_delivered, db, filed.mail_id)
    return filed


class CaseNotStartedError(Exception):
    """The complaint is recorded but Temporal could not be reached to open (or tell) its
    case; ``oms complaints open`` (or the same message sent again) finishes the job, and
    ``oms check`` names such a complaint until then."""

    def __init__(self, complaint_id: int, reason: str) -> None:
        super().__init__(
            f"complaint #{complaint_id} is recorded, but its case could not be opened "
            f"(Temporal said: {reason}); `oms complaints open {complaint_id}` opens it, "
            "as does sending the same message again"
        )
        self.complaint_id = complaint_id


async def _open_case(
    client: Client, filed: Intake, intake: ComplaintIntake, policy: ComplaintPolicy
) -> None:
    if filed.reopen and filed.duplicate:
        return  # the reply was handed to its case, or is being handed over, already
    if filed.reopen:
        await client.get_workflow_handle(complaint_workflow_id(filed.case.id)).signal(
            CUSTOMER_REPLIED_SIGNAL,
            CustomerMessage(text=reply_text(intake.description), message_id=intake.message_id),
        )
        return
    await start_case(client, filed.case, intake.channel, policy)


async def start_case(
    client: Client, case: ComplaintCase, channel: ComplaintChannel, policy: ComplaintPolicy
) -> bool:
    """Start the case's workflow unless it runs already; False when it ran and ended (a
    repeat then changes nothing)."""
    workflow_id = complaint_workflow_id(case.id)
    try:
        await client.start_workflow(
            COMPLAINT_WORKFLOW_TYPE,
            ComplaintStart(case=case, policy=policy),
            id=workflow_id,
            task_queue=TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=complaint_search_attributes(case),
            static_summary=(
                f"Complaint #{case.id} via {channel.value}: "
                f"{case.category.value} ({case.priority.value})"
            ),
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


REPLY_CUT_NOTE = "\n[cut here: the whole message is kept with the case]"


def reply_text(text: str) -> str:
    """A customer's reply as the case's history holds it (at most the signal's 5,000
    characters, saying where it was cut; the message itself is kept whole)."""
    limit = CustomerMessage.model_fields["text"].metadata[0].max_length
    if len(text) <= limit:
        return text
    return text[: limit - len(REPLY_CUT_NOTE)] + REPLY_CUT_NOTE


def read_eml(path: Path, attachment_limit: int = DEFAULT_ATTACHMENT_BYTES) -> ReceivedMail:
    """A complaint e-mail from a standard ``.eml`` file (RFC 5322), read defensively
    (:func:`domain.complaint_mail.read_mail`): the original is kept, attachments up to
    ``attachment_limit`` bytes each are stored with the case, and what was cut is said.
    """
    try:
        if path.stat().st_size > MAX_EML_BYTES:
            raise EmlError(f"{path}: larger than {MAX_EML_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as error:
        raise EmlError(f"{path}: cannot read: {error.strerror}") from error
    mail = read_mail(raw, attachment_limit)
    if not mail.sender and not mail.from_header:
        raise EmlError(f"{path}: no From header: not an e-mail message")
    try:
        mail.intake()
    except ValidationError as error:
        problems = "; ".join(describe_validation_error(error))
        raise EmlError(f"{path}: {problems}") from error
    return mail


complaints_app = typer.Typer(
    help="Complaints: import e-mails, open recorded complaints' cases.", no_args_is_help=True
)


@complaints_app.command("open")
def open_cases(
    numbers: Annotated[list[int], record_number("complaint", "Complaint numbers, e.g. 12.")],
) -> None:
    """Open the case of recorded complaints whose workflow never started (Temporal was out
    of reach when they came in; `oms check` names them). A running or ended case is left
    alone."""

    async def run() -> list[str]:
        settings = Settings()
        client = await connect(settings)
        policy = settings.complaint_policy()
        said = []
        async with open_database(settings) as db:
            for number in numbers:
                case = await db.run(find_case, db, number)
                if case is None:
                    said.append(f"complaint #{number}: no such complaint")
                    continue
                running = await start_case(client, case, case.channel, policy)
                state = "running" if running else "ended already (left alone)"
                said.append(f"complaint #{number}: case {complaint_workflow_id(number)} {state}")
        return said

    said = asyncio.run(run())
    for line in said:
        console.print(line)
    if any("no such complaint" in line for line in said):
        raise fail("some complaints do not exist")


@dataclass(frozen=True)
class Imported:
    """What became of one ``.eml`` file."""

    file: str
    complaint_id: int | None
    outcome: str
    cuts: tuple[str, ...] = ()
    """What reading the mail cut or replaced (the case shows it too)."""


async def import_mail(
    client: Client,
    db: Database,
    files: Sequence[Path],
    policy: ComplaintPolicy,
    attachment_limit: int = DEFAULT_ATTACHMENT_BYTES,
) -> list[Imported]:
    """File each ``.eml`` file; what became of each. One bad message never stops the
    batch: whatever goes wrong with a file is said for that file (and logged)."""
    done = []
    for path in files:
        try:
            mail = read_eml(path, attachment_limit)
            filed = await file_and_open(client, db, mail.intake(), policy, mail)
        except (EmlError, ComplaintRefusedError) as wrong:
            done.append(Imported(str(path), None, f"refused: {wrong}"))
            continue
        except CaseNotStartedError as late:
            done.append(Imported(str(path), None, str(late)))
            continue
        except Exception as error:  # one bad message never stops a batch
            log.exception("complaint e-mail not filed", file=str(path))
            done.append(Imported(str(path), None, f"not filed: {type(error).__name__} (logged)"))
            continue
        outcome = (
            "duplicate" if filed.duplicate else "reply to the case" if filed.reopen else "filed"
        )
        done.append(Imported(str(path), filed.case.id, outcome, tuple(mail.cuts)))
    return done


@complaints_app.command("import-eml")
def import_eml(
    files: Annotated[list[Path], typer.Argument(help="E-mail files (.eml) to file as complaints.")],
    as_json: JsonOption = False,
) -> None:
    """File each e-mail as a complaint (a message imported twice is filed once; a reply
    naming a case goes to that case). Exits 1 if any file could not be filed."""

    async def run() -> list[Imported]:
        settings = Settings()
        client = await connect(settings)
        async with open_database(settings) as db:
            return await import_mail(
                client,
                db,
                files,
                settings.complaint_policy(),
                settings.complaint_attachment_max_bytes,
            )

    done = asyncio.run(run())
    if as_json:
        print(json.dumps([asdict(item) for item in done], indent=2))
    else:
        for item in done:
            case = f"complaint #{item.complaint_id}" if item.complaint_id else "-"
            console.print(f"{item.file}: {case} {item.outcome}", markup=False)
            for cut in item.cuts:
                console.print(f"  cut or replaced: {cut}", markup=False)
    if any(item.complaint_id is None for item in done):
        raise fail(f"{sum(item.complaint_id is None for item in done)} file(s) not filed")


DEMO_SERVICE = "demo-service"
DEMO_SUPERVISOR = "demo-supervisor"


async def file_demo_complaints(
    client: Client, db: Database, policy: ComplaintPolicy, orders: Sequence[OrderView], tag: str
) -> list[ComplaintCase]:
    """A few complaints about the demo's orders, left in different states: resolved with a
    partial refund, waiting for the customer, in progress with a goodwill credit waiting for
    the supervisor, and new. (Closing takes the survey's days; a demo does not wait.)"""
    completed = [o for o in orders if o.status is OrderStatus.COMPLETED]
    if not completed:
        return []
    prepaid = next((o for o in completed if o.money.captured), completed[0])
    other = next((o for o in completed if o.customer_id != prepaid.customer_id), completed[-1])
    story: list[tuple[ComplaintIntake, list[tuple[str, BaseModel]]]] = [
        (
            ComplaintIntake(
                channel=ComplaintChannel.PHONE,
                order_id=prepaid.order_id,
                category=ComplaintCategory.DAMAGED,
                subject="One item arrived broken",
                description="Customer called: one of the items was broken in the parcel.",
                taken_by=DEMO_SERVICE,
            ),
            [
                (REPLY, CaseReply(actor=DEMO_SERVICE, text="Sorry! We refund the broken item.")),
                (
                    REMEDY,
                    RemedyRequest(
                        actor=DEMO_SERVICE,
                        kind=RemedyKind.REFUND,
                        amount=min(Decimal(10), prepaid.money.total),
                        reason="one item broken in transit",
                    ),
                ),
                (
                    RESOLVE,
                    Resolution(
                        actor=DEMO_SERVICE,
                        summary="Part refunded; carrier told",
                        root_cause="carrier_damage",
                    ),
                ),
            ],
        ),
        (
            ComplaintIntake(
                channel=ComplaintChannel.EMAIL,
                order_id=other.order_id,
                category=ComplaintCategory.BILLING,
                subject="Invoice amount looks wrong",
                description="The invoice shows a different price than agreed.",
                message_id=f"<demo-{tag}-billing@mail.example>",
            ),
            [
                (
                    REPLY,
                    CaseReply(
                        actor=DEMO_SERVICE,
                        text="Could you send us the agreed price list?",
                        wait_for_customer=True,
                    ),
                ),
            ],
        ),
        (
            ComplaintIntake(
                channel=ComplaintChannel.CHAT,
                customer_id=other.customer_id,
                category=ComplaintCategory.SERVICE,
                subject="Nobody called back",
                description="I asked for a call back twice last week.",
                message_id=f"demo-{tag}-chat",
            ),
            [
                (REPLY, CaseReply(actor=DEMO_SERVICE, text="Sorry, we call you today.")),
                (
                    REMEDY,
                    RemedyRequest(
                        actor=DEMO_SERVICE,
                        kind=RemedyKind.GOODWILL_CREDIT,
                        amount=policy.approval_above + Decimal(25),
                        reason="two missed call-backs",
                    ),
                ),
            ],
        ),
        (
            ComplaintIntake(
                channel=ComplaintChannel.WEB,
                order_id=completed[len(completed) // 2].order_id,
                subject="Delivery took long",
                description="The parcel came later than the shop said.",
                message_id=f"demo-{tag}-web",
            ),
            [],
        ),
    ]
    cases = []
    for intake, actions in story:
        filed = await file_and_open(client, db, intake, policy)
        target = complaint_workflow_id(filed.case.id)
        for name, argument in actions:
            await perform(
                client, StaffAction(target, name, f"complaint #{filed.case.id}"), argument
            )
        case = await client.get_workflow_handle(target).query(CASE_QUERY, result_type=ComplaintCase)
        cases.append(case)
    return cases


def complaint_table(cases: Sequence[ComplaintCase]) -> Table:
    """One row per complaint: how it came, what about, where it stands."""
    table = Table(title="Complaints")
    for column in ("#", "channel", "customer", "order", "category", "priority", "status", "owner"):
        table.add_column(column, no_wrap=True)
    for case in cases:
        table.add_row(
            str(case.id),
            case.channel.value,
            case.customer_id or "",
            case.order_id or "",
            case.category.value,
            case.priority.value,
            case.status.value,
            case.owner or "team queue",
        )
    return table
