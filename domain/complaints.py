"""Complaints: what a customer complained about, and the durable case that handles it.

A complaint arrives by phone or chat (entered by customer service, or posted by a
chat system), by e-mail (posted by the mail gateway or imported from an ``.eml``
file) or from the web shop. It links to a customer and, where it names them, an
order and a parcel. Its category is suggested from the order's facts and can be
corrected; its priority follows from the category and the customer's segment.

Each complaint is one ``ComplaintWorkflow`` (id ``complaint-<id>``). Service levels
are counted in business hours (:mod:`domain.business_hours`): a first response and
a resolution deadline by priority, paused while the case waits for the customer. At
each deadline a ladder runs: the owner is reminded (the breach is recorded), then the
supervisor told, then the case moves to the team queue. After the resolution a
satisfaction survey goes out; a customer who writes again within the reopening
window reopens the case.
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import re
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator

from domain.business_hours import BusinessCalendar
from domain.messages import InboundMessage, whole_json_number
from domain.money import Amount, typed_amount
from domain.notifications import Audience
from domain.orders import UPDATE_SUFFIX
from domain.segments import Segment
from domain.shipping import ShipmentRequest
from domain.wording import N_, Wording

COMPLAINT_WORKFLOW_TYPE = "ComplaintWorkflow"


def complaint_workflow_id(complaint_id: int) -> str:
    """The workflow id of complaint ``complaint_id``."""
    return f"complaint-{complaint_id}"


LARGEST_COMPLAINT_NUMBER = 2**31 - 1
"""Complaint numbers are 32-bit database keys; a larger number names no complaint."""
SUBJECT_LIMIT = 998
"""Characters of a subject kept (RFC 5322's line limit); mail beyond it is cut, saying so."""
DESCRIPTION_LIMIT = 100_000
"""Characters of a complaint's text kept for reading; an e-mail's original is kept whole."""
MESSAGE_ID_LIMIT = 200
"""Characters of a gateway's message id (longer Message-IDs are replaced by a digest)."""
FROM_LIMIT = 320
"""Characters of a sender's address (RFC 5321: 64 + 1 + 255)."""
_CASE_REFERENCE = re.compile(r"complaint #(\d+)", re.IGNORECASE)


def case_number_in(subject: str) -> int | None:
    """The case a subject names (``Re: [Complaint #12] ...``, as our messages write it);
    None when it names none, or a number no complaint can have."""
    found = _CASE_REFERENCE.search(subject)
    if found is None or len(found.group(1)) > len(str(LARGEST_COMPLAINT_NUMBER)):
        return None
    number = int(found.group(1))
    return number if 1 <= number <= LARGEST_COMPLAINT_NUMBER else None


def sender_address(value: str) -> str:
    """The one address ``value`` (a ``From`` header, ``Ann <ann@example.org>``) names, in
    lower case; empty when it names none, several, or is ambiguous.

    The address part is what the standard library's parsers read: RFC 2047 words in the
    display name are decoded as text, never taken for an address, and both the header
    parser and ``getaddresses`` must read the same single address (a header the two read
    differently is someone trying to be read as someone else).
    """
    try:
        header = email.policy.default.header_factory("From", value)
        addresses = list(getattr(header, "addresses", ()))
        defects = getattr(header, "defects", ())
    except Exception:
        return ""
    if len(addresses) != 1 or any(
        isinstance(defect, email.errors.InvalidHeaderDefect) for defect in defects
    ):
        return ""
    address = str(addresses[0].addr_spec)
    plain = email.utils.getaddresses([value])
    if len(plain) != 1 or plain[0][1].casefold() != address.casefold():
        return ""
    local, at, domain = address.partition("@")
    if not (local and at and domain) or any(
        ch.isspace() or ch in "<>" or not ch.isprintable() for ch in address
    ):
        return ""
    return address.casefold()


class ComplaintChannel(StrEnum):
    """How the complaint reached us."""

    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    WEB = "web"


class ComplaintCategory(StrEnum):
    """What the complaint is about."""

    LATE_DELIVERY = "late_delivery"
    DAMAGED = "damaged"
    WRONG_OR_MISSING_ITEM = "wrong_or_missing_item"
    BILLING = "billing"
    SERVICE = "service"
    OTHER = "other"


class ComplaintPriority(StrEnum):
    """How fast the complaint must be handled."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_ORDER = list(ComplaintPriority)


class ComplaintStatus(StrEnum):
    """Where a complaint stands."""

    NEW = "new"
    """Received; nobody has answered the customer yet."""
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    """The service-level clocks are paused until the customer replies."""
    RESOLVED = "resolved"
    """Solved; the satisfaction survey is under way."""
    CLOSED = "closed"


OPEN_STATUSES = frozenset(
    {ComplaintStatus.NEW, ComplaintStatus.IN_PROGRESS, ComplaintStatus.WAITING_FOR_CUSTOMER}
)


class RemedyKind(StrEnum):
    """What the business does to put a complaint right."""

    REFUND = "refund"
    """Money back (or the invoice reduced) for the order: a credit note plus a refund."""
    GOODWILL_CREDIT = "goodwill_credit"
    """A credit on the customer's account, set against their next invoices."""
    RESHIP = "reship"
    """The missing or damaged items sent again in a replacement parcel, from stock."""


BASE_PRIORITY = {
    ComplaintCategory.DAMAGED: ComplaintPriority.HIGH,
    ComplaintCategory.WRONG_OR_MISSING_ITEM: ComplaintPriority.HIGH,
    ComplaintCategory.LATE_DELIVERY: ComplaintPriority.NORMAL,
    ComplaintCategory.BILLING: ComplaintPriority.NORMAL,
    ComplaintCategory.SERVICE: ComplaintPriority.NORMAL,
    ComplaintCategory.OTHER: ComplaintPriority.LOW,
}
VALUED_SEGMENTS = frozenset({Segment.CHAMPIONS, Segment.LOYAL, Segment.AT_RISK})
"""Customers whose complaints go one priority up: the best ones, and those we may lose."""


def priority_of(category: ComplaintCategory, segment: Segment | None) -> ComplaintPriority:
    """The priority of a complaint: by its category, one up for a valued customer."""
    base = PRIORITY_ORDER.index(BASE_PRIORITY[category])
    if segment in VALUED_SEGMENTS:
        base = min(base + 1, len(PRIORITY_ORDER) - 1)
    return PRIORITY_ORDER[base]


class OrderFacts(BaseModel):
    """What the order a complaint names said, when the complaint came in, about what may
    have gone wrong (kept with the case: the page says why a category was suggested)."""

    lost_or_damaged_parcels: list[str] = []
    """Parcels the carrier reported lost or damaged (their ids)."""
    late_parcels: list[str] = []
    """Parcels delivered after (or still out past) the promised date."""
    overdue_invoice: str = ""
    """The order's invoice (its number) when it was unpaid past its due date."""
    voided_invoice: str = ""
    """The order's invoice (its number) when it was voided."""


def suggest_category(facts: OrderFacts | None) -> ComplaintCategory:
    """The category the order's facts point to (staff may correct it): ``other`` without
    an order, ``service`` when the order shows nothing wrong."""
    if facts is None:
        return ComplaintCategory.OTHER
    if facts.lost_or_damaged_parcels:
        return ComplaintCategory.DAMAGED
    if facts.late_parcels:
        return ComplaintCategory.LATE_DELIVERY
    if facts.overdue_invoice or facts.voided_invoice:
        return ComplaintCategory.BILLING
    return ComplaintCategory.SERVICE


# --- service levels -----------------------------------------------------------------


class SlaClock(StrEnum):
    """The two service-level clocks of a case."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class ServiceLevel(BaseModel):
    """Business hours allowed for the first response and for the resolution."""

    model_config = ConfigDict(frozen=True)

    first_response: timedelta
    resolution: timedelta

    def budget(self, clock: SlaClock) -> timedelta:
        """The business time allowed on ``clock``."""
        return self.first_response if clock is SlaClock.FIRST_RESPONSE else self.resolution


class ComplaintRung(BaseModel):
    """One rung of the complaint ladder: business time after a deadline, and who is told."""

    model_config = ConfigDict(frozen=True)

    name: str
    after: timedelta
    notify: Audience


REASSIGN_RUNG = N_("reassign to the team queue")
COMPLAINT_LADDER: tuple[ComplaintRung, ...] = (
    ComplaintRung(name=N_("remind the owner"), after=timedelta(0), notify=Audience.ASSIGNEE),
    ComplaintRung(
        name=N_("tell the supervisor"), after=timedelta(hours=2), notify=Audience.SUPERVISOR
    ),
    ComplaintRung(name=REASSIGN_RUNG, after=timedelta(hours=4), notify=Audience.CUSTOMER_SERVICE),
)
"""Run at each deadline, counted in business hours from it; the first rung is the breach.
A rung's name is a catalogue word: the case's history names it in the reader's language."""

CATEGORY_WORDS: dict[str, str] = {
    ComplaintCategory.LATE_DELIVERY: N_("Late delivery"),
    ComplaintCategory.DAMAGED: N_("Damaged"),
    ComplaintCategory.WRONG_OR_MISSING_ITEM: N_("Wrong or missing item"),
    ComplaintCategory.BILLING: N_("Billing"),
    ComplaintCategory.SERVICE: N_("Service"),
    ComplaintCategory.OTHER: N_("Other"),
}
"""Categories as the wordings of a case's history name them (terms)."""
REMEDY_WORDS: dict[RemedyKind, str] = {
    RemedyKind.REFUND: N_("refund"),
    RemedyKind.GOODWILL_CREDIT: N_("goodwill credit"),
    RemedyKind.RESHIP: N_("reship"),
}
"""Remedies as the wordings of a case's history name them (the English as written before)."""
PARCEL_WORDS: dict[str, str] = {
    "planned": N_("planned"),
    "awaiting_packing": N_("awaiting packing"),
    "booked": N_("booked"),
    "picked_up": N_("picked up"),
    "in_transit": N_("in transit"),
    "exception": N_("a problem on the way"),
    "delivered": N_("delivered"),
    "lost": N_("lost"),
    "cancelled": N_("cancelled"),
}
"""A replacement parcel's states (its status codes) as the case's history names them."""


class ComplaintPolicy(BaseModel):
    """Everything a complaint case is timed and limited by (settings make one)."""

    model_config = ConfigDict(frozen=True)

    calendar: BusinessCalendar = BusinessCalendar()
    service_levels: dict[ComplaintPriority, ServiceLevel] = {
        ComplaintPriority.URGENT: ServiceLevel(
            first_response=timedelta(hours=1), resolution=timedelta(hours=8)
        ),
        ComplaintPriority.HIGH: ServiceLevel(
            first_response=timedelta(hours=4), resolution=timedelta(hours=16)
        ),
        ComplaintPriority.NORMAL: ServiceLevel(
            first_response=timedelta(hours=8), resolution=timedelta(hours=40)
        ),
        ComplaintPriority.LOW: ServiceLevel(
            first_response=timedelta(hours=16), resolution=timedelta(hours=80)
        ),
    }
    approval_above: Amount = Decimal(50)
    """Remedies worth more than this need a supervisor's approval."""
    reopen_days: int = 14
    """A customer who writes within this many days of the closing reopens the case."""
    survey_delay: timedelta = timedelta(days=1)
    survey_reminder_after: timedelta = timedelta(days=3)
    survey_closes_after: timedelta = timedelta(days=7)
    """Counted from the survey's sending; then it closes unanswered."""


# --- the case -----------------------------------------------------------------------


class ClockView(BaseModel):
    """One service-level clock as the case shows it."""

    clock: SlaClock
    budget: timedelta
    used: timedelta = timedelta(0)
    """Business time used before ``running_since`` (or in all, once stopped)."""
    running_since: datetime | None = None
    """When the clock last started running; None while paused or stopped."""
    due_at: datetime | None = None
    """The deadline while it runs."""
    stopped_at: datetime | None = None
    """When the clock stopped for good (first reply, resolution)."""
    breached: bool = False
    rungs_fired: int = 0
    """How many rungs of :data:`COMPLAINT_LADDER` fell due on this clock."""


def start_clock(
    clock: SlaClock, budget: timedelta, at: datetime, calendar: BusinessCalendar
) -> ClockView:
    """A clock that starts running at ``at``."""
    return ClockView(clock=clock, budget=budget, running_since=at, due_at=calendar.add(at, budget))


def pause_clock(view: ClockView, at: datetime, calendar: BusinessCalendar) -> ClockView:
    """The clock stopped at ``at`` (the business time it ran is kept); stopped ones stay."""
    if view.running_since is None:
        return view
    used = view.used + calendar.between(view.running_since, at)
    return view.model_copy(update={"used": used, "running_since": None, "due_at": None})


def resume_clock(view: ClockView, at: datetime, calendar: BusinessCalendar) -> ClockView:
    """The paused clock running again from ``at``; its deadline moves by the pause."""
    if view.running_since is not None or view.stopped_at is not None:
        return view
    due = calendar.add(at, view.budget - view.used)
    return view.model_copy(update={"running_since": at, "due_at": due})


def stop_clock(view: ClockView, at: datetime, calendar: BusinessCalendar) -> ClockView:
    """The clock stopped for good at ``at`` (answered, resolved)."""
    if view.stopped_at is not None:
        return view
    return pause_clock(view, at, calendar).model_copy(update={"stopped_at": at})


def next_rung_at(view: ClockView, calendar: BusinessCalendar) -> datetime | None:
    """When the clock's next ladder rung falls due; None while paused or when all have."""
    if view.running_since is None or view.rungs_fired >= len(COMPLAINT_LADDER):
        return None
    rung = COMPLAINT_LADDER[view.rungs_fired]
    return calendar.add(view.running_since, view.budget - view.used + rung.after)


class RemedyItem(BaseModel):
    """Units of one product to send again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=100_000)]


AWAITING_APPROVAL = "awaiting approval"
"""The status of a remedy above the approval amount until a supervisor decides."""


class RemedyView(BaseModel):
    """A remedy asked for on a case, and what came of it."""

    number: int
    kind: RemedyKind
    amount: Amount
    currency: str
    reason: str
    asked_by: str
    status: str = "pending"
    """``awaiting approval``, ``done``, ``refused`` or ``failed``."""
    decided_by: str | None = None
    outcome: str = ""
    outcome_wording: Wording | None = None
    """What was booked, for people (``outcome`` in English); None: what a person typed or
    an older case."""
    items: list[RemedyItem] = []
    """What a re-shipment sends again."""


class ComplaintCase(BaseModel):
    """What the complaint workflow starts with and keeps current (its query)."""

    id: int
    customer_id: str | None
    order_id: str | None
    parcel_id: str | None = None
    channel: ComplaintChannel
    category: ComplaintCategory
    priority: ComplaintPriority
    segment: Segment | None = None
    """The customer's segment when the complaint came in (it raises the priority)."""
    status: ComplaintStatus = ComplaintStatus.NEW
    owner: str | None = None
    received_at: datetime
    currency: str = "EUR"
    escalation_level: int = 0
    clocks: list[ClockView] = []
    remedies: list[RemedyView] = []
    remedy_cost: Amount = Decimal(0)
    """What the remedies carried out cost the business (a re-shipment at cost price)."""
    suggested_from: OrderFacts | None = None
    """The order's facts the category was suggested from; None: no order was named, or the
    case was filed before the facts were kept with it."""
    breaches: int = 0
    """Service-level deadlines missed, over the case's whole life."""
    reopened: int = 0
    survey_score: int | None = None
    closed_at: datetime | None = None

    @property
    def breached(self) -> bool:
        """Whether any service level was missed."""
        return self.breaches > 0

    @property
    def awaiting_approval(self) -> Decimal:
        """What the remedies still waiting for a supervisor's decision are worth (not
        granted: counted apart from :attr:`remedy_cost`)."""
        return sum((r.amount for r in self.remedies if r.status == AWAITING_APPROVAL), Decimal(0))


def possible_remedies(case: ComplaintCase) -> list[RemedyKind]:
    """The remedies the case has what they need for: a refund and a re-shipment the
    complaint's order, a goodwill credit its customer (others would only be refused)."""
    return [
        kind
        for kind in RemedyKind
        if (case.customer_id if kind is RemedyKind.GOODWILL_CREDIT else case.order_id)
    ]


class ComplaintStart(BaseModel):
    """Input of the complaint workflow: the case as filed, and the policy it runs under
    (fixed for the case's life, so a changed setting never reshapes a running case)."""

    case: ComplaintCase
    policy: ComplaintPolicy = ComplaintPolicy()


# --- what staff and systems send ----------------------------------------------------

Actor = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]


