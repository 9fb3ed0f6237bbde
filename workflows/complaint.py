"""ComplaintWorkflow: one durable case per complaint, from intake to the closed survey.

The case runs two service-level clocks in business hours (first response, resolution);
both pause while the case waits for the customer. When a clock's deadline passes the
complaint ladder runs on it: the owner is reminded (the breach is recorded), the
supervisor told, then the case moves to the team queue.

Staff act on the case by updates, each answered once recorded: assign, note, reply
(optionally waiting for the customer), recategorise, propose a remedy (carried out at
once, or after a supervisor's decision above the approval amount), decide a remedy,
resolve. The customer's messages come as signal ``customer_replied``; after the
resolution the satisfaction survey goes out after a delay, is reminded once, and closes
unanswered after a while (signal ``survey_answered`` carries the score). A customer who
writes again within the reopening window reopens the case. Closing creates the
customer-care follow-up task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.care import (
        CARE_TASK_WORKFLOW_TYPE,
        CareTask,
        care_task_workflow_id,
    )
    from domain.complaints import (
        ANSWER_SURVEY_UPDATE,
        ASSIGN_COMPLAINT,
        ASSIGN_UPDATE,
        CARRY_OUT_REMEDY,
        CASE_QUERY,
        CATEGORY_WORDS,
        COMPLAINT_LADDER,
        COMPLAINT_WORKFLOW_TYPE,
        CUSTOMER_REPLIED_SIGNAL,
        DECIDE_REMEDY_UPDATE,
        FOLLOW_UP_COMPLAINT,
        NOTE_UPDATE,
        OPEN_STATUSES,
        PARCEL_WORDS,
        PRICE_REPLACEMENT,
        REASSIGN_RUNG,
        RECATEGORISE_UPDATE,
        RECORD_COMPLAINT_EVENT,
        REMEDY_UPDATE,
        REMEDY_WORDS,
        REPLY_UPDATE,
        RESOLVE_UPDATE,
        SEND_COMPLAINT_MESSAGE,
        SURVEY_ANSWERED_SIGNAL,
        Assignment,
        CaseEvent,
        CaseMessage,
        CaseNote,
        CaseReply,
        ClockView,
        ComplaintCase,
        ComplaintCategory,
        ComplaintChannel,
        ComplaintEventKind,
        ComplaintPriority,
        ComplaintStart,
        ComplaintStatus,
        CustomerMessage,
        FollowUp,
        Owner,
        OwnerRequest,
        Recategorisation,
        RemedyDecision,
        RemedyOrder,
        RemedyOutcome,
        RemedyRequest,
        RemedyView,
        ReplacementPrice,
        Resolution,
        SlaClock,
        SurveyAnswer,
        SurveyOutcome,
        next_rung_at,
        pause_clock,
        priority_of,
        resume_clock,
        start_clock,
        stop_clock,
    )
    from domain.messages import MESSAGE_REFUSED, read_message
    from domain.notifications import Notified
    from domain.shipping import (
        SHIPMENT_PROGRESS_SIGNAL,
        SHIPMENT_WORKFLOW_TYPE,
        ShipmentProgress,
        shipment_workflow_id,
    )
    from domain.visibility import (
        CATEGORY,
        COMPLAINT_ID,
        COMPLAINT_STATUS,
        ESCALATION_LEVEL,
        PRIORITY,
        SLA_BREACHED,
    )
    from domain.wording import N_, Wording

from workflows._common import (
    Inbound,
    deliver,
    english,
    notify,
    read_update,
    refuse,
    refused,
    run_step,
)
from workflows.policies import DATABASE_STEP, PARTNER_STEP

CLOCK_NAMES = {SlaClock.FIRST_RESPONSE: N_("first response"), SlaClock.RESOLUTION: N_("resolution")}


@workflow.defn(name=COMPLAINT_WORKFLOW_TYPE)
class ComplaintWorkflow:
    """One complaint case."""

    @workflow.init
    def __init__(self, start: Any = None) -> None:
        """The case with its clocks running from its receipt, before any message is
        handled (a staff action can arrive in the same workflow task as the start).

        The input is read field by field, as every message is: a client that starts a
        case with something else gets a failed workflow saying what was wrong, not a
        workflow task that fails for ever.
        """
        reading = read_message(ComplaintStart, [] if start is None else [start])
        self._refusal = None if reading.value is not None else reading.summary()
        begun: ComplaintStart = reading.value or ComplaintStart(
            case=ComplaintCase(
                id=0,
                customer_id=None,
                order_id=None,
                channel=ComplaintChannel.PHONE,
                category=ComplaintCategory.OTHER,
                priority=ComplaintPriority.LOW,
                received_at=workflow.now(),
            )
        )
        self._policy = begun.policy
        level = self._policy.service_levels[begun.case.priority]
        received = begun.case.received_at
        calendar = self._policy.calendar
        self._case = begun.case.model_copy(
            update={
                "clocks": [
                    start_clock(clock, level.budget(clock), received, calendar)
                    for clock in SlaClock
                ]
            }
        )
        self._lock = asyncio.Lock()
        """Held while the case changes and the change is recorded, so records keep order."""
        self._changed = False
        self._customer_wrote = False
        self._survey: SurveyAnswer | None = None
        self._survey_out: int | None = None
        """The number of the survey the customer can answer now (its link's), if one is."""
        self._surveys_answered: set[int] = set()
        self._events = 0
        self._parcels: dict[str, str] = {}
        """The last status of each replacement parcel this case sent."""
        self._published: dict[str, Any] = {}

    # --- run -------------------------------------------------------------------------

    @workflow.run
    async def run(self, start: Any = None) -> ComplaintCase:
        """Handle the case until it is closed and the reopening window has passed."""
        if self._refusal is not None:
            raise ApplicationError(
                f"not a complaint case ({ComplaintStart.__name__}): {self._refusal}",
                type=MESSAGE_REFUSED,
                non_retryable=True,
            )
        async with self._lock:
            await self._assign("", "system")
        while True:
            await self._work_until_resolved()
            if await self._survey_then_close():
                continue
            if not await self._reopened_within_window():
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.case

    @property
    def case(self) -> ComplaintCase:
        """The case as it stands."""
        return self._case

    async def _work_until_resolved(self) -> None:
        """Run the service-level clocks and their ladders until the case is resolved."""
        while self.case.status in OPEN_STATUSES:
            due = self._next_rung()
            self._changed = False
            if due is None:
                await workflow.wait_condition(lambda: self._changed)
                continue
            at, clock = due
            remaining = at - workflow.now()
            if remaining > timedelta(0):
                rung = COMPLAINT_LADDER[self._clock(clock).rungs_fired]
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._changed,
                        timeout=remaining,
                        timeout_summary=f"{CLOCK_NAMES[clock]}: {rung.name}",
                    )
                continue
            async with self._lock:
                if self.case.status in OPEN_STATUSES and self._next_rung() == due:
                    await self._climb(clock)

    def _next_rung(self) -> tuple[datetime, SlaClock] | None:
        due = [
            (at, view.clock)
            for view in self.case.clocks
            if (at := next_rung_at(view, self._policy.calendar)) is not None
        ]
        return min(due) if due else None

    async def _climb(self, clock: SlaClock) -> None:
        view = self._clock(clock)
        index = view.rungs_fired
        rung = COMPLAINT_LADDER[index]
        name = CLOCK_NAMES[clock]
        self._set_clock(view.model_copy(update={"rungs_fired": index + 1, "breached": True}))
        case = self.case
        updates: dict[str, Any] = {"escalation_level": max(case.escalation_level, index + 1)}
        if index == 0:
            updates["breaches"] = case.breaches + 1
        if rung.name == REASSIGN_RUNG:
            updates["owner"] = None
        self._case = case.model_copy(update=updates)
        kind = ComplaintEventKind.SLA_BREACHED if index == 0 else ComplaintEventKind.ESCALATED
        due = view.due_at
        missed = (
            Wording(
                message=N_("%(clock)s deadline %(due)s missed: %(rung)s"),
                terms={"clock": name, "rung": rung.name},
                moments={"due": due},
            )
            if due is not None
            else Wording(  # a clock that is due has a deadline; never seen
                message=N_("%(clock)s deadline missed: %(rung)s"),
                terms={"clock": name, "rung": rung.name},
            )
        )
        # The English as it always read (the CLI, the API, the staff's notification).
        detail = (
            missed.english()
            if due is None
            else f"{name} deadline {due:%Y-%m-%d %H:%M} UTC missed: {rung.name}"
        )
        await self._record(kind, detail, wording=missed)
        await notify(
            workflow.info().workflow_id,
            f"{clock.value}:{self.case.reopened}:rung{index + 1}",
            rung.notify,
            f"Complaint #{case.id} ({case.priority.value}): {rung.name}",
            f"{detail}. Owner: {case.owner or 'team queue'}.",
        )

    async def _survey_then_close(self) -> bool:
        """Survey the customer after the resolution, then close; True when reopened instead."""
        policy = self._policy
        self._customer_wrote = False
        if await self._wait(lambda: self._customer_wrote, policy.survey_delay, "survey delay"):
            return await self._reopen()
        await self._message("survey", "How did we do?", _survey_text(self.case.id), survey=True)
        self._survey_out = self.case.reopened
        async with self._lock:
            await self._record(
                ComplaintEventKind.SURVEY_SENT, Wording(message=N_("satisfaction survey sent"))
            )

        def answered() -> bool:
            return self._survey is not None or self._customer_wrote

        if not await self._wait(answered, policy.survey_reminder_after, "survey reminder"):
            await self._message(
                "survey-reminder",
                "A reminder: how did we do?",
                _survey_text(self.case.id),
                survey=True,
            )
            async with self._lock:
                await self._record(
                    ComplaintEventKind.SURVEY_REMINDED, Wording(message=N_("survey reminder sent"))
                )
            rest = policy.survey_closes_after - policy.survey_reminder_after
            await self._wait(answered, rest, "survey closes")
        if self._customer_wrote:
            return await self._reopen()
        async with self._lock:
            survey = self._survey
            if self._survey_out is not None and survey is not None:
                self._surveys_answered.add(self._survey_out)
            self._survey_out = None  # its link answers nothing more
            if survey is None:
                await self._record(
                    ComplaintEventKind.SURVEY_EXPIRED,
                    Wording(message=N_("survey closed unanswered")),
                )
            else:
                self._case = self.case.model_copy(update={"survey_score": survey.score})
                await self._record(
                    ComplaintEventKind.SURVEY_ANSWERED,
                    survey.comment,
                    actor="customer",
                    amount=None,
                )
            self._case = self.case.model_copy(
                update={"status": ComplaintStatus.CLOSED, "closed_at": workflow.now()}
            )
            await self._record(
                ComplaintEventKind.CLOSED,
                Wording(message=N_("closed"))
                if survey is None
                else Wording(
                    message=N_("closed; satisfaction %(score)s/5"), args={"score": survey.score}
                ),
            )
        await self._follow_up()
        return False

    async def _reopened_within_window(self) -> bool:
        """Wait out the reopening window; True when the customer wrote and the case reopened."""
        self._customer_wrote = False
        window = timedelta(days=self._policy.reopen_days)
        if await self._wait(lambda: self._customer_wrote, window, "reopening window"):
            return await self._reopen()
        return False

    async def _reopen(self) -> bool:
        async with self._lock:
            now = workflow.now()
            calendar = self._policy.calendar
            budget = self._policy.service_levels[self.case.priority].resolution
            clocks = [
                start_clock(SlaClock.RESOLUTION, budget, now, calendar)
                if view.clock is SlaClock.RESOLUTION
                else view
                for view in self.case.clocks
            ]
            self._case = self.case.model_copy(
                update={
                    "status": ComplaintStatus.IN_PROGRESS,
                    "clocks": clocks,
                    "reopened": self.case.reopened + 1,
                    "closed_at": None,
                    "survey_score": None,
                }
            )
            if self._survey_out is not None and self._survey is not None:
                self._surveys_answered.add(self._survey_out)
            self._survey = None
            self._survey_out = None  # the survey closes with the reopening
            await self._record(
                ComplaintEventKind.REOPENED, Wording(message=N_("the customer wrote again"))
            )
            if self.case.owner is None:
                await self._assign("", "system")
        return True

    async def _follow_up(self) -> None:
        case = self.case
        if case.customer_id is None:
            return
        tasks = await run_step(
            FOLLOW_UP_COMPLAINT,
            FollowUp(complaint_id=case.id, customer_id=case.customer_id, at=workflow.now()),
            list[CareTask],
            f"Create the care follow-up of complaint #{case.id}",
            DATABASE_STEP,
        )
        for task in tasks:  # none when the customer has an open follow-up already
            # Started already by an earlier attempt (a retried workflow task): leave it.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    CARE_TASK_WORKFLOW_TYPE,
                    task,
                    id=care_task_workflow_id(task.id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    static_summary=f"Care: complaint follow-up for {task.customer_id}",
                )

    async def _wait(self, done: Callable[[], bool], longest: timedelta, summary: str) -> bool:
        """Wait until ``done()``, ``longest`` at most; whether ``done()`` came true."""
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(done, timeout=longest, timeout_summary=summary)
        return bool(done())

    # --- steps -----------------------------------------------------------------------

    async def _record(
        self,
        kind: ComplaintEventKind,
        detail: str | Wording,
        *,
        actor: str = "system",
        amount: Any = None,
        root_cause: str | None = None,
        wording: Wording | None = None,
    ) -> None:
        """Write the event and the case after it; keep the search attributes and details.

        ``detail`` is a wording when the system writes it (kept with its English), text
        when a person typed it; ``wording`` words a text detail for people."""
        if isinstance(detail, Wording):
            wording, detail = detail, detail.english()
        self._events += 1
        self._changed = True
        await run_step(
            RECORD_COMPLAINT_EVENT,
            CaseEvent(
                case=self.case,
                kind=kind,
                actor=actor,
                detail=detail,
                wording=wording,
                amount=amount,
                root_cause=root_cause,
                key=f"{workflow.info().workflow_id}:{workflow.info().run_id}:{self._events}",
            ),
            ComplaintCase,
            f"Record {kind.value}",
            DATABASE_STEP,
        )
        self._publish()

    async def _assign(self, owner: str, actor: str) -> None:
        chosen = await run_step(
            ASSIGN_COMPLAINT,
            OwnerRequest(complaint_id=self.case.id, owner=owner),
            Owner,
            f"Assign complaint #{self.case.id}",
            DATABASE_STEP,
        )
        self._case = self.case.model_copy(update={"owner": chosen.owner})
        assigned = (
            Wording(message=N_("assigned to %(owner)s"), args={"owner": chosen.owner})
            if chosen.owner
            else Wording(message=N_("in the team queue"))
        )
        await self._record(ComplaintEventKind.ASSIGNED, assigned, actor=actor)

    async def _message(self, key: str, subject: str, text: str, *, survey: bool = False) -> None:
        case = self.case
        await run_step(
            SEND_COMPLAINT_MESSAGE,
            CaseMessage(
                complaint_id=case.id,
                customer_id=case.customer_id,
                key=f"{key}:{case.reopened}:{self._events}",
                subject=f"[Complaint #{case.id}] {subject}",
                message=text,
                survey_link=survey,
                survey_number=case.reopened,
            ),
            Notified,
            f"Message the customer: {subject}",
            DATABASE_STEP,
        )

    def _clock(self, clock: SlaClock) -> ClockView:
        return next(view for view in self.case.clocks if view.clock is clock)

    def _set_clock(self, changed: ClockView) -> None:
        clocks = [changed if view.clock is changed.clock else view for view in self.case.clocks]
        self._case = self.case.model_copy(update={"clocks": clocks})

    def _move_clocks(self, move: Any, *clocks: SlaClock) -> None:
        now = workflow.now()
        for clock in clocks or tuple(SlaClock):
            self._set_clock(move(self._clock(clock), now, self._policy.calendar))

    # --- staff actions (updates) -----------------------------------------------------

    async def _staff(self, name: str, model: type[Any], arguments: Sequence[Any]) -> Any:
        if self._refusal is not None:
            raise ApplicationError(
                "this workflow was started without a complaint case",
                type=MESSAGE_REFUSED,
                non_retryable=True,
            )
        message = await read_update(name, model, arguments, self._ignored)
        if self.case.status not in OPEN_STATUSES:
            status = {"status": self.case.status.value}
            await refuse(
                Wording(
                    message=N_("complaint #%(id)s is %(status)s"),
                    args={"id": self.case.id},
                    terms=status,
                ),
                refused(name, Wording(message=N_("the case is %(status)s"), terms=status)),
                self._ignored,
            )
        return message

    @workflow.update(name=ASSIGN_UPDATE)
    async def assign(self, *arguments: Any) -> str:
        """Give the case to ``owner``, or round robin; answered once recorded."""
        assignment: Assignment = await self._staff(ASSIGN_UPDATE, Assignment, arguments)
        async with self._lock:
            try:
                await self._assign(assignment.owner, assignment.actor)
            except ActivityError as failure:
                await refuse(
                    _reason(failure),
                    Wording(message=N_("%(update)s refused"), args={"update": ASSIGN_UPDATE}),
                    self._ignored,
                )
        return f"complaint #{self.case.id}: owner {self.case.owner or 'team queue'}"

    @workflow.update(name=NOTE_UPDATE)
    async def add_note(self, *arguments: Any) -> str:
        """Keep an internal note on the case."""
        note: CaseNote = await self._staff(NOTE_UPDATE, CaseNote, arguments)
        async with self._lock:
            await self._record(ComplaintEventKind.NOTE, note.text, actor=note.actor)
        return "note kept"

    @workflow.update(name=REPLY_UPDATE)
    async def reply(self, *arguments: Any) -> str:
        """Send the customer a reply; the first one stops the first-response clock."""
        reply: CaseReply = await self._staff(REPLY_UPDATE, CaseReply, arguments)
        async with self._lock:
            await self._message("reply", "Our reply", reply.text)
            self._move_clocks(stop_clock, SlaClock.FIRST_RESPONSE)
            status = ComplaintStatus.IN_PROGRESS
            if reply.wait_for_customer:
                status = ComplaintStatus.WAITING_FOR_CUSTOMER
                self._move_clocks(pause_clock, SlaClock.RESOLUTION)
            self._case = self.case.model_copy(update={"status": status})
            await self._record(ComplaintEventKind.REPLY, reply.text, actor=reply.actor)
        waiting = " and waits for the customer" if reply.wait_for_customer else ""
        return f"reply sent{waiting}"

    @workflow.update(name=RECATEGORISE_UPDATE)
    async def recategorise(self, *arguments: Any) -> str:
        """Correct the category; the priority follows it (the clocks keep their budgets)."""
        change: Recategorisation = await self._staff(
            RECATEGORISE_UPDATE, Recategorisation, arguments
        )
        async with self._lock:
            before = self.case.category
            priority = priority_of(change.category, self.case.segment)
            self._case = self.case.model_copy(
                update={"category": change.category, "priority": priority}
            )
            # The English keeps the codes: the console reads the change back from it.
            detail = f"{before.value} → {change.category.value}"
            if change.reason:
                detail += f": {change.reason}"
            moved = Wording(
                message=N_("%(before)s → %(after)s: %(reason)s")
                if change.reason
                else N_("%(before)s → %(after)s"),
                terms={"before": CATEGORY_WORDS[before], "after": CATEGORY_WORDS[change.category]},
                args={"reason": change.reason} if change.reason else {},
            )
            await self._record(
                ComplaintEventKind.RECATEGORISED, detail, wording=moved, actor=change.actor
            )
        return f"category {change.category.value}"

    @workflow.update(name=REMEDY_UPDATE)
    async def propose_remedy(self, *arguments: Any) -> str:
        """Put the complaint right; above the approval amount it waits for a supervisor."""
        request: RemedyRequest = await self._staff(REMEDY_UPDATE, RemedyRequest, arguments)
        async with self._lock:
            number = len(self.case.remedies) + 1
            amount = request.amount
            if amount is None:  # a re-shipment: what the items are worth decides approval
                amount = await self._price_replacement(number, request)
            needs_approval = amount > self._policy.approval_above
            remedy = RemedyView(
                number=number,
                kind=request.kind,
                amount=amount,
                currency=self.case.currency,
                reason=request.reason,
                asked_by=request.actor,
                status="awaiting approval" if needs_approval else "approved",
                items=request.items,
            )
            self._case = self.case.model_copy(update={"remedies": [*self.case.remedies, remedy]})
            await self._record(
                ComplaintEventKind.REMEDY_PROPOSED,
                Wording(
                    message=N_(
                        "remedy %(number)s: %(kind)s of %(amount)s %(currency)s%(items)s: "
                        "%(reason)s"
                    ),
                    args={
                        "number": number,
                        "amount": amount,
                        "currency": self.case.currency,
                        "items": "".join(
                            f", {item.quantity} x {item.sku}" for item in request.items
                        ),
                        "reason": request.reason,
                    },
                    terms={"kind": REMEDY_WORDS[request.kind]},
                ),
                actor=request.actor,
                amount=amount,
            )
            if needs_approval:
                await notify(
                    workflow.info().workflow_id,
                    f"remedy{number}",
                    _SUPERVISOR,
                    f"Complaint #{self.case.id}: approve remedy {number}",
                    f"{request.actor} proposes a {request.kind.value} of {amount} "
                    f"(above {self._policy.approval_above}): {request.reason}",
                )
                return f"remedy {number} waits for a supervisor's approval"
            return await self._carry_out(number)

    @workflow.update(name=DECIDE_REMEDY_UPDATE)
    async def decide_remedy(self, *arguments: Any) -> str:
        """A supervisor approves (it is then carried out) or refuses a waiting remedy."""
        decision: RemedyDecision = await self._staff(
            DECIDE_REMEDY_UPDATE, RemedyDecision, arguments
        )
        async with self._lock:
            remedy = next((r for r in self.case.remedies if r.number == decision.number), None)
            if remedy is None or remedy.status != "awaiting approval":
                number = {"number": decision.number}
                await refuse(
                    f"remedy {decision.number} does not wait for approval",
                    refused(
                        DECIDE_REMEDY_UPDATE,
                        Wording(message=N_("remedy %(number)s not waiting"), args=number),
                    ),
                    self._ignored,
                )
            assert remedy is not None
            if decision.actor == remedy.asked_by:
                await refuse(
                    "a remedy is approved by someone other than who proposed it",
                    refused(
                        DECIDE_REMEDY_UPDATE,
                        Wording(
                            message=N_("%(actor)s proposed it"), args={"actor": decision.actor}
                        ),
                    ),
                    self._ignored,
                )
            kind = (
                ComplaintEventKind.REMEDY_APPROVED
                if decision.approve
                else ComplaintEventKind.REMEDY_REFUSED
            )
            self._set_remedy(
                remedy.model_copy(
                    update={
                        "status": "approved" if decision.approve else "refused",
                        "decided_by": decision.actor,
                        "outcome": "" if decision.approve else decision.reason,
                    }
                )
            )
            await self._record(
                kind,
                Wording(
                    message=N_("remedy %(number)s: %(reason)s"),
                    args={"number": remedy.number, "reason": decision.reason},
                ),
                actor=decision.actor,
            )
            if not decision.approve:
                return f"remedy {remedy.number} refused"
            return await self._carry_out(remedy.number)

    async def _price_replacement(self, number: int, request: RemedyRequest) -> Decimal:
        case = self.case
        try:
            price = await run_step(
                PRICE_REPLACEMENT,
                RemedyOrder(
                    complaint_id=case.id,
                    number=number,
                    kind=request.kind,
                    customer_id=case.customer_id,
                    order_id=case.order_id,
                    amount=Decimal(0),
                    reason=request.reason,
                    items=request.items,
                ),
                ReplacementPrice,
                "Price the items to send again",
                DATABASE_STEP,
            )
        except ActivityError as failure:
            reason = _reason(failure)
            said = _reason_wording(failure) or reason
            await refuse(reason, refused(REMEDY_UPDATE, said), self._ignored)
        return price.value

    async def _carry_out(self, number: int) -> str:
        remedy = next(r for r in self.case.remedies if r.number == number)
        case = self.case
        try:
            outcome = await run_step(
                CARRY_OUT_REMEDY,
                RemedyOrder(
                    complaint_id=case.id,
                    number=number,
                    kind=remedy.kind,
                    customer_id=case.customer_id,
                    order_id=case.order_id,
                    amount=remedy.amount,
                    reason=remedy.reason,
                    items=remedy.items,
                    parcel_id=case.parcel_id,
                ),
                RemedyOutcome,
                f"Carry out remedy {number}: {remedy.kind.value} of {remedy.amount}",
                PARTNER_STEP,
            )
        except ActivityError as failure:
            reason = _reason(failure)
            worded = _reason_wording(failure)
            self._set_remedy(
                remedy.model_copy(
                    update={"status": "failed", "outcome": reason, "outcome_wording": worded}
                )
            )
            await self._record(
                ComplaintEventKind.REMEDY_FAILED,
                Wording(
                    message=N_("remedy %(number)s: %(reason)s"),
                    args={"number": number, "reason": reason},
                )
                if worded is None
                else Wording(
                    message=N_("remedy %(number)s: %(reason)s"),
                    args={"number": number},
                    parts={"reason": worded},
                ),
            )
            return f"remedy {number} not carried out: {reason}"
        self._set_remedy(
            remedy.model_copy(
                update={
                    "status": "done",
                    "outcome": outcome.detail,
                    "outcome_wording": outcome.wording,
                    "currency": outcome.currency or remedy.currency,
                }
            )
        )
        cost = remedy.amount if outcome.cost is None else outcome.cost
        self._case = self.case.model_copy(update={"remedy_cost": self.case.remedy_cost + cost})
        done = (
            Wording(
                message=N_("remedy %(number)s: %(outcome)s"),
                args={"number": number},
                parts={"outcome": outcome.wording},
            )
            if outcome.wording is not None
            else Wording(
                message=N_("remedy %(number)s: %(outcome)s"),
                args={"number": number, "outcome": outcome.detail},
            )
        )
        await self._record(ComplaintEventKind.REMEDY_DONE, done, amount=cost)
        if outcome.parcel is not None:
            # Started already by an earlier attempt (a retried workflow task): leave it.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    SHIPMENT_WORKFLOW_TYPE,
                    outcome.parcel,
                    id=shipment_workflow_id(outcome.parcel.shipment_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    static_summary=f"Replacement parcel for complaint #{case.id}",
                )
        return f"remedy {number} done: {outcome.detail}"

    def _set_remedy(self, changed: RemedyView) -> None:
        remedies = [changed if r.number == changed.number else r for r in self.case.remedies]
        self._case = self.case.model_copy(update={"remedies": remedies})

    @workflow.update(name=RESOLVE_UPDATE)
    async def resolve(self, *arguments: Any) -> str:
        """The case is solved (with its root cause); the survey follows."""
        resolution: Resolution = await self._staff(RESOLVE_UPDATE, Resolution, arguments)
        async with self._lock:
            waiting = [r.number for r in self.case.remedies if r.status == "awaiting approval"]
            if waiting:
                await refuse(
                    f"remedy {waiting[0]} still waits for a supervisor's decision",
                    refused(RESOLVE_UPDATE, Wording(message=N_("remedies waiting"))),
                    self._ignored,
                )
            self._move_clocks(stop_clock)
            self._case = self.case.model_copy(update={"status": ComplaintStatus.RESOLVED})
            await self._record(
                ComplaintEventKind.RESOLVED,
                resolution.summary,
                actor=resolution.actor,
                root_cause=resolution.root_cause,
            )
        return f"complaint #{self.case.id} resolved"

    # --- the customer (signals) ------------------------------------------------------

    @workflow.signal(dynamic=True)
    async def on_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """The customer's reply and survey answer; anything else is recorded and ignored."""
        inbound: dict[str, Inbound[Any]] = {
            CUSTOMER_REPLIED_SIGNAL: Inbound(CustomerMessage, self._customer_replied),
            SURVEY_ANSWERED_SIGNAL: Inbound(SurveyAnswer, self._survey_answered),
            SHIPMENT_PROGRESS_SIGNAL: Inbound(ShipmentProgress, self._parcel_progress),
        }
        await deliver(name, payloads, inbound, self._ignored)

    async def _customer_replied(self, message: CustomerMessage) -> None:
        async with self._lock:
            if self.case.status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
                self._customer_wrote = True
                await self._record(
                    ComplaintEventKind.CUSTOMER_REPLIED, message.text, actor="customer"
                )
                return
            if self.case.status is ComplaintStatus.WAITING_FOR_CUSTOMER:
                self._move_clocks(resume_clock, SlaClock.RESOLUTION)
                self._case = self.case.model_copy(update={"status": ComplaintStatus.IN_PROGRESS})
            await self._record(ComplaintEventKind.CUSTOMER_REPLIED, message.text, actor="customer")

    async def _parcel_progress(self, progress: ShipmentProgress) -> None:
        """A replacement parcel moved on (booked, picked up, delivered, lost)."""
        parcel = progress.shipment
        if self._parcels.get(parcel.shipment_id) == parcel.status:
            return
        self._parcels[parcel.shipment_id] = parcel.status
        status = PARCEL_WORDS.get(parcel.status, parcel.status)
        await self._record(
            ComplaintEventKind.PARCEL_PROGRESS,
            Wording(
                message=N_("replacement parcel %(parcel)s: %(status)s (%(carrier)s %(tracking)s)"),
                args={
                    "parcel": parcel.shipment_id,
                    "carrier": parcel.carrier,
                    "tracking": parcel.tracking_number,
                },
                terms={"status": status},
            )
            if parcel.tracking_number
            else Wording(
                message=N_("replacement parcel %(parcel)s: %(status)s"),
                args={"parcel": parcel.shipment_id},
                terms={"status": status},
            ),
            actor="carrier",
        )

    async def _survey_answered(self, answer: SurveyAnswer) -> None:
        if self.case.status is not ComplaintStatus.RESOLVED:
            await self._ignored(
                Wording(
                    message=N_("%(signal)s ignored: no survey is open"),
                    args={"signal": SURVEY_ANSWERED_SIGNAL},
                )
            )
            return
        if answer.survey is not None and answer.survey != self._survey_out:
            await self._ignored(
                Wording(
                    message=N_("%(signal)s ignored: survey %(survey)s closed"),
                    args={"signal": SURVEY_ANSWERED_SIGNAL, "survey": answer.survey},
                )
            )
            return
        if self._survey is None:
            self._survey = answer

    @workflow.update(name=ANSWER_SURVEY_UPDATE)
    async def answer_survey(self, *arguments: Any) -> str:
        """The customer's answer from the survey page: taken if it is the first answer to
        the survey its link belongs to while that survey is open; a
        :class:`SurveyOutcome` says which."""
        answer = await read_update(ANSWER_SURVEY_UPDATE, SurveyAnswer, arguments, self._ignored)
        number = self._survey_out if answer.survey is None else answer.survey
        if number is None:
            return SurveyOutcome.CLOSED.value
        taken = number == self._survey_out and self._survey is not None
        if taken or number in self._surveys_answered:
            return SurveyOutcome.ALREADY_ANSWERED.value
        if (
            number != self._survey_out
            or self.case.status is not ComplaintStatus.RESOLVED
            or self._customer_wrote
        ):
            return SurveyOutcome.CLOSED.value
        self._survey = answer
        return SurveyOutcome.ANSWERED.value

    async def _ignored(self, detail: str | Wording) -> None:
        workflow.logger.warning("complaint %s: %s", workflow.info().workflow_id, english(detail))
        # Not under the lock: a refusal made while holding it comes here.
        await self._record(ComplaintEventKind.MESSAGE_IGNORED, detail, actor="client")

    @workflow.query(name=CASE_QUERY)
    def complaint(self) -> ComplaintCase:
        """Where the case stands."""
        return self._case

    # --- what operators see ----------------------------------------------------------

    def _publish(self) -> None:
        """Keep the search attributes (when started with them) and current details."""
        case = self.case
        if workflow.info().typed_search_attributes.get(COMPLAINT_ID) is not None:
            updates: list[SearchAttributeUpdate[Any]] = [
                CATEGORY.value_set(case.category.value),
                PRIORITY.value_set(case.priority.value),
                COMPLAINT_STATUS.value_set(case.status.value),
                SLA_BREACHED.value_set(case.breached),
                ESCALATION_LEVEL.value_set(case.escalation_level),
            ]
            changed = [u for u in updates if self._published.get(u.key.name) != u.value]
            if changed:
                workflow.upsert_search_attributes(changed)
                self._published.update({u.key.name: u.value for u in changed})
        clocks = "\n".join(
            f"- {CLOCK_NAMES[view.clock]}: "
            + (
                f"due {view.due_at:%Y-%m-%d %H:%M} UTC"
                if view.due_at is not None
                else ("stopped" if view.stopped_at else "paused")
            )
            + (" · **breached**" if view.breached else "")
            for view in case.clocks
        )
        workflow.set_current_details(
            f"**{case.status.value}** · {case.category.value} · {case.priority.value} · "
            f"owner {case.owner or 'team queue'} · level {case.escalation_level}\n\n{clocks}"
        )


_SUPERVISOR = COMPLAINT_LADDER[1].notify


def _reason(failure: ActivityError) -> str:
    cause = failure.cause
    while isinstance(cause, ActivityError):
        cause = cause.cause
    return str(cause.message if isinstance(cause, ApplicationError) else failure)


def _reason_wording(failure: ActivityError) -> Wording | None:
    """The refusal's wording when the activity sent one (its error's one detail)."""
    cause = failure.cause
    while isinstance(cause, ActivityError):
        cause = cause.cause
    if not isinstance(cause, ApplicationError) or not cause.details:
        return None
    try:
        return Wording.model_validate(cause.details[0])
    except ValidationError:  # another error's details, or an older release's
        return None


def _survey_text(complaint_id: int) -> str:
    return (
        f"Your complaint #{complaint_id} is resolved. How satisfied are you with how we "
        "handled it, from 1 (not at all) to 5 (very)? Tell us on this page:"
    )
