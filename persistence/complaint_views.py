"""Read models of complaints for the console: the work list and one case with its history."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.complaints import (
    OPEN_STATUSES,
    PARCEL_WORDS,
    ComplaintCase,
    ComplaintCategory,
    ComplaintEventKind,
    RemedyItem,
)
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.models import (
    AttachmentContent,
    ComplaintAttachmentRow,
    ComplaintEventRow,
    ComplaintMailRow,
    ComplaintRow,
    OrderLine,
    RootCause,
    Shipment,
)
from persistence.wording_columns import wording_of

from .transactions.complaints import case_of


class ComplaintLine(BaseModel):
    """One complaint in a list."""

    case: ComplaintCase
    subject: str
    next_due: datetime | None
    """The earliest running service-level deadline."""


class ComplaintEntry(BaseModel):
    """One entry of a case's history."""

    at: datetime
    kind: str
    actor: str
    detail: str
    wording: Wording | None = None
    """The detail in the reader's language when the system wrote it (else ``detail``)."""
    amount: Decimal | None


class AttachmentView(BaseModel):
    """An attachment of a message, as the case lists it."""

    id: int
    filename: str
    media_type: str
    size: int
    stored: bool
    """False: over the size limit when it came; only the original message holds it."""


class MailView(BaseModel):
    """A message received for the case: the first one or a reply."""

    id: int
    received_at: datetime
    reply: bool
    subject: str
    has_original: bool
    cuts: list[str]
    """What reading it cut or replaced, in words."""
    cut_wordings: list[Wording | None] = []
    """Each of ``cuts`` for the reader (None: shown as it is)."""
    attachments: list[AttachmentView]


class Download(BaseModel):
    """Content staff download from a case: a stored attachment or an original message."""

    filename: str
    """As the mail named it (cleaned); only ever a suggestion to the browser."""
    media_type: str
    content: bytes


class CategoryChange(BaseModel):
    """Staff recategorising a case: who, when, from and to what, and why."""

    at: datetime
    actor: str
    before: ComplaintCategory | None
    after: ComplaintCategory | None
    reason: str


def category_change(entry: ComplaintEntry) -> CategoryChange:
    """The change a ``recategorised`` entry records (its detail is written
    ``late_delivery → damaged: reason``; a category it does not name is None)."""
    before, _, rest = entry.detail.partition(" → ")
    after, _, reason = rest.partition(": ")

    def category(value: str) -> ComplaintCategory | None:
        return ComplaintCategory(value) if value in set(ComplaintCategory) else None

    return CategoryChange(
        at=entry.at,
        actor=entry.actor,
        before=category(before.strip()),
        after=category(after.strip()),
        reason=reason.strip(),
    )


class ComplaintDetail(BaseModel):
    """One case as customer service works it."""

    case: ComplaintCase
    subject: str
    description: str
    from_address: str
    attachments: list[str]
    taken_by: str
    suggested_category: str
    root_cause: str | None
    survey_comment: str
    history: list[ComplaintEntry]
    mail: list[MailView] = []
    reshippable: list[RemedyItem] = []
    """What the case's order held, when it was shipped: the items a re-shipment can send
    again (none: no order, or an order never shipped)."""

    @property
    def filed_by(self) -> str:
        """Who filed the complaint: the staff member who took it, or ``customer``."""
        received = ComplaintEventKind.RECEIVED.value
        return next((e.actor for e in self.history if e.kind == received), "customer")

    @property
    def last_recategorisation(self) -> CategoryChange | None:
        """The last time staff changed the category, if they did."""
        recategorised = ComplaintEventKind.RECATEGORISED.value
        changes = [e for e in self.history if e.kind == recategorised]
        return category_change(changes[-1]) if changes else None


LIST_LIMIT = 200


