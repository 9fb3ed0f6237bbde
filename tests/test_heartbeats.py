"""Partner and undo steps heartbeat while they run, on a thread or on the event loop."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from runtime.heartbeats import HeartbeatInterceptor

STEP_SECONDS = 3.0
HEARTBEAT_TIMEOUT = timedelta(seconds=1)


@activity.defn(name="slow_database_step")
def slow_database_step() -> str:
    """A synchronous step (as the undo steps are) that outlasts its heartbeat timeout."""
    time.sleep(STEP_SECONDS)
    return activity.info().activity_type


@activity.defn(name="slow_partner_step")
async def slow_partner_step() -> str:
    """An async step (as the partner steps are) that outlasts its heartbeat timeout."""
    await asyncio.sleep(STEP_SECONDS)
    return activity.info().activity_type


@workflow.defn(name="HeartbeatProbe", sandboxed=False)
class HeartbeatProbe:
    @workflow.run
    async def run(self, step: str) -> str:
        result: str = await workflow.execute_activity(
            step,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
            result_type=str,
        )
        return result


async def test_steps_outlive_their_heartbeat_timeout_and_the_event_loop_keeps_running(
    dev_server: WorkflowEnvironment,
) -> None:
    queue = f"heartbeats-{uuid.uuid4()}"
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.1)
            ticks += 1

    ticking = asyncio.create_task(tick())
    with ThreadPoolExecutor(max_workers=2) as threads:
        async with Worker(
            dev_server.client,
            task_queue=queue,
            workflows=[HeartbeatProbe],
            activities=[slow_database_step, slow_partner_step],
            activity_executor=threads,
            interceptors=[HeartbeatInterceptor()],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            results = await asyncio.gather(
                *(
                    dev_server.client.execute_workflow(
                        HeartbeatProbe.run, step, id=f"{queue}-{step}", task_queue=queue
                    )
                    for step in ("slow_database_step", "slow_partner_step")
                )
            )
    ticking.cancel()
    # Without heartbeats both attempts time out after 1 s and the workflows fail.
    assert results == ["slow_database_step", "slow_partner_step"]
    # The beats of the step on a thread never block the loop (3 s: about 30 ticks).
    assert ticks >= 20
