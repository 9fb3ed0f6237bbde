"""What support staff do to running orders: each a workflow update with a synchronous answer.

Every action goes to the workflow as an update (the ``..._now`` twin of a
signal), so the person gets the workflow's own answer at once: accepted, or
refused with the reason (order not held, parcel already picked up, ...). The
workflow records both in the order's audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.orders import UPDATE_SUFFIX

NOT_RUNNING = re.compile(r"workflow execution already completed|not found", re.IGNORECASE)


class StaffActionError(Exception):
    """The action was not taken; the message says why, for a person to read."""


@dataclass(frozen=True)
class StaffAction:
    """One action on one workflow: the signal it twins, and what it acts on (for messages)."""

    workflow_id: str
    signal: str
    subject: str
    """How a person names the target, e.g. ``order WEB-10001`` or ``parcel WEB-10001-S1``."""


async def perform(
    client: Client, action: StaffAction, argument: BaseModel, *, update_id: str | None = None
) -> str:
    """Send ``argument`` as the update twin of ``action.signal``; the workflow's answer.

    With ``update_id`` (a form's one-time id) a repeat of the same request, such as
    a double click, gets the first answer and changes nothing more: Temporal keeps
    one update per id. Raises :class:`StaffActionError` with a message naming the
    target when the workflow does not exist, has finished, or refuses.
    """
    handle = client.get_workflow_handle(action.workflow_id)
    try:
        answer: Any = await handle.execute_update(
            action.signal + UPDATE_SUFFIX, argument, id=update_id, result_type=str
        )
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise StaffActionError(f"{action.subject}: {action.signal} refused: {reason}") from failure
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND or NOT_RUNNING.search(error.message):
            raise StaffActionError(
                f"{action.subject}: no running workflow {action.workflow_id!r} "
                "(unknown id, or it has finished; see `oms status`)"
            ) from error
        raise StaffActionError(f"{action.subject}: Temporal said: {error.message}") from error
    return str(answer)
