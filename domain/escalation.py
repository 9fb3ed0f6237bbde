"""Escalation ladders: what happens, and when, while an order waits on a person or partner.

A ladder is a list of rungs, each due a fixed time after the ladder's start
(the moment a hold began, a promised date, a due date). When a rung falls due
someone is told and the order's escalation level goes up. Support staff can
move the ladder with ``extend_deadline``: the next rung then falls due at the
new deadline, and later rungs keep their spacing after it.

Everything here is pure, so the workflows and the tests share the same arithmetic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.messages import InboundMessage
from domain.notifications import Audience
from domain.wording import N_, Wording

EXTEND_DEADLINE_SIGNAL = "extend_deadline"
"""Signal: move the ladder of whatever the order waits for (carries :class:`DeadlineExtension`)."""


class EscalationRung(BaseModel):
    """One step up a ladder."""

    model_config = ConfigDict(frozen=True)

    name: str
    """What the rung does, as operators read it (``remind the assignee``); a catalogue
    message (marked ``N_`` where the ladder is defined), translated where it is shown."""
    after: timedelta
    """When the rung falls due, counted from the ladder's start."""
    notify: Audience
    asks_for_decision: bool = False
    """True when the rung hands the order to a person: it then needs attention."""


class EscalationLadder(BaseModel):
    """Rungs in the order they fall due."""

    model_config = ConfigDict(frozen=True)

    name: str
    """What the ladder is about (``credit hold``); a catalogue message, as the rungs' names."""
    rungs: tuple[EscalationRung, ...]


class LadderPosition(BaseModel):
    """Where a waiting order stands on a ladder: part of the order's view."""

    ladder: str
    level: int = 0
    """How many rungs have fallen due; the order's escalation level on this wait."""
    next_index: int | None = 0
    """Index of the rung that falls due next; ``None`` once the last one has."""
    next_rung: str | None = None
    next_at: datetime | None = None
    """When the next rung falls due."""


def start_ladder(ladder: EscalationLadder, started_at: datetime) -> LadderPosition:
    """The position at the start of a wait: nothing has fallen due yet."""
    first = ladder.rungs[0]
    return LadderPosition(
        ladder=ladder.name, next_index=0, next_rung=first.name, next_at=started_at + first.after
    )


def due_rung(ladder: EscalationLadder, position: LadderPosition) -> EscalationRung:
    """The rung that falls due at ``position.next_at``."""
    assert position.next_index is not None, "every rung has fallen due already"
    return ladder.rungs[position.next_index]


def climb(ladder: EscalationLadder, position: LadderPosition) -> LadderPosition:
    """The position after the next rung has fallen due."""
    assert position.next_index is not None
    assert position.next_at is not None
    fired = position.next_index
    level = max(position.level, fired + 1)
    following = fired + 1
    if following >= len(ladder.rungs):
        return LadderPosition(ladder=ladder.name, level=level, next_index=None)
    return LadderPosition(
        ladder=ladder.name,
        level=level,
        next_index=following,
        next_rung=ladder.rungs[following].name,
        next_at=position.next_at + (ladder.rungs[following].after - ladder.rungs[fired].after),
    )


def extend(
    ladder: EscalationLadder, position: LadderPosition, new_deadline: datetime
) -> LadderPosition:
    """The position after support moved the deadline to ``new_deadline``.

    The next rung falls due then; when every rung has fallen due already, the
    last one is armed again, so the wait comes back to a person at the new deadline.
    """
    index = len(ladder.rungs) - 1 if position.next_index is None else position.next_index
    return position.model_copy(
        update={
            "next_index": index,
            "next_rung": ladder.rungs[index].name,
            "next_at": new_deadline,
        }
    )


class RungNotice(BaseModel):
    """What a rung that fell due writes: the message to whoever it tells, and the event in
    the order's audit log. Workflows and ``oms demo-history`` both write rungs from it."""

    model_config = ConfigDict(frozen=True)

    key: str
    """The notification's key: once per wait and rung."""
    audience: Audience
    subject: str
    message: str
    detail: str
    """The audit event's text, ``dunning: send the payment reminder (level 1)``: reports
    read the ladder and level back from it."""
    wording: Wording | None = None
    """``detail`` as a wording, read in each reader's language."""
    level: int
    needs_attention: str | None
    """What a person must decide, for a rung that asks for a decision."""
    needs_attention_wording: Wording | None = None
    """``needs_attention`` as a wording."""


def rung_notice(
    ladder: EscalationLadder,
    rung: EscalationRung,
    level: int,
    fired: int,
    *,
    subject: str,
    key: str,
    message: str | None = None,
    subject_wording: Wording | None = None,
) -> RungNotice:
    """What ``rung`` writes, the ``fired``-th rung of a wait whose notifications are keyed
    ``key`` and titled ``subject`` (``subject_wording``, when given, is the same title as a
    wording); ``level`` is the position's level after it fell due.
    Without ``message`` the notification says what the audit event says."""
    wording = Wording(
        message=N_("%(ladder)s: %(rung)s (level %(level)s)"),
        args={"level": level},
        terms={"ladder": ladder.name, "rung": rung.name},
    )
    detail = wording.english()
    attention: Wording | None = None
    if rung.asks_for_decision:
        attention = (
            Wording(
                message=N_("%(subject)s: %(rung)s"),
                args={"subject": subject},
                terms={"rung": rung.name},
            )
            if subject_wording is None
            else Wording(
                message=N_("%(subject)s: %(rung)s"),
                terms={"rung": rung.name},
                parts={"subject": subject_wording},
            )
        )
    return RungNotice(
        key=f"{key}:rung{fired}",
        audience=rung.notify,
        subject=f"{subject}: {rung.name}",
        message=detail if message is None else message,
        detail=detail,
        wording=wording,
        level=level,
        needs_attention=f"{subject}: {rung.name}" if rung.asks_for_decision else None,
        needs_attention_wording=attention,
    )


class DeadlineExtension(InboundMessage):
    """Input of signal ``extend_deadline``: who moves the deadline, why, and to when."""

    actor: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    new_deadline: datetime
    """Timezone-aware; must lie in the future when the order receives it."""