def complaint_list(
    db: Database, *, which: str = "open", owner: str | None = None, customer_id: str | None = None
) -> list[ComplaintLine]:
    """Complaints newest first: ``open``, ``breached`` (open and late) or ``all``; only
    ``owner``'s (``"-"``: the team queue) or one customer's when asked."""
    statement = select(ComplaintRow).order_by(ComplaintRow.id.desc()).limit(LIST_LIMIT)
    if which in ("open", "breached"):
        statement = statement.where(ComplaintRow.status.in_([s.value for s in OPEN_STATUSES]))
    if which == "breached":
        statement = statement.where(ComplaintRow.sla_breached.is_(True))
    if owner == "-":
        statement = statement.where(ComplaintRow.owner.is_(None))
    elif owner:
        statement = statement.where(ComplaintRow.owner == owner)
    if customer_id:
        statement = statement.where(ComplaintRow.customer_id == customer_id)
    with db.reading() as session:
        lines = []
        for row in session.scalars(statement):
            case = case_of(row)
            due = [clock.due_at for clock in case.clocks if clock.due_at is not None]
            lines.append(
                ComplaintLine(case=case, subject=row.subject, next_due=min(due) if due else None)
            )
        return lines


def complaint_counts(db: Database, owner: str | None) -> dict[str, int]:
    """How many complaints are open, breached, in the team queue, and ``owner``'s."""
    open_values = [s.value for s in OPEN_STATUSES]
    with db.reading() as session:

        def count(*conditions: object) -> int:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(ComplaintRow)
                    .where(ComplaintRow.status.in_(open_values), *conditions)  # type: ignore[arg-type]
                )
                or 0
            )

        return {
            "open": count(),
            "breached": count(ComplaintRow.sla_breached.is_(True)),
            "team": count(ComplaintRow.owner.is_(None)),
            "mine": count(ComplaintRow.owner == owner) if owner else 0,
        }


_FIXED: dict[str, str] = {
    ComplaintEventKind.ASSIGNED: N_("in the team queue"),
    ComplaintEventKind.SURVEY_SENT: N_("satisfaction survey sent"),
    ComplaintEventKind.SURVEY_REMINDED: N_("survey reminder sent"),
    ComplaintEventKind.SURVEY_EXPIRED: N_("survey closed unanswered"),
    ComplaintEventKind.REOPENED: N_("the customer wrote again"),
    ComplaintEventKind.CLOSED: N_("closed"),
}
_RECEIVED = re.compile(r"by (phone|chat|email|web)(?: \((.+?)\))?: (.*)", re.DOTALL)
_MISSED = re.compile(
    r"(first response|resolution) deadline (\d{4}-\d\d-\d\d \d\d:\d\d) UTC missed: (.+)"
)


_PROPOSED = re.compile(
    r"remedy (\d+): (refund|goodwill credit|reship) of (\S+)((?:, \d+ x \S+)*): (.*)", re.DOTALL
)
_REMEDY = re.compile(r"remedy (\d+): (.*)", re.DOTALL)
_PARCEL = re.compile(r"replacement parcel (\S+): (\S+)(?: \((\S+) (\S+)\))?")
_REFUNDED = re.compile(r"refunded (\S+) (\S+) \((.+)\) with credit note (\S+)")
_CREDITED = re.compile(r"goodwill credit (\S+) of (\S+) (\S+)")
_RESENT = re.compile(r"replacement parcel (\S+) \((.*)\) from (\S+)")


def remedy_outcome_wording(outcome: str) -> Wording | None:
    """The wording of what a remedy booked, read from its English (a remedy carried out
    before remedies kept one); None when it is not one of ours."""
    if found := _REFUNDED.fullmatch(outcome):
        amount, currency, reference, note = found.groups()
        return Wording(
            message=N_(
                "refunded %(amount)s %(currency)s (%(reference)s) with credit note %(note)s"
            ),
            args={"amount": amount, "currency": currency, "reference": reference, "note": note},
        )
    if found := _CREDITED.fullmatch(outcome):
        number, amount, currency = found.groups()
        return Wording(
            message=N_("goodwill credit %(number)s of %(amount)s %(currency)s"),
            args={"number": number, "amount": amount, "currency": currency},
        )
    if found := _RESENT.fullmatch(outcome):
        parcel, items, warehouse = found.groups()
        return Wording(
            message=N_("replacement parcel %(parcel)s (%(items)s) from %(warehouse)s"),
            args={"parcel": parcel, "items": items, "warehouse": warehouse},
        )
    return None