class ComplaintIntake(InboundMessage):
    """A complaint as a channel hands it over."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    channel: ComplaintChannel
    customer_id: Annotated[str, Field(max_length=64)] = ""
    """Who complains; empty: found from ``from_address`` (an e-mail)."""
    from_address: Annotated[str, Field(max_length=FROM_LIMIT)] = ""
    """The sender's e-mail address (e-mail and web)."""
    order_id: Annotated[str, Field(max_length=64)] = ""
    parcel_id: Annotated[str, Field(max_length=64)] = ""
    category: ComplaintCategory | None = None
    """As the customer or agent chose it; None: suggested from the order's facts."""
    subject: Annotated[str, Field(min_length=1, max_length=SUBJECT_LIMIT)]
    description: Annotated[str, Field(min_length=1, max_length=DESCRIPTION_LIMIT)]
    message_id: Annotated[str, Field(max_length=MESSAGE_ID_LIMIT)] = ""
    """The gateway's message id: the same id from the same channel is one complaint."""
    attachments: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=20)] = []
    """References to attachments kept elsewhere (a mail store path, a URL), never content."""
    taken_by: Annotated[str, Field(max_length=64)] = ""
    """The customer-service user who took a phone or chat complaint."""


class Intake(BaseModel):
    """Result of filing a complaint: the case, and whether it was already on file."""

    case: ComplaintCase
    duplicate: bool = False
    reopen: bool = False
    """The message was the customer writing again about an earlier complaint."""
    mail_id: int | None = None
    """The message as kept with the case (``complaint_mail``), when it was kept."""
    delivered: bool = True
    """False: a reply kept for the case but not yet handed to its workflow."""


