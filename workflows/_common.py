"""What the order, supply and shipment workflows share: steps, audit writes, escalating waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, NoReturn, TypeVar

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from domain.escalation import (
        DeadlineExtension,
        EscalationLadder,
        EscalationRung,
        LadderPosition,
        climb,
        due_rung,
        extend,
        rung_notice,
        start_ladder,
    )
    from domain.intake import RECORD_ORDER_STATUS, StatusChange
    from domain.messages import MESSAGE_REFUSED, Reading, read_message
    from domain.notifications import NOTIFY, Audience, Notification, Notified
    from domain.orders import EventKind
    from domain.wording import N_, Wording

from workflows.patches import LOCAL_DATABASE_STEPS, RECORD_IGNORED_MESSAGES
from workflows.policies import DATABASE_STEP, STATUS_WRITE, StepPolicy

ResultT = TypeVar("ResultT")
ModelT = TypeVar("ModelT", bound=BaseModel)


def runs_database_steps_locally() -> bool:
    """Whether this workflow runs its database steps as local activities.

    Every workflow asks this first thing in ``run``, before any step, so the patch
    marker is the first command of its first workflow task. Asked later, it would
    fall after a local activity, and a workflow task that ended early (a query, a
    heartbeat of a long task) would put the marker in another task than replay
    expects: asked only once the result of a local activity is in, the answer on
    replay would differ from the answer the run got (a nondeterminism error).
    Later calls return the same answer without recording anything.
    """
    return workflow.patched(LOCAL_DATABASE_STEPS)


async def run_step(
    activity: str, arg: Any, result_type: type[ResultT], summary: str, policy: StepPolicy
) -> ResultT:
    """Run one activity by its registered name under ``policy``.

    Unless the policy says the step may be interrupted, a cancellation that
    arrives while it runs lets it finish (no effect can land after the undo
    that should have removed it) and is raised once it has.
    """

    async def execute() -> ResultT:
        result: ResultT
        if policy.local and runs_database_steps_locally():
            try:
                result = await workflow.execute_local_activity(
                    activity,
                    arg,
                    result_type=result_type,
                    start_to_close_timeout=policy.start_to_close,
                    retry_policy=policy.retry,
                    cancellation_type=ActivityCancellationType.TRY_CANCEL,
                    summary=summary,
                )
            except ApplicationError as failure:
                # A local activity's failure arrives bare; callers handle every
                # step's failure as the ActivityError a remote one arrives as.
                raise ActivityError(
                    f"local activity {activity} failed",
                    scheduled_event_id=0,
                    started_event_id=0,
                    identity="",
                    activity_type=activity,
                    activity_id="",
                    retry_state=RetryState.NON_RETRYABLE_FAILURE,
                ) from failure
        else:
            result = await workflow.execute_activity(
                activity,
                arg,
                result_type=result_type,
                start_to_close_timeout=policy.start_to_close,
                heartbeat_timeout=policy.heartbeat,
                retry_policy=policy.retry,
                cancellation_type=ActivityCancellationType.TRY_CANCEL,
                summary=summary,
            )
        return result

    step = asyncio.create_task(execute())
    if policy.interruptible:
        return await step
    cancelled = False
    while not step.done():
        try:
            await asyncio.shield(step)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError(f"cancelled while '{summary}' ran; it finished first")
    return step.result()


async def record(change: StatusChange) -> None:
    """Write an audit event (and maybe a status) to the read model: a short local activity."""
    await workflow.execute_local_activity(
        RECORD_ORDER_STATUS,
        change,
        start_to_close_timeout=STATUS_WRITE.start_to_close,
        retry_policy=STATUS_WRITE.retry,
        summary=f"Record {change.event.value}",
    )


async def notify(order_id: str, key: str, audience: Audience, subject: str, message: str) -> None:
    """Tell ``audience`` once per ``key`` (the outbox makes a repeat harmless)."""
    await run_step(
        NOTIFY,
        Notification(
            order_id=order_id, key=key, audience=audience, subject=subject, message=message
        ),
        Notified,
        f"Notify {audience.value}: {subject}",
        DATABASE_STEP,
    )


def read_payloads(model: type[ModelT], payloads: Sequence[RawValue]) -> Reading[ModelT]:
    """Read a signal's raw payloads as one ``model``; never raises (see :func:`read_message`)."""
    converter = workflow.payload_converter()
    values = []
    for index, raw in enumerate(payloads, start=1):
        try:
            values.append(converter.from_payload(raw.payload))
        except Exception:  # any payload a client can make: not JSON, not a known encoding
            encoding = raw.payload.metadata.get("encoding", b"").decode(errors="replace")
            return Reading(None, [f"argument {index} is not JSON (encoding {encoding!r})"])
    return read_message(model, values)