def _with_outcome_wordings(case: ComplaintCase) -> ComplaintCase:
    """The case with the wordings of what its remedies booked, read from the English where
    the case was recorded before it kept them."""
    remedies = [
        remedy.model_copy(update={"outcome_wording": remedy_outcome_wording(remedy.outcome)})
        if remedy.status == "done" and remedy.outcome_wording is None
        else remedy
        for remedy in case.remedies
    ]
    return case if remedies == case.remedies else case.model_copy(update={"remedies": remedies})


def older_wording(kind: str, detail: str) -> Wording | None:
    """The wording of a system-written entry recorded before entries kept one (their
    English is regular); None for what a person typed and anything else."""
    if detail == _FIXED.get(kind):
        return Wording(message=detail)
    if kind == ComplaintEventKind.ASSIGNED and detail.startswith("assigned to "):
        return Wording(
            message=N_("assigned to %(owner)s"), args={"owner": detail.removeprefix("assigned to ")}
        )
    if kind == ComplaintEventKind.CLOSED and (
        score := re.fullmatch(r"closed; satisfaction (\d)/5", detail)
    ):
        return Wording(
            message=N_("closed; satisfaction %(score)s/5"), args={"score": int(score.group(1))}
        )
    if kind == ComplaintEventKind.RECEIVED and (found := _RECEIVED.fullmatch(detail)):
        channel, who, subject = found.groups()
        if who:
            return Wording(
                message=N_("by %(channel)s (%(who)s): %(subject)s"),
                terms={"channel": channel},
                args={"who": who, "subject": subject},
            )
        return Wording(
            message=N_("by %(channel)s: %(subject)s"),
            terms={"channel": channel},
            args={"subject": subject},
        )
    if kind == ComplaintEventKind.REMEDY_PROPOSED and (found := _PROPOSED.fullmatch(detail)):
        number, what, amount, items, reason = found.groups()
        return Wording(
            message=N_("remedy %(number)s: %(kind)s of %(amount)s%(items)s: %(reason)s"),
            args={"number": int(number), "amount": amount, "items": items, "reason": reason},
            terms={"kind": what},
        )
    if kind == ComplaintEventKind.REMEDY_DONE and (found := _REMEDY.fullmatch(detail)):
        outcome = remedy_outcome_wording(found.group(2))
        if outcome is not None:
            return Wording(
                message=N_("remedy %(number)s: %(outcome)s"),
                args={"number": int(found.group(1))},
                parts={"outcome": outcome},
            )
    if kind == ComplaintEventKind.PARCEL_PROGRESS and (found := _PARCEL.fullmatch(detail)):
        parcel, status, carrier, tracking = found.groups()
        term = PARCEL_WORDS.get(status, status)
        if tracking:
            return Wording(
                message=N_("replacement parcel %(parcel)s: %(status)s (%(carrier)s %(tracking)s)"),
                args={"parcel": parcel, "carrier": carrier, "tracking": tracking},
                terms={"status": term},
            )
        return Wording(
            message=N_("replacement parcel %(parcel)s: %(status)s"),
            args={"parcel": parcel},
            terms={"status": term},
        )
    if kind in (ComplaintEventKind.SLA_BREACHED, ComplaintEventKind.ESCALATED) and (
        found := _MISSED.fullmatch(detail)
    ):
        clock, due, rung = found.groups()
        return Wording(
            message=N_("%(clock)s deadline %(due)s missed: %(rung)s"),
            terms={"clock": clock, "rung": rung},
            moments={"due": datetime.strptime(due, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)},
        )
    return None


