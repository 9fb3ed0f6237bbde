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
    ActivityOutboundInterceptor,
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
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        # Beats go through the outbound interceptor on the event loop. For a
        # synchronous activity (a database step on a thread) the SDK replaces the
        # activity's own heartbeat with one that waits on the event loop, which must
        # not be called from the loop itself.
        self._outbound = outbound
        super().init(outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.is_local or not info.heartbeat_timeout:
            return await self.next.execute_activity(input)
        beating = asyncio.create_task(
            _beat(self._outbound, info.heartbeat_timeout / BEATS_PER_TIMEOUT)
        )
        try:
            return await self.next.execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating


async def _beat(outbound: ActivityOutboundInterceptor, every: timedelta) -> None:
    while True:
        outbound.heartbeat()
        await asyncio.sleep(every.total_seconds())
