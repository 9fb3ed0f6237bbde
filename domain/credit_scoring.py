"""Credit evaluation: a score per customer from how they pay, how long and how much they
have bought, their dunning history and what they owe now, with a suggested credit limit
and standing and the reasons behind them.

The rules are data (:class:`CreditRules`), tested with worked examples. A score is 0 to
100, the sum of five parts:

- **payment** (0-40): 40 with every invoice paid by its due date; minus 2 per day paid
  late on average, and minus 20 times the share of invoices paid late; nothing known
  yet is 20. An invoice is paid when the money received for it first covers what the
  customer owed (:func:`settled_at`), not when its receipt is written: a prepaid order's
  money, captured before its invoice, is never late.
- **tenure** (0-15): 1 per month since the first order kept, up to 15.
- **volume** (0-15): 1 per ``volume_step`` spent in the last 12 months, up to 15.
- **dunning** (0-15): 15 never reminded; 10 after a reminder, 5 after finance, 0 after
  collections (the highest rung reached in the last 12 months).
- **exposure** (0-15): 15 owing nothing; down to 0 at or above the credit limit
  (receivables and approved orders not yet invoiced); 15 minus 8 per overdue invoice.

The suggestion: below ``watch_below`` the standing is *watch* (every net-terms order is
held for a person); the limit is the average month's spend in the last year times the
months of credit the terms give (net days / 30, plus one month of orders in flight),
times a factor by score band, rounded up to ``limit_step``. Prepaid customers get no
credit: their suggestion is their current values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.catalogue import PaymentTerms, Standing
from domain.money import typed_amount
from domain.segments import ClassificationOutcome
from domain.wording import N_, Wording


class CreditRules(BaseModel):
    """How customers' credit is scored and what the score suggests."""

    model_config = ConfigDict(frozen=True)

    volume_step: Decimal = Decimal(2000)
    """Spend in the last 12 months worth one point of volume."""
    watch_below: int = 40
    """Scores below this suggest the standing *watch*."""
    factors: tuple[tuple[int, Decimal], ...] = (
        (80, Decimal("2.0")),
        (60, Decimal("1.5")),
        (40, Decimal("1.0")),
        (0, Decimal("0.5")),
    )
    """(lowest score, limit factor), best band first."""
    limit_step: Decimal = Decimal(500)
    minimum_limit: Decimal = Decimal(1000)
    """The least limit suggested for a net-terms customer who buys at all."""
    change_threshold: Decimal = Field(default=Decimal("0.10"), ge=0)
    """A suggested limit this share or less away from the current one is not proposed."""


class CreditFigures(BaseModel):
    """What the score reads about one customer (``today`` is the day scored)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    payment_terms: PaymentTerms
    net_days: int
    credit_limit: Decimal
    standing: Standing
    first_order_on: date | None
    spend_last_year: Decimal
    invoices_paid: int
    invoices_paid_late: int
    average_days_late: float
    """Over paid invoices: days after the due date (0 when on time)."""
    overdue_invoices: int
    highest_dunning_rung: int
    exposure: Decimal


class MoneyMovement(BaseModel):
    """Money that moved for one invoice, and when."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    received: Decimal = Decimal(0)
    """Money in (a capture, a bank transfer); negative for money given back (a refund)."""
    credited: Decimal = Decimal(0)
    """A credit note: this much less is owed."""