class Assignment(InboundMessage):
    """Give the case to a user (``owner``), or by round robin (empty)."""

    actor: Actor
    owner: Annotated[str, Field(max_length=64)] = ""


class CaseNote(InboundMessage):
    """An internal note on the case."""

    actor: Actor
    text: Text


class CaseReply(InboundMessage):
    """A reply to the customer, sent through the notifier and kept on the case."""

    actor: Actor
    text: Text
    wait_for_customer: bool = False
    """Pause the service-level clocks until the customer answers."""


class CustomerMessage(InboundMessage):
    """The customer wrote about the case (signal ``customer_replied``)."""

    text: Annotated[str, Field(max_length=5000)] = ""
    message_id: Annotated[str, Field(max_length=200)] = ""


class Recategorisation(InboundMessage):
    """Correct the category (and so the priority)."""

    actor: Actor
    category: ComplaintCategory
    reason: Annotated[str, Field(max_length=500)] = ""


class RemedyRequest(InboundMessage):
    """Put the complaint right: a refund or a goodwill credit of ``amount``, or the
    ``items`` re-shipped (their worth at the order's prices is what needs approval)."""

    actor: Actor
    kind: RemedyKind
    amount: Annotated[Amount, Field(gt=0), BeforeValidator(typed_amount)] | None = None
    items: Annotated[list[RemedyItem], Field(max_length=50)] = []
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _what_it_needs(self) -> RemedyRequest:
        if self.kind is RemedyKind.RESHIP and not self.items:
            raise ValueError("items: name what to send again (sku and quantity)")
        if self.kind is not RemedyKind.RESHIP and self.amount is None:
            raise ValueError(f"amount: a {self.kind.value.replace('_', ' ')} needs an amount")
        return self


