"""Build the order worker from settings: database, simulators, activities, workflow."""

from __future__ import annotations

import asyncio
import compileall
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities import order_activities
from domain.orders import TASK_QUEUE
from integrations.simulated_books import PartnerBooks
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_notifier import SimulatedNotifier
from integrations.simulated_payment import SimulatedPaymentGateway
from integrations.simulated_supply import simulated_factory, simulated_supplier
from persistence.database import DEFAULT_THREADS, Database
from persistence.encrypted import use_key_ring
from persistence.keys import link_secrets
from persistence.migrate import missing_schema
from runtime.chaos import Chaos, PartnerT, chaotic, inject_database_chaos
from runtime.heartbeats import HeartbeatInterceptor
from runtime.logging import LogContextInterceptor
from runtime.settings import Settings
from workflows.registry import ORDER_WORKFLOWS

GRACEFUL_SHUTDOWN = timedelta(seconds=8)
"""How long a stopping worker process lets running steps finish before cancelling them.

Shorter than the 10 s Docker (and ``docker compose``) waits after SIGTERM before it
sends SIGKILL, so a step that finishes in time is not left for its start-to-close
timeout to notice and retry."""

SANDBOX_PASSTHROUGH = ("domain", "workflows._common", "workflows.patches", "workflows.policies")
"""Our pure, deterministic modules: imported once, not re-imported for every workflow run.

The sandbox re-imports everything else a workflow's module imports each time it
starts a workflow; the helpers the workflows share hold no state of their own,
so only the workflow modules themselves are re-executed."""


def cache_workflow_bytecode() -> None:
    """Write the bytecode of the workflow modules if it is missing.

    The sandbox imports the workflow modules afresh for every workflow it
    starts. Without cached bytecode (``PYTHONDONTWRITEBYTECODE``, as on our CI
    machines) each of those imports compiles the source again, which took a
    third of the worker's CPU in the benchmark. A read-only install is left as
    it is.
    """
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The SDK's sandbox with our deterministic modules passed through, or with the
    sandbox switched off (``OMS_WORKER_SANDBOX=false``) no sandbox."""
    if not settings.worker_sandbox:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
    )


class BusinessDatabaseMissingError(Exception):
    """The configured business database does not exist or was never migrated: a command run
    from the wrong folder must not create an empty one (nor a key ring) there."""


@asynccontextmanager
async def open_database(
    settings: Settings, *, threads: int = DEFAULT_THREADS, existing: bool = True
) -> AsyncIterator[Database]:
    """The configured database with ``threads`` threads (a worker passes its setting).

    Unless ``existing`` is False (the worker, ``oms serve``), the database must exist and be
    migrated: else :class:`BusinessDatabaseMissingError`, before anything is created.
    Personal data in it is encrypted with the settings' key ring. With the
    database chaos switch on, its statements fail or slow down at those rates.
    On exit running steps finish and every connection is closed.
    """
    if existing:
        missing = await asyncio.to_thread(missing_schema, settings.resolved_database_url)
        if missing is not None:
            raise BusinessDatabaseMissingError(
                f"the business database {settings.shown_database_url} {missing} "
                f"(data folder {settings.data_dir.resolve()}): run `oms db upgrade` to create "
                "it there, or set OMS_DATA_DIR or OMS_DATABASE_URL, or run oms from the "
                "folder holding .oms"
            )
    use_key_ring(settings.load_key_ring())
    db = Database(settings.resolved_database_url, threads=threads)
    if settings.chaos_database.active:
        inject_database_chaos(db.engines, Chaos(settings.chaos_database, settings.chaos_seed))
    try:
        yield db
    finally:
        await asyncio.to_thread(db.dispose)


def order_worker(
    client: Client,
    db: Database,
    settings: Settings,
    *,
    graceful_shutdown: timedelta = timedelta(),
) -> Worker:
    """A worker on task queue ``orders`` with the order workflows and every activity they call.

    On shutdown it stops polling and gives running activities ``graceful_shutdown``
    to finish before it cancels them. With the partners' chaos switch on, every
    simulated partner misbehaves at those rates.
    """
    cache_workflow_bytecode()
    chaos = Chaos(settings.chaos_partners, settings.chaos_seed)

    def partner(simulator: PartnerT) -> PartnerT:
        return chaotic(simulator, chaos) if settings.chaos_partners.active else simulator

    books = PartnerBooks(settings.resolved_simulated_partners_file)
    activities = order_activities(
        db,
        gateway=partner(SimulatedPaymentGateway(books)),
        carrier=partner(
            SimulatedCarrier(step_seconds=settings.carrier_sim_step_seconds, books=books)
        ),
        factory=partner(simulated_factory(books)),
        supplier=partner(simulated_supplier(books)),
        notifier=partner(SimulatedNotifier(books)),
        tracking_poll_seconds=settings.carrier_poll_seconds,
        retention_days=settings.retention_days,
        link_secret=link_secrets(settings.load_key_ring())[0],
        console_url=settings.console_url,
        complaint_policy=settings.complaint_policy(),
    )
    with warnings.catch_warnings():
        # Only database steps take a thread; partner steps and tracking polls are async
        # and wait on the event loop, so the executor is smaller than the activity slots
        # on purpose (the SDK warns when it is).
        warnings.filterwarnings("ignore", "Worker max_concurrent_activities is", UserWarning)
        return Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=ORDER_WORKFLOWS,
            activities=activities,
            interceptors=[LogContextInterceptor(), HeartbeatInterceptor()],
            activity_executor=db.executor,
            max_concurrent_activities=settings.worker_max_concurrent_activities,
            max_concurrent_local_activities=db.threads,
            max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
            max_cached_workflows=settings.worker_max_cached_workflows,
            graceful_shutdown_timeout=graceful_shutdown,
            workflow_runner=workflow_runner(settings),
        )
