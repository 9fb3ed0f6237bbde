"""The engine's ceiling: a workflow that makes N activity calls that do nothing.

``python -m bench.baseline`` runs a worker for it on task queue ``baseline`` with
the same worker settings, sandbox and data converter as the order worker, so the
benchmark can compare our pipeline with a workflow of the same length that pays
only Temporal's own costs.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.worker import Worker

from runtime.settings import Settings
from runtime.shutdown import exit_after
from runtime.temporal import connect
from runtime.workers import workflow_runner

from .baseline_workflow import TASK_QUEUE, BaselineWorkflow, no_op


async def main() -> None:
    """Run the baseline worker until interrupted."""
    settings = Settings()
    client = await connect(settings, wait_seconds=settings.temporal_connect_wait_seconds)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BaselineWorkflow],
        activities=[no_op],
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
        workflow_runner=workflow_runner(settings),
    )
    await worker.run()


def run() -> None:
    """Run the baseline worker until interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


if __name__ == "__main__":
    exit_after(run)