_WHAT = {"subject": N_("subject"), "text": N_("text")}
"""What of a message reading it cut or cleaned (domain.complaint_mail names them so)."""
_FROM = {
    N_("%(what)s: %(count)s control character(s) removed"): N_(
        "From: %(count)s control character(s) removed"
    ),
    N_("%(what)s: %(count)s undecodable character(s) shown as \ufffd"): N_(
        "From: %(count)s undecodable character(s) shown as \ufffd"
    ),
    N_("%(what)s: %(count)s undecodable byte(s) shown as \ufffd"): N_(
        "From: %(count)s undecodable byte(s) shown as \ufffd"
    ),
}
"""The same about the sender's header (its name is the header's, not a word to translate)."""
_CUTS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.DOTALL), message, names)
    for pattern, message, names in (
        (
            r"(From|subject|text): ([\d,]+) control character\(s\) removed",
            N_("%(what)s: %(count)s control character(s) removed"),
            ("what", "count"),
        ),
        (
            r"the message nests more than (\d+) multipart parts: only its headers were read "
            r"\(the original message is kept\)",
            N_(
                "the message nests more than %(count)s multipart parts: only its headers were "
                "read (the original message is kept)"
            ),
            ("count",),
        ),
        (
            r"(From|subject|text): ([\d,]+) undecodable character\(s\) shown as \ufffd",
            N_("%(what)s: %(count)s undecodable character(s) shown as \ufffd"),
            ("what", "count"),
        ),
        (
            r"(From|subject|text): ([\d,]+) undecodable byte\(s\) shown as \ufffd",
            N_("%(what)s: %(count)s undecodable byte(s) shown as \ufffd"),
            ("what", "count"),
        ),
        (
            r"(From|subject|text): ([\d,]+) characters, the first ([\d,]+) shown "
            r"\(the whole is in the original message\)",
            N_(
                "%(what)s: %(count)s characters, the first %(shown)s shown (the whole is in "
                "the original message)"
            ),
            ("what", "count", "shown"),
        ),
        (
            r"parts nested deeper than (\d+) levels were not read",
            N_("parts nested deeper than %(count)s levels were not read"),
            ("count",),
        ),
        (
            r"(\d+) attachments: the first (\d+) listed \(the original message keeps them all\)",
            N_(
                "%(count)s attachments: the first %(shown)s listed (the original message "
                "keeps them all)"
            ),
            ("count", "shown"),
        ),
        (
            r"text: unknown charset (.*), read as UTF-8",
            N_("text: unknown charset %(charset)s, read as UTF-8"),
            ("charset",),
        ),
        (
            r"text: bytes that are not text in its charset shown as \ufffd",
            N_("text: bytes that are not text in its charset shown as \ufffd"),
            (),
        ),
        (
            r"attachment (\d+): its ([\d,]+)-character name shortened",
            N_("attachment %(number)s: its %(count)s-character name shortened"),
            ("number", "count"),
        ),
        (
            r"attachment (\d+) \((.*)\): ([\d,]+) bytes, over the limit of ([\d,]+); not stored "
            r"on its own \(it is in the original message\)",
            N_(
                "attachment %(number)s (%(name)s): %(count)s bytes, over the limit of "
                "%(limit)s; not stored on its own (it is in the original message)"
            ),
            ("number", "name", "count", "limit"),
        ),
    )
)


def cut_wording(cut: str) -> Wording | None:
    """What reading a message cut, as a wording (read from the English the mail reader
    writes, see :mod:`domain.complaint_mail`); None when it is not one of its sentences."""
    for pattern, message, names in _CUTS:
        if found := pattern.fullmatch(cut):
            values = dict(zip(names, found.groups(), strict=True))
            what = values.pop("what", None)
            if what == "From" and message in _FROM:
                return Wording(message=_FROM[message], args=dict(values))
            if what == "From":
                return None
            return Wording(
                message=message,
                args=dict(values),
                terms={} if what is None else {"what": _WHAT[what]},
            )
    return None


def complaint_detail(db: Database, complaint_id: int) -> ComplaintDetail | None:
    """One case with its history, or None."""
    with db.reading() as session:
        row = session.get(ComplaintRow, complaint_id)
        if row is None:
            return None
        history = [
            ComplaintEntry(
                at=event.at,
                kind=event.kind,
                actor=event.actor,
                detail=event.detail,
                wording=older_wording(event.kind, event.detail)
                if event.wording is None
                else wording_of(event.wording),
                amount=event.amount,
            )
            for event in session.scalars(
                select(ComplaintEventRow)
                .where(ComplaintEventRow.complaint_id == complaint_id)
                .order_by(ComplaintEventRow.id)
            )
        ]
        return ComplaintDetail(
            case=_with_outcome_wordings(case_of(row)),
            subject=row.subject,
            description=row.description,
            from_address=row.from_address,
            attachments=list(row.attachments),
            taken_by=row.taken_by,
            suggested_category=row.suggested_category,
            root_cause=row.root_cause,
            survey_comment=row.survey_comment,
            history=history,
            mail=_mail_of(session, complaint_id),
            reshippable=_reshippable(session, row.order_id),
        )


