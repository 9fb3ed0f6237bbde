"""Run the order worker: ``python worker.py``.

Settings come from the environment (see ``runtime.settings.Settings``). Without
``OMS_TEMPORAL_ADDRESS`` the worker starts the embedded Temporal dev server (or
reuses one already running) and migrates the SQLite business database.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from temporalio.service import RPCError

from ops.demo import prepare_database
from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.temporal import connect, register_search_attributes, temporal_server
from runtime.workers import open_database, order_worker


async def main() -> None:
    """Build the dependencies and run the worker until interrupted."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("worker")
    if settings.database_url is None:
        await prepare_database(settings)
    async with temporal_server(settings) as address, open_database(settings) as sessions:
        client = await connect(
            settings, address, wait_seconds=settings.temporal_connect_wait_seconds
        )
        try:
            await register_search_attributes(client)
        except RPCError as refused:  # e.g. Temporal Cloud: registered by an administrator
            log.warning("could not register the search attributes", reason=refused.message)
        log.info(
            "worker starting",
            temporal=address,
            namespace=settings.temporal_namespace,
            ui=None if settings.temporal_address else settings.ui_url,
        )
        await order_worker(client, sessions, settings).run()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
