"""``oms serve``: the staff console and HTTP API under uvicorn, on the configured database."""

from __future__ import annotations

import uvicorn

from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.workers import open_database
from web.app import create_app


async def serve(settings: Settings) -> None:
    """Serve the console on ``settings.web_host``:``settings.web_port`` until stopped."""
    settings.prepare_data_dir()
    configure_logging(settings.log_format, settings.log_level)
    async with open_database(settings, existing=False) as db:
        config = uvicorn.Config(
            create_app(settings, db),
            host=settings.web_host,
            port=settings.web_port,
            proxy_headers=True,
            log_config=None,
            access_log=False,
        )
        await uvicorn.Server(config).serve()