class RemedyDecision(InboundMessage):
    """A supervisor approves or refuses remedy ``number``."""

    actor: Actor
    number: Annotated[int, Field(ge=1)]
    approve: bool
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class Resolution(InboundMessage):
    """The case is solved: how, and why it happened."""

    actor: Actor
    summary: Text
    root_cause: Annotated[str, Field(min_length=1, max_length=64)]


class SurveyAnswer(InboundMessage):
    """The customer's satisfaction (update ``answer_survey_now``, signal ``survey_answered``)."""

    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] = ""
    survey: (
        Annotated[
            StrictInt,
            Field(ge=0, le=LARGEST_COMPLAINT_NUMBER),
            BeforeValidator(whole_json_number),
        ]
        | None
    ) = None
    """Which of the case's surveys this answers (its link's number); None: the one open."""


class SurveyOutcome(StrEnum):
    """What became of a survey answer (the answer of update ``answer_survey_now``)."""

    ANSWERED = "answered"
    ALREADY_ANSWERED = "already answered"
    """That survey was answered before; this answer is not taken."""
    CLOSED = "closed"
    """That survey is closed (expired, or the case was reopened or closed since)."""


# --- workflow messages and activities -----------------------------------------------

ASSIGN = "assign_complaint"
NOTE = "add_complaint_note"
REPLY = "reply_to_customer"
RECATEGORISE = "recategorise_complaint"
REMEDY = "propose_remedy"
DECIDE_REMEDY = "decide_remedy"
RESOLVE = "resolve_complaint"
"""Staff actions on a case; each is the update of the same name plus ``_now`` (as for
orders), answered once the action is recorded."""
ASSIGN_UPDATE = ASSIGN + UPDATE_SUFFIX
NOTE_UPDATE = NOTE + UPDATE_SUFFIX
REPLY_UPDATE = REPLY + UPDATE_SUFFIX
RECATEGORISE_UPDATE = RECATEGORISE + UPDATE_SUFFIX
REMEDY_UPDATE = REMEDY + UPDATE_SUFFIX
DECIDE_REMEDY_UPDATE = DECIDE_REMEDY + UPDATE_SUFFIX
RESOLVE_UPDATE = RESOLVE + UPDATE_SUFFIX
CUSTOMER_REPLIED_SIGNAL = "customer_replied"
SURVEY_ANSWERED_SIGNAL = "survey_answered"
ANSWER_SURVEY_UPDATE = "answer_survey" + UPDATE_SUFFIX
"""The customer's survey page: answered with a :class:`SurveyOutcome` (the first answer to
an open survey counts)."""
CASE_QUERY = "complaint"