def _reshippable(session: Session, order_id: str | None) -> list[RemedyItem]:
    if order_id is None or not session.scalar(
        select(Shipment.id).where(Shipment.order_id == order_id).limit(1)
    ):
        return []
    units: dict[str, int] = {}
    for sku, quantity in session.execute(
        select(OrderLine.sku, OrderLine.quantity).where(OrderLine.order_id == order_id)
    ):
        units[sku] = units.get(sku, 0) + quantity
    return [
        RemedyItem(sku=sku, quantity=min(count, 100_000))
        for sku, count in sorted(units.items())
        if count > 0
    ]


def _mail_of(session: Session, complaint_id: int) -> list[MailView]:
    attachments: dict[int, list[AttachmentView]] = {}
    for attachment in session.scalars(
        select(ComplaintAttachmentRow)
        .where(ComplaintAttachmentRow.complaint_id == complaint_id)
        .order_by(ComplaintAttachmentRow.id)
    ):
        attachments.setdefault(attachment.mail_id, []).append(
            AttachmentView(
                id=attachment.id,
                filename=attachment.filename,
                media_type=attachment.media_type,
                size=attachment.size,
                stored=attachment.sha256 is not None,
            )
        )
    kept = session.execute(
        select(
            ComplaintMailRow.id,
            ComplaintMailRow.received_at,
            ComplaintMailRow.reply,
            ComplaintMailRow.subject,
            ComplaintMailRow.original.is_not(None),
            ComplaintMailRow.cuts,
        )
        .where(ComplaintMailRow.complaint_id == complaint_id)
        .order_by(ComplaintMailRow.id)
    )
    return [
        MailView(
            id=mail_id,
            received_at=received_at,
            reply=reply,
            subject=subject,
            has_original=bool(has_original),
            cuts=list(cuts or []),
            cut_wordings=[cut_wording(cut) for cut in cuts or []],
            attachments=attachments.get(mail_id, []),
        )
        for mail_id, received_at, reply, subject, has_original, cuts in kept
    ]


def attachment_download(db: Database, complaint_id: int, attachment_id: int) -> Download | None:
    """Attachment ``attachment_id`` of complaint ``complaint_id`` with its stored content;
    None when the case has no such attachment or its content was not stored."""
    with db.reading() as session:
        attachment = session.get(ComplaintAttachmentRow, attachment_id)
        if attachment is None or attachment.complaint_id != complaint_id:
            return None
        content = (
            None if attachment.sha256 is None else session.get(AttachmentContent, attachment.sha256)
        )
        if content is None:
            return None
        return Download(
            filename=attachment.filename, media_type=attachment.media_type, content=content.content
        )


def original_download(db: Database, complaint_id: int, mail_id: int) -> Download | None:
    """The original of message ``mail_id`` of complaint ``complaint_id`` (``.eml``); None
    when the case has no such message or it came without one (as API fields)."""
    with db.reading() as session:
        mail = session.get(ComplaintMailRow, mail_id)
        if mail is None or mail.complaint_id != complaint_id or mail.original is None:
            return None
        return Download(
            filename=f"complaint-{complaint_id}-message-{mail_id}.eml",
            media_type="message/rfc822",
            content=mail.original,
        )


def root_causes(db: Database, *, active_only: bool = True) -> list[tuple[str, str]]:
    """The root causes complaints close with: (code, label), by label."""
    statement = select(RootCause.code, RootCause.label).order_by(RootCause.label)
    if active_only:
        statement = statement.where(RootCause.active.is_(True))
    with db.reading() as session:
        return [(code, label) for code, label in session.execute(statement)]


def customer_complaints(db: Database, customer_id: str) -> list[ComplaintLine]:
    """A customer's complaints, newest first (the customer view shows them)."""
    return complaint_list(db, which="all", customer_id=customer_id)
