"""Our processes as people and supervisors run them: ``worker.py``, ``starter.py``, ``oms``.

Docker, ``docker compose`` and systemd stop a process with SIGTERM and kill it
after a grace period. The worker must stop polling, give running steps time to
finish, and take down the embedded dev server it started, rather than die where
it stands and leave its steps to their timeouts and its server on the port.

Every process must end with the status it means: the Temporal SDK's core threads
could abort the interpreter at exit (SIGABRT, SIGSEGV) after the work was done, an
intermittent failure, so the processes are run and their exit codes checked again
and again. Bounds on start-up are sized for a loaded two-core machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from runtime.processes import ROOT, WorkerProcess
from runtime.temporal import is_listening
from tests.commands import oms, run_command
from tests.conftest import TEST_KEY_RING, free_port

pytestmark = pytest.mark.devserver

WORKER_START_SECONDS = 240
"""How long a worker may take to say it started: a cold embedded dev server on a busy
two-core machine (the whole suite running beside a benchmark) took over 60 s."""

EXAMPLE = ROOT / "examples" / "web-prepaid.json"
EXAMPLE_ORDER = json.loads(EXAMPLE.read_text(encoding="utf-8"))["order_id"]


def embedded_port() -> int:
    """A port for the embedded dev server whose UI (+1000) and codec server (+1001) are free."""
    for _ in range(50):
        port = free_port()
        if port + 1001 < 65536 and all(
            not asyncio.run(is_listening(f"127.0.0.1:{p}")) for p in (port + 1000, port + 1001)
        ):
            return port
    raise AssertionError("no free port for the embedded dev server")


def log_records(log_file: Path) -> list[dict[str, Any]]:
    """Every JSON log line the worker wrote."""
    if not log_file.exists():
        return []
    lines = log_file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def log_events(log_file: Path) -> list[str]:
    """The ``event`` of every JSON log line the worker wrote."""
    return [record.get("event", "") for record in log_records(log_file)]


def process_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This machine's environment with the tests' key ring, JSON logs and ``settings``."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("OMS_TEMPORAL")
    }
    return environment | {
        "OMS_DATA_DIR": str(data_dir),
        "OMS_KEY_RING": TEST_KEY_RING.serialise(),
        "OMS_LOG_FORMAT": "json",
        **settings,
    }


def log_tail(log_file: Path) -> str:
    """The last lines a process logged."""
    return log_file.read_text(encoding="utf-8")[-2000:] if log_file.exists() else ""


async def started(worker: WorkerProcess, log_file: Path) -> None:
    """Wait until the worker logs that it started (or fail naming its last words)."""
    deadline = time.monotonic() + WORKER_START_SECONDS
    while "worker starting" not in log_events(log_file):
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker never started; its log ends:\n{log_tail(log_file)}")
        await asyncio.sleep(0.25)


def order_status(data_dir: Path, order_id: str) -> str | None:
    """The order's status in the embedded default's business database."""
    with sqlite3.connect(data_dir / "oms.db") as connection:
        row = connection.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
    return None if row is None else str(row[0])


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandboxed", "unsandboxed"])
def test_a_fresh_embedded_worker_takes_the_example_order_and_stops_on_sigterm(
    tmp_path: Path, sandbox: bool
) -> None:
    port = embedded_port()
    data_dir = tmp_path / "data"
    environment = process_environment(
        data_dir, OMS_EMBEDDED_PORT=str(port), OMS_WORKER_SANDBOX=str(sandbox).lower()
    )

    async def run_the_readme_path() -> tuple[int | None, str | None]:
        worker = WorkerProcess(environment, tmp_path)
        await worker.start()
        await started(worker, tmp_path / "worker-001.log")
        assert await is_listening(f"127.0.0.1:{port}")
        submitted = await asyncio.to_thread(
            run_command, "starter.py", str(EXAMPLE), environment=environment
        )
        assert submitted.returncode == 0, submitted.stderr
        assert f"{EXAMPLE_ORDER}: submitted" in submitted.stdout
        status = None
        for _ in range(240):
            status = order_status(data_dir, EXAMPLE_ORDER)
            if status in ("COMPLETED", "REJECTED", "FAILED"):
                break
            await asyncio.sleep(0.5)
        exit_code = await worker.stop(signal.SIGTERM)
        assert not await is_listening(f"127.0.0.1:{port}"), "the dev server outlived its worker"
        return exit_code, status

    exit_code, status = asyncio.run(run_the_readme_path())
    assert status == "COMPLETED", "the example order is taken on a fresh data folder"
    assert exit_code == 0
    records = log_records(tmp_path / "worker-001.log")
    [starting] = [record for record in records if record.get("event") == "worker starting"]
    assert starting["sandbox"] is sandbox
    events = [record.get("event", "") for record in records]
    assert events.index("worker stopping") < events.index("worker stopped")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    kept = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data_dir.iterdir()}
    assert {"oms.db", "temporal.db", "codec-token"} <= kept.keys()
    assert {name: mode for name, mode in kept.items() if mode & 0o077} == {}, (
        "nothing in the data folder is readable by others"
    )


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A dev server the worker and commands below connect to, and the data folder they share."""
    environment = asyncio.run(
        WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            dev_server_log_level="error",
        )
    )
    try:
        yield (
            environment.client.service_client.config.target_host,
            tmp_path_factory.mktemp("shared"),
        )
    finally:
        asyncio.run(environment.shutdown())


STOPS = 4
COMMANDS = 6


def test_every_process_exits_with_the_status_it_means_every_time(
    shared_server: tuple[str, Path],
) -> None:
    address, data_dir = shared_server
    environment = process_environment(data_dir, OMS_TEMPORAL_ADDRESS=address)
    initialised = oms("db", "upgrade", environment=environment)
    assert initialised.returncode == 0, initialised.stderr
    assert oms("db", "seed-demo", environment=environment).returncode == 0

    async def start_and_stop(generation: int) -> int | None:
        worker = WorkerProcess(environment, data_dir)
        await worker.start()
        await started(worker, data_dir / f"worker-{1:03d}.log")
        if generation == 0:
            for _ in range(COMMANDS):
                submitted = await asyncio.to_thread(
                    run_command, "starter.py", str(EXAMPLE), environment=environment
                )
                assert submitted.returncode == 0, submitted.stderr
                shown = await asyncio.to_thread(
                    oms, "status", "--live", EXAMPLE_ORDER, environment=environment
                )
                assert shown.returncode == 0, shown.stderr
                refused = await asyncio.to_thread(
                    oms, "approve", EXAMPLE_ORDER, "--reason", "not held", environment=environment
                )
                assert refused.returncode == 1, "a refusal is a failure, and only that"
                assert "Fatal Python error" not in refused.stderr
        return await worker.stop(signal.SIGTERM)

    exits = [asyncio.run(start_and_stop(generation)) for generation in range(STOPS)]
    assert exits == [0] * STOPS
