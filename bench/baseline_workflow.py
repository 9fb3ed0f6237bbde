"""The baseline workflow and its no-op activity (sandbox-safe: Temporal and pydantic only)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

TASK_QUEUE = "baseline"
NO_OP = "no_op"
START_SIGNAL = "start"


class BaselineRun(BaseModel):
    """How many activity calls the baseline workflow makes."""

    calls: int


@activity.defn(name=NO_OP)
async def no_op(call: int) -> int:
    """Do nothing (the task-queue round trip is what is measured)."""
    return call


@workflow.defn(name="BaselineWorkflow")
class BaselineWorkflow:
    """Started by signal-with-start like an order; makes ``calls`` no-op activity calls."""

    def __init__(self) -> None:
        self._run: BaselineRun | None = None

    @workflow.signal(name=START_SIGNAL)
    def start(self, run: BaselineRun) -> None:
        """The run to make (the counterpart of ``submit_order``)."""
        self._run = run

    @workflow.run
    async def run(self) -> int:
        """Make the calls one after another, as an order's steps are."""
        await workflow.wait_condition(lambda: self._run is not None)
        assert self._run is not None
        for call in range(self._run.calls):
            await workflow.execute_activity(
                NO_OP, call, start_to_close_timeout=timedelta(seconds=30)
            )
        return self._run.calls