RECORD_COMPLAINT_EVENT = "record_complaint_event"
"""Activity: write an event of the case (and the case's new state) to the database."""
ASSIGN_COMPLAINT = "assign_complaint_owner"
"""Activity: give the case to a user, or the least busy customer-service user."""
SEND_COMPLAINT_MESSAGE = "send_complaint_message"
"""Activity: send the customer a message about the case (reply, survey), once per key."""
CARRY_OUT_REMEDY = "carry_out_remedy"
"""Activity: book the remedy through the order's business transactions."""
PRICE_REPLACEMENT = "price_replacement"
"""Activity: check the items to re-ship against the order and price them at its prices."""
FOLLOW_UP_COMPLAINT = "follow_up_complaint"
"""Activity: create the customer-care follow-up task of a closed case."""


class ComplaintEventKind(StrEnum):
    """What an entry of a complaint's history records."""

    RECEIVED = "received"
    DUPLICATE = "duplicate"
    ASSIGNED = "assigned"
    NOTE = "note"
    REPLY = "reply"
    CUSTOMER_REPLIED = "customer_replied"
    RECATEGORISED = "recategorised"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    REMEDY_PROPOSED = "remedy_proposed"
    REMEDY_APPROVED = "remedy_approved"
    REMEDY_REFUSED = "remedy_refused"
    REMEDY_DONE = "remedy_done"
    REMEDY_FAILED = "remedy_failed"
    RESOLVED = "resolved"
    SURVEY_SENT = "survey_sent"
    SURVEY_REMINDED = "survey_reminded"
    SURVEY_ANSWERED = "survey_answered"
    SURVEY_EXPIRED = "survey_expired"
    CLOSED = "closed"
    REOPENED = "reopened"
    PARCEL_PROGRESS = "parcel_progress"
    """A replacement parcel the case sent moved on."""
    MESSAGE_IGNORED = "message_ignored"


