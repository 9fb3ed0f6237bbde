"""Child processes for soaks, scale-out tests and benchmarks: a dev server that can be
restarted on its state file, and worker processes that can be killed.

Production runs its workers under a supervisor (Docker, systemd); these stand in
for one where a script or a test must start, kill and restart them itself.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.orders import TASK_QUEUE
from domain.visibility import SEARCH_ATTRIBUTES
from runtime.temporal import (
    DEV_SERVER_SQLITE_PRAGMAS,
    DEV_SERVER_STARTUP_TIMEOUT,
    temporal_cli_path,
)

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: ``worker.py`` lives here."""


class DevServer:
    """The Temporal dev server with persistent state, which the soak can restart."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self._data_dir = data_dir
        self._port = port
        self._env: WorkflowEnvironment | None = None
        self.restarts = 0
        self.restart_times: list[float] = []
        """When each restart began (seconds since the epoch)."""

    async def start(self) -> None:
        """Start it on the state file (created on the first start)."""
        pragmas = [a for p in DEV_SERVER_SQLITE_PRAGMAS for a in ("--sqlite-pragma", p)]
        self._env = await WorkflowEnvironment.start_local(
            dev_server_startup_timeout=DEV_SERVER_STARTUP_TIMEOUT,
            port=self._port,
            ui=False,
            dev_server_existing_path=str(temporal_cli_path()),
            dev_server_database_filename=str(self._data_dir / "temporal.db"),
            dev_server_extra_args=pragmas,
            dev_server_log_level="error",
            search_attributes=SEARCH_ATTRIBUTES,
        )

    async def stop(self) -> None:
        """Stop it; its state stays in the file."""
        if self._env is not None:
            await self._env.shutdown()
            self._env = None

    async def restart(self, down_seconds: float) -> None:
        """Stop it, stay down a while, start it again."""
        self.restart_times.append(time.time())
        await self.stop()
        await asyncio.sleep(down_seconds)
        await self.start()
        self.restarts += 1


class WorkerProcess:
    """``python worker.py`` (or other ``arguments``) in a child process in the checkout:
    killed with SIGKILL on demand, restarted."""

    def __init__(
        self,
        environment: dict[str, str],
        log_dir: Path,
        name: str = "worker",
        arguments: Sequence[str] = ("worker.py",),
    ) -> None:
        self._environment = environment
        self._log_dir = log_dir
        self._name = name
        self._arguments = tuple(arguments)
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self.generation = 0
        self.kills = 0
        self.kill_times: list[float] = []
        """When each SIGKILL was sent (seconds since the epoch)."""
        self.exits = 0

    async def start(self) -> None:
        """Start a new worker process, logging to ``worker-<n>.log``."""
        self.generation += 1
        self._log = (self._log_dir / f"{self._name}-{self.generation:03d}.log").open("wb")
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self._arguments,
            cwd=ROOT,
            env=self._environment,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def kill_and_restart(self) -> None:
        """SIGKILL the worker (nothing it holds is flushed or released) and start a new one."""
        await self.kill()
        await self.start()

    async def restart_if_it_died(self) -> None:
        """A worker that exited by itself is counted and replaced."""
        if self._process is not None and self._process.returncode is not None:
            self.exits += 1
            await self.start()

    async def wait(self) -> int:
        """Wait until the current process exits; its exit code."""
        assert self._process is not None
        return await self._process.wait()

    @property
    def pid(self) -> int | None:
        """The running process's id (part of its Temporal worker identity, ``pid@host``)."""
        return self._process.pid if self._process is not None else None

    async def kill(self) -> None:
        """SIGKILL the worker and leave it dead."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)
            self.kill_times.append(time.time())
            await self._process.wait()
            self.kills += 1

    async def stop(self, signum: signal.Signals = signal.SIGINT) -> int | None:
        """Stop the worker gently (SIGINT, or SIGTERM as a supervisor does), or kill it
        after 15 s; its exit code (None if it had not been started)."""
        if self._process is None:
            return None
        if self._process.returncode is None:
            self._process.send_signal(signum)
            try:
                await asyncio.wait_for(self._process.wait(), 15)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._log is not None:
            self._log.close()
        return self._process.returncode


async def wait_for_pollers(client: Client, pids: Sequence[int | None], seconds: float) -> None:
    """Wait until a worker process of each pid polls the order task queue for workflow tasks.

    Raises :class:`TimeoutError` naming the workers that never polled within ``seconds``.
    """
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=TASK_QUEUE),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    expected = {f"{pid}@{socket.gethostname()}" for pid in pids}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        response = await client.workflow_service.describe_task_queue(request)
        if expected <= {poller.identity for poller in response.pollers}:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"workers {sorted(expected)} never polled {TASK_QUEUE}")