def records_ignored_messages() -> bool:
    """Whether this workflow writes the messages it ignores to the order's audit log.

    Asked first thing in ``run`` (as :func:`runs_database_steps_locally`); workflows
    that started before :data:`workflows.patches.RECORD_IGNORED_MESSAGES` only log them.
    """
    return workflow.patched(RECORD_IGNORED_MESSAGES)


@dataclass(frozen=True)
class Inbound(Generic[ModelT]):
    """A signal a workflow takes: the model its payload must fit, and what to do with it."""

    model: type[ModelT]
    handle: Callable[[ModelT], Awaitable[None] | None]


IgnoredHandler = Callable[[str | Wording], Awaitable[None]]
"""Where a workflow records (or logs) a message it ignored or refused: a wording, whose
English goes in the plain ``detail`` and which the console shows in the reader's language
(text from older callers is taken as it is)."""


def english(said: str | Wording) -> str:
    """``said`` in English (a wording's English sentence, text as it is)."""
    return said if isinstance(said, str) else said.english()


async def deliver(
    name: str,
    payloads: Sequence[RawValue],
    inbound: Mapping[str, Inbound[Any]],
    on_ignored: IgnoredHandler,
) -> None:
    """Hand a signal to its handler if its payload can be read; otherwise record why not.

    Workflows take their signals through one dynamic handler that calls this, so
    that no payload (none, ``null``, another shape, a misspelt signal name) can
    fail a workflow task; what was ignored goes to ``on_ignored``.
    """
    taken = inbound.get(name)
    if taken is None:
        await on_ignored(
            Wording(
                message=N_("unknown signal %(name)s ignored (this workflow takes %(names)s)"),
                args={"name": repr(name), "names": ", ".join(sorted(inbound))},
            )
        )
        return
    reading = read_payloads(taken.model, payloads)
    if reading.value is None:
        await on_ignored(
            Wording(
                message=N_("signal %(name)s ignored: %(problems)s"),
                args={"name": name, "problems": reading.summary()},
            )
        )
        return
    if reading.ignored:
        await on_ignored(
            Wording(
                message=N_("signal %(name)s taken; ignored %(what)s"),
                args={"name": name, "what": reading.summary()},
            )
        )
    handled = taken.handle(reading.value)
    if handled is not None:
        await handled


def audit_log_of(order_id: str) -> IgnoredHandler:
    """Where a workflow of order ``order_id`` records the messages it ignored or refused."""

    async def note(detail: str | Wording) -> None:
        if not records_ignored_messages():
            workflow.logger.warning("order %s: %s", order_id, english(detail))
            return
        await record(
            StatusChange(
                order_id=order_id,
                event=EventKind.SIGNAL_IGNORED,
                detail=english(detail),
                wording=None if isinstance(detail, str) else detail,
                actor="client",
            )
        )

    return note


async def refuse(
    reason: str | Wording, detail: str | Wording, on_ignored: IgnoredHandler
) -> NoReturn:
    """Record a refused update (``detail``), then refuse it with ``reason`` for the caller.

    The caller gets the English sentence (clients in any language read it); the audit log
    keeps ``detail`` as a wording too, for the console."""
    await on_ignored(detail)
    raise ApplicationError(english(reason), type=MESSAGE_REFUSED, non_retryable=True)


def refused(update: str, reason: str | Wording, actor: str | None = None) -> Wording:
    """``<update> [by <actor>] refused: <reason>``, as recorded in the audit log."""
    if actor is None:
        return Wording(
            message=N_("%(update)s refused: %(reason)s"),
            args={"update": update},
            parts={"reason": _as_wording(reason)},
        )
    return Wording(
        message=N_("%(update)s by %(actor)s refused: %(reason)s"),
        args={"update": update, "actor": actor},
        parts={"reason": _as_wording(reason)},
    )


def ignored(update: str, actor: str, reason: str | Wording) -> Wording:
    """``<update> by <actor> ignored: <reason>``, as recorded in the audit log."""
    return Wording(
        message=N_("%(update)s by %(actor)s ignored: %(reason)s"),
        args={"update": update, "actor": actor},
        parts={"reason": _as_wording(reason)},
    )


def _as_wording(said: str | Wording) -> Wording:
    """Text (a client's or a library's, kept as it is) as a wording."""
    return said if isinstance(said, Wording) else Wording(message="%(text)s", args={"text": said})


