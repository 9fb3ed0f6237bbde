"""Run the order worker: ``python worker.py``.

Settings come from the environment (see ``runtime.settings.Settings``). Without
``OMS_TEMPORAL_ADDRESS`` the worker starts the embedded Temporal dev server (or
reuses one already running) and migrates the SQLite business database.

SIGTERM (``docker stop``, systemd, ``kill``) and SIGINT (Ctrl-C) stop it
gracefully: it stops polling, lets running steps finish for up to
``GRACEFUL_SHUTDOWN``, and stops the embedded dev server if it started one.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog
from temporalio.service import RPCError

from ops.demo import prepare_database
from runtime.logging import configure_logging
from runtime.schedules import ensure_schedules
from runtime.settings import Settings
from runtime.shutdown import exit_after
from runtime.temporal import connect, register_search_attributes, temporal_server
from runtime.workers import GRACEFUL_SHUTDOWN, open_database, order_worker


async def main() -> None:
    """Build the dependencies and run the worker until interrupted."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("worker")
    loop = asyncio.get_running_loop()
    starting = asyncio.current_task()
    assert starting is not None
    # While starting, SIGTERM abandons the start as Ctrl-C does (asyncio cancels
    # this task), so an embedded dev server started so far is stopped again.
    loop.add_signal_handler(signal.SIGTERM, starting.cancel)
    if settings.database_url is None:
        await prepare_database(settings)
    async with (
        temporal_server(settings) as address,
        open_database(settings, threads=settings.worker_database_threads, existing=False) as db,
    ):
        client = await connect(
            settings, address, wait_seconds=settings.temporal_connect_wait_seconds
        )
        try:
            await register_search_attributes(client)
        except RPCError as refused:  # e.g. Temporal Cloud: registered by an administrator
            log.warning("could not register the search attributes", reason=refused.message)
        await ensure_schedules(client, settings)
        log.info(
            "worker starting",
            temporal=address,
            namespace=settings.temporal_namespace,
            ui=None if settings.temporal_address else settings.ui_url,
            sandbox=settings.worker_sandbox,
            database_threads=settings.worker_database_threads,
        )
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        # The SDK asks for an explicit shutdown (leaving the block) rather than a
        # cancelled run(); if the worker fails by itself, the block is cancelled.
        async with order_worker(client, db, settings, graceful_shutdown=GRACEFUL_SHUTDOWN):
            await stop.wait()
            log.info("worker stopping", grace_seconds=GRACEFUL_SHUTDOWN.total_seconds())
    log.info("worker stopped")


def run() -> None:
    """Run the worker until it is stopped; a stop by Ctrl-C or SIGTERM is a clean exit."""
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(main())


if __name__ == "__main__":
    exit_after(run)