class CaseEvent(BaseModel):
    """Input of :data:`RECORD_COMPLAINT_EVENT`: what happened, and the case after it."""

    case: ComplaintCase
    kind: ComplaintEventKind
    actor: str = "system"
    detail: str = ""
    wording: Wording | None = None
    """The detail for people when the system wrote it (``detail`` is its English); None
    when the detail is what a person typed."""
    amount: Amount | None = None
    root_cause: str | None = None
    key: str = ""
    """Unique per case and occasion: the same key is written once (an activity retry)."""


class CaseMessage(BaseModel):
    """Input of :data:`SEND_COMPLAINT_MESSAGE`."""

    complaint_id: int
    customer_id: str | None
    key: str
    subject: str
    message: str
    survey_link: bool = False
    """End the message with the link to the case's satisfaction survey."""
    survey_number: int = 0
    """Which of the case's surveys the link answers: the case's reopening count then."""


class OwnerRequest(BaseModel):
    """Input of :data:`ASSIGN_COMPLAINT`."""

    complaint_id: int
    owner: str = ""
    """A user; empty: the least busy active customer-service user (or the team queue)."""


class Owner(BaseModel):
    """Result of :data:`ASSIGN_COMPLAINT`."""

    owner: str | None


class RemedyOrder(BaseModel):
    """Input of :data:`CARRY_OUT_REMEDY` and :data:`PRICE_REPLACEMENT`."""

    complaint_id: int
    number: int
    kind: RemedyKind
    customer_id: str | None
    order_id: str | None
    amount: Amount
    reason: str
    items: list[RemedyItem] = []
    parcel_id: str | None = None
    """The parcel the complaint names (a replacement leaves from its warehouse)."""


class RemedyOutcome(BaseModel):
    """Result of :data:`CARRY_OUT_REMEDY`: what was booked, or why it could not be."""

    done: bool
    detail: str
    wording: Wording | None = None
    """The detail for people (``detail`` is its English)."""
    currency: str = ""
    cost: Amount | None = None
    """What it cost the business when not the amount itself (a replacement: cost price)."""
    parcel: ShipmentRequest | None = None
    """A replacement parcel to book and follow."""


class ReplacementPrice(BaseModel):
    """Result of :data:`PRICE_REPLACEMENT`: what the items are worth at the order's prices."""

    value: Amount
    currency: str


ACTION_REFUSED = "ComplaintActionRefused"
"""ApplicationError type: a staff action on a case cannot be carried out (a refund without
an order, more than the order kept; an owner who is not a customer-service user)."""


class FollowUp(BaseModel):
    """Input of :data:`FOLLOW_UP_COMPLAINT`."""

    complaint_id: int
    customer_id: str
    at: datetime
