"""Credit evaluation written and decided: each customer's score and reasons, the proposals
it makes, and a person's decision on one, applied to the customer as an audited change
(the order workflow's credit check reads the customer's current values)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.catalogue import PaymentTerms, Standing
from domain.credit_scoring import (
    CreditDecisionInput,
    CreditFigures,
    CreditProposalView,
    CreditReviewOutcome,
    CreditRules,
    CreditStanding,
    InvoiceMoney,
    MoneyMovement,
    PaymentHabits,
    payment_habits,
    score_credit,
)
from domain.customers import NOT_KEPT
from domain.orders import EventKind
from domain.settlement import InvoiceStatus, PaymentKind
from persistence.database import Database
from persistence.models import (
    CreditNote,
    CreditProposal,
    Customer,
    Invoice,
    Order,
    OrderEventRow,
    Payment,
)
from persistence.wording_columns import wordings_json, wordings_of

from .credit import customer_exposure
from .customers import customer_record, save_in_session
from .money import MONEY_IN
from .records import utcnow

DUNNING_LEVEL = re.compile(r"^dunning: .*\(level (\d+)\)$")


class CreditDecisionError(ValueError):
    """A credit decision that cannot be taken (no such proposal, decided already)."""


def credit_figures(db: Database, today: date) -> list[CreditFigures]:
    """What the score reads about every active customer, as of ``today``."""
    year_ago = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=365)
    kept = Order.status.not_in(NOT_KEPT)
    with db.reading() as session:
        first = dict(
            session.execute(
                select(Order.customer_id, func.min(Order.created_at))
                .where(kept)
                .group_by(Order.customer_id)
            ).all()
        )
        spend = dict(
            session.execute(
                select(Order.customer_id, func.sum(Order.total))
                .where(kept, Order.created_at > year_ago)
                .group_by(Order.customer_id)
            ).all()
        )
        invoices = invoices_by_customer(session, year_ago)
        rungs: dict[str, int] = {}
        # Details are encrypted at rest: the dunning ones are picked after decryption.
        for customer_id, detail in session.execute(
            select(Order.customer_id, OrderEventRow.detail)
            .join(Order, Order.id == OrderEventRow.order_id)
            .where(
                OrderEventRow.kind == EventKind.ESCALATED.value,
                OrderEventRow.created_at > year_ago,
            )
        ).all():
            if match := DUNNING_LEVEL.match(detail):
                rungs[customer_id] = max(rungs.get(customer_id, 0), int(match.group(1)))
        customers = session.scalars(
            select(Customer).where(Customer.active.is_(True)).order_by(Customer.id)
        ).all()
        habits = {
            customer_id: payment_habits(money, today, year_ago)
            for customer_id, money in invoices.items()
        }
        return [
            CreditFigures(
                customer_id=c.id,
                payment_terms=PaymentTerms(c.payment_terms),
                net_days=c.net_days,
                credit_limit=c.credit_limit,
                standing=Standing(c.standing),
                first_order_on=first[c.id].date() if c.id in first else None,
                spend_last_year=Decimal(spend.get(c.id) or 0),
                **habits.get(c.id, PaymentHabits()).model_dump(),
                highest_dunning_rung=rungs.get(c.id, 0),
                exposure=customer_exposure(session, c.id, except_order=""),
            )
            for c in customers
        ]


def invoices_by_customer(
    session: Session,
    since: datetime | None = None,
    customer_id: str | None = None,
    order_id: str | None = None,
) -> dict[str, list[InvoiceMoney]]:
    """Each customer's invoices that the score reads (issued after ``since``, or still
    open; every one without ``since``), with every movement of money for them: captures
    and bank transfers in, refunds out, credit notes. Voided invoices are left out: nobody
    owed them. With ``customer_id``, that customer's only (the customer page's); with
    ``order_id``, that order's only (a complaint's facts)."""
    read = Invoice.status != InvoiceStatus.VOIDED.value
    if since is not None:
        read &= (Invoice.issued_at > since) | (Invoice.status == InvoiceStatus.OPEN.value)
    if customer_id is not None:
        read &= Invoice.customer_id == customer_id
    if order_id is not None:
        read &= Invoice.order_id == order_id
    invoices = session.execute(
        select(
            Invoice.order_id,
            Invoice.customer_id,
            Invoice.amount,
            Invoice.issued_at,
            Invoice.due_date,
        ).where(read)
    ).all()
    movements: dict[str, list[MoneyMovement]] = {}
    for order_id, kind, amount, at in session.execute(
        select(Payment.order_id, Payment.kind, Payment.amount, Payment.created_at)
        .join(Invoice, Invoice.order_id == Payment.order_id)
        .where(read, Payment.kind.in_([*MONEY_IN, PaymentKind.REFUND.value]))
    ).all():
        received = -amount if kind == PaymentKind.REFUND.value else amount
        movements.setdefault(order_id, []).append(MoneyMovement(at=at, received=received))
    for order_id, amount, at in session.execute(
        select(CreditNote.order_id, CreditNote.amount, CreditNote.issued_at)
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(read)
    ).all():
        movements.setdefault(order_id, []).append(MoneyMovement(at=at, credited=amount))
    found: dict[str, list[InvoiceMoney]] = {}
    for order_id, customer_id, amount, issued_at, due_date in invoices:
        found.setdefault(customer_id, []).append(
            InvoiceMoney(
                amount=amount,
                issued_at=issued_at,
                due_on=due_date,
                movements=tuple(movements.get(order_id, ())),
            )
        )
    return found


def evaluate_credit(
    db: Database, today: date, now: datetime, rules: CreditRules
) -> CreditReviewOutcome:
    """Score every active customer, keep the score and its reasons on the customer, and
    propose the suggestions worth a person's look (replacing an open proposal that
    suggests something else; an open one that suggests the same stays)."""
    figures = credit_figures(db, today)
    proposed = []
    with db.transaction() as session:
        open_ones = {
            p.customer_id: p
            for p in session.scalars(select(CreditProposal).where(CreditProposal.status == "open"))
        }
        for f in figures:
            scored = score_credit(f, today, rules)
            customer = session.get(Customer, f.customer_id)
            assert customer is not None
            customer.credit_score = scored.score
            customer.credit_scored_at = now
            customer.credit_reasons = scored.reasons
            customer.credit_wordings = wordings_json(scored.wordings)
            waiting = open_ones.get(f.customer_id)
            if not scored.differs_from(f, rules):
                if waiting is not None:
                    waiting.status = "superseded"
                continue
            if waiting is not None:
                if (waiting.suggested_limit, waiting.suggested_standing) == (
                    scored.suggested_limit,
                    scored.suggested_standing.value,
                ):
                    continue
                waiting.status = "superseded"
            proposal = CreditProposal(
                customer_id=f.customer_id,
                created_at=now,
                score=scored.score,
                current_limit=f.credit_limit,
                current_standing=f.standing.value,
                suggested_limit=scored.suggested_limit,
                suggested_standing=scored.suggested_standing.value,
                reasons=scored.reasons,
                wordings=wordings_json(scored.wordings),
                status="open",
                note="",
            )
            session.add(proposal)
            session.flush()
            proposed.append(proposal.id)
    return CreditReviewOutcome(scored=len(figures), proposed=proposed)


def decide_credit_proposal(
    db: Database, proposal_id: int, decision: CreditDecisionInput
) -> CreditProposalView:
    """Accept a proposal (its suggestion becomes the customer's limit and standing) or
    override it with other values and a reason; either is an audited change of the
    customer, in the same transaction as the decision."""
    problem = decision.problem()
    if problem:
        raise CreditDecisionError(problem)
    with db.transaction() as session:
        proposal = session.get(CreditProposal, proposal_id)
        if proposal is None:
            raise CreditDecisionError(f"no credit proposal {proposal_id}")
        if proposal.status != "open":
            raise CreditDecisionError(f"credit proposal {proposal_id} is {proposal.status}")
        limit = proposal.suggested_limit if decision.accept else decision.limit
        standing = Standing(proposal.suggested_standing) if decision.accept else decision.standing
        assert limit is not None
        assert standing is not None
        customer = session.get(Customer, proposal.customer_id)
        assert customer is not None
        record = customer_record(customer).model_copy(
            update={"credit_limit": limit, "standing": standing}
        )
        actor = f"{decision.actor} (credit proposal {proposal_id})"[:64]
        now = utcnow()
        save_in_session(session, record, actor, now)
        proposal.status = "accepted" if decision.accept else "overridden"
        proposal.decided_by = decision.actor
        proposal.decided_at = now
        proposal.final_limit = limit
        proposal.final_standing = standing.value
        proposal.note = decision.reason
        return _view(session, proposal)


def credit_proposals(db: Database, *, open_only: bool = True) -> list[CreditProposalView]:
    """Credit proposals, newest first: the open ones, or all."""
    with db.reading() as session:
        query = select(CreditProposal).order_by(CreditProposal.id.desc())
        if open_only:
            query = query.where(CreditProposal.status == "open")
        return [_view(session, p) for p in session.scalars(query.limit(500))]


def _view(session: Session, proposal: CreditProposal) -> CreditProposalView:
    customer = session.get(Customer, proposal.customer_id)
    return CreditProposalView(
        id=proposal.id,
        customer_id=proposal.customer_id,
        customer_name=customer.name if customer else "",
        created_at=proposal.created_at,
        score=proposal.score,
        current_limit=proposal.current_limit,
        current_standing=Standing(proposal.current_standing),
        suggested_limit=proposal.suggested_limit,
        suggested_standing=Standing(proposal.suggested_standing),
        reasons=proposal.reasons,
        wordings=wordings_of(proposal.wordings),
        status=proposal.status,
        decided_by=proposal.decided_by,
        final_limit=proposal.final_limit,
        final_standing=Standing(proposal.final_standing) if proposal.final_standing else None,
        note=proposal.note,
    )


def credit_standing(db: Database, customer_id: str) -> CreditStanding | None:
    """A customer's last credit score and its reasons; None before the first evaluation."""
    with db.reading() as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.credit_score is None:
            return None
        return CreditStanding(
            score=customer.credit_score,
            scored_at=customer.credit_scored_at,
            reasons=customer.credit_reasons or [],
            wordings=wordings_of(customer.credit_wordings),
        )
