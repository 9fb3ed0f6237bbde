"""Heartbeats for activities that call partners: a crashed worker's step is taken over fast.

A partner step (authorise, capture, book a parcel, place a supply order, and
their undo steps) runs with a short heartbeat timeout. While it runs, this
interceptor tells Temporal every few seconds that its worker is alive; when the
worker dies, the heartbeats stop, the server times the attempt out after the
heartbeat timeout and another worker retries it at once (the partner's
idempotency key makes the retry harmless), instead of waiting out the whole
start-to-close timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

BEATS_PER_TIMEOUT = 4
"""Heartbeats sent within one heartbeat timeout (the SDK throttles the rest)."""


class HeartbeatInterceptor(Interceptor):
    """Heartbeats every remote activity that was given a heartbeat timeout, while it runs."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap activity execution."""
        return _Heartbeating(next)


class _Heartbeating(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.is_local or not info.heartbeat_timeout:
            return await self.next.execute_activity(input)
        beating = asyncio.create_task(_beat(info.heartbeat_timeout / BEATS_PER_TIMEOUT))
        try:
            return await self.next.execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating


async def _beat(every: timedelta) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(every.total_seconds())
