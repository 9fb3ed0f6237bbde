"""``python worker.py`` as a supervisor runs it: stopped by SIGTERM, it shuts down cleanly.

Docker, ``docker compose`` and systemd stop a process with SIGTERM and kill it
after a grace period. The worker must stop polling, give running steps time to
finish, and take down the embedded dev server it started, rather than die where
it stands and leave its steps to their timeouts and its server on the port.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from runtime.processes import WorkerProcess
from runtime.temporal import is_listening
from tests.conftest import TEST_KEY_RING, free_port

pytestmark = pytest.mark.devserver


def embedded_port() -> int:
    """A port for the embedded dev server whose UI (+1000) and codec server (+1001) are free."""
    for _ in range(50):
        port = free_port()
        if port + 1001 < 65536 and all(
            not asyncio.run(is_listening(f"127.0.0.1:{p}")) for p in (port + 1000, port + 1001)
        ):
            return port
    raise AssertionError("no free port for the embedded dev server")


def log_events(log_file: Path) -> list[str]:
    """The ``event`` of every JSON log line the worker wrote."""
    events = []
    for line in log_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            events.append(json.loads(line).get("event", ""))
    return events


def test_sigterm_stops_the_worker_and_its_embedded_dev_server(tmp_path: Path) -> None:
    port = embedded_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("OMS_TEMPORAL")
    }
    environment |= {
        "OMS_DATA_DIR": str(tmp_path),
        "OMS_EMBEDDED_PORT": str(port),
        "OMS_KEY_RING": TEST_KEY_RING.serialise(),
        "OMS_LOG_FORMAT": "json",
    }

    async def run_and_terminate() -> int | None:
        worker = WorkerProcess(environment, tmp_path)
        await worker.start()
        for _ in range(240):
            if "worker starting" in log_events(tmp_path / "worker-001.log"):
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError("the worker never started")
        assert await is_listening(f"127.0.0.1:{port}")
        exit_code = await worker.stop(signal.SIGTERM)
        assert not await is_listening(f"127.0.0.1:{port}"), "the dev server outlived its worker"
        return exit_code

    assert asyncio.run(run_and_terminate()) == 0
    events = log_events(tmp_path / "worker-001.log")
    assert events.index("worker stopping") < events.index("worker stopped")
