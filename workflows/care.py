"""CareTaskWorkflow: one task for customer service, from the rule that made it to its
outcome.

The task waits for update ``complete_care_task`` (the outcome, and who did it) under
the care ladder counted from its due date: the owner is reminded, then the supervisor
told, then the task moves to the team queue. The update is answered once the outcome
is recorded; the workflow then ends.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.care import (
        CARE_LADDER,
        CARE_TASK_WORKFLOW_TYPE,
        COMPLETE_CARE_TASK_UPDATE,
        REASSIGN_CARE_TASK,
        REASSIGN_RUNG,
        RECORD_CARE_TASK_DONE,
        CareTask,
        CareTaskCompletion,
        CareTaskDone,
    )
    from domain.escalation import EscalationRung, LadderPosition
    from domain.wording import Wording

from workflows._common import (
    EscalatingWait,
    english,
    next_rung_details,
    read_update,
    refuse,
    run_step,
    runs_database_steps_locally,
)
from workflows.policies import DATABASE_STEP


@workflow.defn(name=CARE_TASK_WORKFLOW_TYPE)
class CareTaskWorkflow:
    """One care task."""

    def __init__(self) -> None:
        self._task: CareTask | None = None
        self._done: CareTaskDone | None = None
        self._recorded = False
        self._wait: EscalatingWait | None = None

    @workflow.run
    async def run(self, task: CareTask) -> CareTask:
        """Wait for the outcome under the ladder, then record it."""
        runs_database_steps_locally()  # pins the patch marker before any step
        self._task = task

        async def on_rung(rung: EscalationRung, position: LadderPosition) -> None:
            if rung.name == REASSIGN_RUNG and self._done is None:
                self._task = await run_step(
                    REASSIGN_CARE_TASK,
                    task.id,
                    CareTask,
                    f"Move care task {task.id} to the team queue",
                    DATABASE_STEP,
                )
            self._report()

        self._wait = EscalatingWait(
            CARE_LADDER,
            task.due_at,
            order_id=workflow.info().workflow_id,
            subject=f"Care task {task.id} ({task.kind.value}) for {task.customer_id}",
            key="care",
            audited=False,
            explain=lambda rung: f"{task.reason}. Due {task.due_at:%Y-%m-%d}. {rung.name}",
        )
        self._report()
        if not await self._wait.until(lambda: self._done is not None, on_rung):
            await workflow.wait_condition(lambda: self._done is not None)
        self._wait = None
        done = self._done
        assert done is not None
        self._task = await run_step(
            RECORD_CARE_TASK_DONE,
            CareTaskCompletion(task_id=task.id, outcome=done.outcome, actor=done.actor),
            CareTask,
            f"Record care task {task.id} done by {done.actor}",
            DATABASE_STEP,
        )
        self._recorded = True
        self._report()
        return self._task

    def _report(self) -> None:
        task = self._task
        assert task is not None
        owner = task.owner or "team queue"
        workflow.set_current_details(
            f"**{'done' if self._recorded else 'open'}** · {task.kind.value} for "
            f"{task.customer_id} · {owner} · due {task.due_at:%Y-%m-%d}\n\n{task.reason}"
            + next_rung_details(self._wait)
        )

    @workflow.update(name=COMPLETE_CARE_TASK_UPDATE)
    async def complete(self, *arguments: Any) -> str:
        """The task is done: its outcome and who did it; answered once recorded."""
        done = await read_update(COMPLETE_CARE_TASK_UPDATE, CareTaskDone, arguments, _log)
        if self._done is not None:
            await refuse("the task is done already", "complete refused: done already", _log)
        self._done = done
        await workflow.wait_condition(lambda: self._recorded)
        return f"care task done: {done.outcome}"

    @workflow.query(name="care_task")
    def care_task(self) -> CareTask | None:
        """Where this task stands."""
        return self._task


async def _log(detail: str | Wording) -> None:
    workflow.logger.warning("care task %s: %s", workflow.info().workflow_id, english(detail))