class InvoiceMoney(BaseModel):
    """One invoice as the score reads it: what the customer owed, by when, and the money
    that moved for it."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    issued_at: datetime
    due_on: date
    voided: bool = False
    """Cancelled in full by a credit note: the customer owed nothing."""
    movements: tuple[MoneyMovement, ...] = ()


def settled_at(invoice: InvoiceMoney) -> datetime | None:
    """Since when the money received has covered what the customer owed (the invoice less
    the credit notes issued until then); None while it does not, and for a voided invoice.

    A prepaid order's money is captured before its invoice is issued, so it is settled
    the moment it is invoiced, however long its receipt waits for the delivery. Money
    given back with a credit note for it (a complaint's refund) leaves it settled; money
    given back for nothing makes it owed again until it is paid again.
    """
    if invoice.voided:
        return None
    if invoice.amount <= 0:
        return invoice.issued_at
    received = credited = Decimal(0)
    settled = None
    ordered = sorted(invoice.movements, key=lambda m: m.at)
    for at, together in itertools.groupby(ordered, key=lambda m: m.at):
        for movement in together:
            received += movement.received
            credited += movement.credited
        if received < invoice.amount - credited:
            settled = None
        elif settled is None:
            settled = at
    return settled


class PaymentHabits(BaseModel):
    """How a customer paid their invoices (the payment and overdue parts of
    :class:`CreditFigures`)."""

    model_config = ConfigDict(frozen=True)

    invoices_paid: int = 0
    invoices_paid_late: int = 0
    average_days_late: float = 0.0
    overdue_invoices: int = 0


def settled_by(invoice: InvoiceMoney, today: date) -> datetime | None:
    """When the invoice was settled (:func:`settled_at`) if it was by the end of
    ``today``: paid, as the score and the customer page count it."""
    settled = settled_at(invoice)
    return settled if settled is not None and settled.date() <= today else None


def days_late(invoice: InvoiceMoney, settled: datetime) -> int:
    """Days from the invoice's due date to ``settled`` (when it was settled); 0 on time."""
    return max(0, (settled.date() - invoice.due_on).days)


def is_overdue(invoice: InvoiceMoney, today: date) -> bool:
    """Due before ``today`` and not settled by then; a voided invoice never is (nobody owed
    it), a partly paid one is."""
    return not invoice.voided and invoice.due_on < today and settled_by(invoice, today) is None


def still_owed(invoice: InvoiceMoney, today: date) -> Decimal:
    """What the customer still owed at the end of ``today``: the invoice less the credit
    notes issued and the money received (less given back) until then; nothing when voided."""
    if invoice.voided:
        return Decimal(0)
    moved = sum(
        (m.received + m.credited for m in invoice.movements if m.at.date() <= today),
        start=Decimal(0),
    )
    return max(Decimal(0), invoice.amount - moved)


def payment_habits(invoices: Iterable[InvoiceMoney], today: date, since: datetime) -> PaymentHabits:
    """Invoices issued after ``since`` and paid by ``today``, how many of them late and by
    how many days on average (each measured from its due date to when it was settled), and
    the invoices of any age that were due before ``today`` and are not settled.

    A voided invoice is neither: the customer owed nothing. A partly paid one is not paid.
    """
    days: list[int] = []
    overdue = 0
    for invoice in invoices:
        overdue += is_overdue(invoice, today)
        settled = settled_by(invoice, today)
        if settled is not None and invoice.issued_at > since:
            days.append(days_late(invoice, settled))
    return PaymentHabits(
        invoices_paid=len(days),
        invoices_paid_late=sum(1 for late in days if late),
        average_days_late=sum(days) / len(days) if days else 0.0,
        overdue_invoices=overdue,
    )


class CreditScore(BaseModel):
    """A customer's score, what it suggests, and why."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    score: int
    suggested_limit: Decimal
    suggested_standing: Standing
    reasons: list[str]
    """The reasons in English (the CLI, the API, older readers)."""
    wordings: list[Wording] = []
    """The same reasons as wordings, shown in the reader's language."""

    def differs_from(self, figures: CreditFigures, rules: CreditRules) -> bool:
        """Whether the suggestion is worth proposing: another standing, or a limit more
        than the threshold away from the current one."""
        if self.suggested_standing is not figures.standing:
            return True
        current = figures.credit_limit
        if not current:
            return bool(self.suggested_limit)
        return abs(self.suggested_limit - current) / current > rules.change_threshold


def score_credit(figures: CreditFigures, today: date, rules: CreditRules) -> CreditScore:
    """Score one customer and suggest their limit and standing (see the module's text)."""
    reasons: list[Wording] = []
    if figures.invoices_paid:
        late_share = figures.invoices_paid_late / figures.invoices_paid
        payment = max(0, round(40 - 2 * figures.average_days_late - 20 * late_share))
        reasons.append(
            Wording(
                message=N_(
                    "payment %(points)s/40: %(paid)s invoice(s) paid, %(late)s late, "
                    "%(days)s days late on average"
                ),
                args={
                    "points": payment,
                    "paid": figures.invoices_paid,
                    "late": figures.invoices_paid_late,
                    "days": f"{figures.average_days_late:.1f}",
                },
            )
        )
    else:
        payment = 20
        reasons.append(Wording(message=N_("payment 20/40: no invoice paid yet")))
    months = 0 if figures.first_order_on is None else _months(figures.first_order_on, today)
    tenure = min(15, months)
    reasons.append(
        Wording(
            message=N_("tenure %(points)s/15: %(months)s month(s) since the first order"),
            args={"points": tenure, "months": months},
        )
    )
    volume = min(15, int(figures.spend_last_year // rules.volume_step))
    reasons.append(
        Wording(
            message=N_("volume %(points)s/15: %(spend)s spent in 12 months"),
            args={"points": volume, "spend": f"{figures.spend_last_year:.2f}"},
        )
    )
    dunning = {0: 15, 1: 10, 2: 5}.get(figures.highest_dunning_rung, 0)
    reasons.append(
        Wording(message=N_("dunning 15/15: never reminded"))
        if not figures.highest_dunning_rung
        else Wording(
            message=N_("dunning %(points)s/15: reached rung %(rung)s in 12 months"),
            args={"points": dunning, "rung": figures.highest_dunning_rung},
        )
    )
    exposure = _exposure_points(figures)
    reasons.append(
        Wording(
            message=N_(
                "exposure %(points)s/15: owes %(owed)s of %(limit)s, %(overdue)s invoice(s) overdue"
            ),
            args={
                "points": exposure,
                "owed": f"{figures.exposure:.2f}",
                "limit": f"{figures.credit_limit:.2f}",
                "overdue": figures.overdue_invoices,
            },
        )
    )
    score = payment + tenure + volume + dunning + exposure
    if figures.payment_terms is PaymentTerms.PREPAID:
        reasons.append(Wording(message=N_("prepaid: no credit extended, nothing to suggest")))
        return _scored(figures, score, figures.credit_limit, figures.standing, reasons)
    standing = Standing.WATCH if score < rules.watch_below else Standing.GOOD
    factor = next(f for lowest, f in rules.factors if score >= lowest)
    months_of_credit = Decimal(figures.net_days) / 30 + 1
    raw = figures.spend_last_year / 12 * months_of_credit * factor
    limit = (
        max(rules.minimum_limit, _round_up(raw, rules.limit_step))
        if figures.spend_last_year
        else figures.credit_limit
    )
    reasons.append(
        Wording(
            message=N_(
                "limit %(limit)s: %(monthly)s a month x %(months)s month(s) of credit "
                "x %(factor)s for a score of %(score)s"
            ),
            args={
                "limit": f"{limit:.2f}",
                "monthly": f"{figures.spend_last_year / 12:.2f}",
                "months": f"{months_of_credit:.2f}",
                "factor": str(factor),
                "score": score,
            },
        )
        if figures.spend_last_year
        else Wording(message=N_("limit kept: nothing bought in 12 months"))
    )
    return _scored(figures, score, limit, standing, reasons)


def _scored(
    figures: CreditFigures,
    score: int,
    limit: Decimal,
    standing: Standing,
    reasons: list[Wording],
) -> CreditScore:
    return CreditScore(
        customer_id=figures.customer_id,
        score=score,
        suggested_limit=limit,
        suggested_standing=standing,
        reasons=[reason.english() for reason in reasons],
        wordings=reasons,
    )


def _months(start: date, end: date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day))


def _exposure_points(figures: CreditFigures) -> int:
    if figures.credit_limit > 0:
        used = min(Decimal(1), max(Decimal(0), figures.exposure / figures.credit_limit))
        points = round(15 * (1 - used))
    else:
        points = 15 if figures.exposure <= 0 else 0
    return max(0, int(points) - 8 * figures.overdue_invoices)


def _round_up(amount: Decimal, step: Decimal) -> Decimal:
    return Decimal(math.ceil(amount / step)) * step


class CreditProposalView(BaseModel):
    """A proposal as the console lists it."""

    id: int
    customer_id: str
    customer_name: str
    created_at: datetime
    score: int
    current_limit: Decimal
    current_standing: Standing
    suggested_limit: Decimal
    suggested_standing: Standing
    reasons: list[str]
    wordings: list[Wording] | None = None
    """The reasons as wordings (None: proposed before they were kept)."""
    status: str
    decided_by: str | None
    final_limit: Decimal | None
    final_standing: Standing | None
    note: str


class CreditDecisionInput(BaseModel):
    """A person with credit authority accepts a proposal, or overrides it with their own
    values and a reason."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    accept: bool
    limit: (
        Annotated[
            Decimal, Field(ge=0, lt=100_000_000, decimal_places=2), BeforeValidator(typed_amount)
        ]
        | None
    ) = None
    standing: Standing | None = None
    reason: Annotated[str, Field(max_length=500)] = ""
    actor: Annotated[str, Field(min_length=1, max_length=64)]

    def problem(self) -> str | None:
        """Why this decision cannot be taken as it is; None when it can."""
        if self.accept:
            return None
        if self.limit is None or self.standing is None:
            return "an override names the limit and the standing it sets"
        if not self.reason:
            return "reason: say why the suggestion is overridden"
        return None


class CreditStanding(BaseModel):
    """A customer's last score, as the customer view shows it."""

    score: int
    scored_at: datetime | None
    reasons: list[str]
    wordings: list[Wording] | None = None
    """The reasons as wordings (None: scored before they were kept)."""


class CreditReviewOutcome(BaseModel):
    """What one evaluation did."""

    scored: int
    proposed: list[int]
    """New proposals (a changed suggestion replaces the customer's open one)."""


class CustomerReviewOutcome(BaseModel):
    """What a nightly customer review did."""

    classification: ClassificationOutcome
    credit: CreditReviewOutcome
    personal_data_purged: int = 0
    """Archived orders whose address and payment token the retention policy removed."""
    care_tasks: list[int] = []
    """Care tasks created (each runs as a CareTaskWorkflow)."""
