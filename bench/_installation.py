"""A self-contained installation for a soak or a benchmark: its own data folder, dev
server port and business database, and the environment its worker processes get."""

from __future__ import annotations

import os
from pathlib import Path

from ops.demo import prepare_database
from runtime.settings import Settings


async def prepare_installation(
    data_dir: Path, port: int, database_url: str | None, worker_settings: dict[str, str]
) -> tuple[Settings, dict[str, str]]:
    """Migrate its database; its settings, and the environment for its workers.

    ``worker_settings`` are further ``OMS_`` variables for the workers (log level,
    simulator speeds, chaos switches).
    """
    address = f"127.0.0.1:{port}"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        temporal_address=address,
        embedded_port=port,
    )
    await prepare_database(settings)
    environment = {
        **os.environ,
        "OMS_DATA_DIR": str(data_dir),
        "OMS_DATABASE_URL": settings.resolved_database_url,
        "OMS_TEMPORAL_ADDRESS": address,
        "OMS_KEY_RING": settings.load_key_ring().serialise(),
        **worker_settings,
    }
    return settings, environment