async def read_update(
    name: str, model: type[ModelT], arguments: Sequence[Any], on_ignored: IgnoredHandler
) -> ModelT:
    """An update's argument as ``model``; a message that cannot be read is recorded and refused."""
    reading = read_message(model, arguments)
    if reading.value is None:
        await refuse(reading.summary(), refused(name, reading.summary()), on_ignored)
    assert reading.value is not None
    if reading.ignored:
        await on_ignored(
            Wording(
                message=N_("%(update)s taken; ignored %(what)s"),
                args={"update": name, "what": reading.summary()},
            )
        )
    return reading.value


def stop_if_cancelled() -> None:
    """Raise :class:`asyncio.CancelledError` once this workflow's cancellation was requested.

    A step still running when the cancellation arrives is allowed to finish (so
    no effect lands after the undo), and its result is kept: the SDK then
    swallows the cancellation. Workflows call this after each forward step.
    """
    reason = workflow.cancellation_reason()
    if reason is not None:
        raise asyncio.CancelledError(reason or "cancellation requested")


def next_rung_details(wait: EscalatingWait | None) -> str:
    """A line for a workflow's current details: the next escalation and when it falls due."""
    if wait is None or wait.position.next_at is None:
        return ""
    position = wait.position
    return (
        f"\n\nNext escalation: {position.next_rung} at {position.next_at:%Y-%m-%d %H:%M} UTC "
        f"({position.ladder}, level {position.level} now)"
    )


RungHandler = Callable[[EscalationRung, LadderPosition], Awaitable[None]]


class EscalatingWait:
    """A wait under an escalation ladder: each rung that falls due notifies, records, escalates.

    ``extend_deadline`` moves the ladder through :meth:`extend`; the waiting loop
    notices and re-arms its timer.
    """

    def __init__(
        self,
        ladder: EscalationLadder,
        started_at: datetime,
        *,
        order_id: str,
        subject: str,
        key: str,
        explain: Callable[[EscalationRung], str] | None = None,
        audited: bool = True,
        subject_wording: Wording | None = None,
    ) -> None:
        """Start waiting at ``started_at``; ``subject`` and ``explain`` word the notifications.

        ``audited``: each rung is also an event in order ``order_id``'s audit log (False
        for a wait that belongs to no order, such as a replenishment for stock: its
        notifications and its workflow's history are its record). ``subject_wording``: the
        subject as a wording, for what needs attention when a rung asks for a decision.
        """
        self.ladder = ladder
        self.position = start_ladder(ladder, started_at)
        self._order_id = order_id
        self._subject = subject
        self._key = key
        self._explain = explain
        self._audited = audited
        self._subject_wording = subject_wording
        self._moved = False
        self._fired = 0

    def extend(self, extension: DeadlineExtension) -> None:
        """Move the next rung to ``extension.new_deadline``."""
        self.position = extend(self.ladder, self.position, extension.new_deadline)
        self._moved = True

    async def until(self, done: Callable[[], bool], on_rung: RungHandler | None = None) -> bool:
        """Wait until ``done()``; rungs that fall due meanwhile are acted on.

        Returns False when the last rung fell due and does not ask a person to
        decide: the caller then does what the ladder ends in (auto-reject).
        Rungs that ask for a decision leave the wait open for the decision.
        """
        while not done():
            self._moved = False
            next_at = self.position.next_at
            if next_at is None:
                await workflow.wait_condition(lambda: done() or self._moved)
                continue
            remaining = next_at - workflow.now()
            if remaining > timedelta(0):
                upcoming = due_rung(self.ladder, self.position)
                try:
                    await workflow.wait_condition(
                        lambda: done() or self._moved,
                        timeout=remaining,
                        timeout_summary=f"{self.ladder.name}: {upcoming.name}",
                    )
                    continue
                except TimeoutError:
                    pass
            rung = due_rung(self.ladder, self.position)
            self.position = climb(self.ladder, self.position)
            await self._escalate(rung)
            if on_rung is not None:
                await on_rung(rung, self.position)
            stop_if_cancelled()
            if self.position.next_at is None and not rung.asks_for_decision:
                return False
        return True

    async def _escalate(self, rung: EscalationRung) -> None:
        self._fired += 1
        notice = rung_notice(
            self.ladder,
            rung,
            self.position.level,
            self._fired,
            subject=self._subject,
            key=self._key,
            message=self._explain(rung) if self._explain else None,
            subject_wording=self._subject_wording,
        )
        await notify(self._order_id, notice.key, notice.audience, notice.subject, notice.message)
        if not self._audited:
            return
        await record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.ESCALATED,
                detail=notice.detail,
                wording=notice.wording,
                escalation_level=notice.level,
                needs_attention=notice.needs_attention,
                needs_attention_wording=notice.needs_attention_wording,
            )
        )
