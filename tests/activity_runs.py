"""Run activities in tests as a worker runs them: a database step on a thread, a partner
step on the event loop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from temporalio.testing import ActivityEnvironment

ResultT = TypeVar("ResultT")


@overload
async def run_in(
    environment: ActivityEnvironment, activity: Callable[..., Awaitable[ResultT]], *args: Any
) -> ResultT: ...
@overload
async def run_in(
    environment: ActivityEnvironment, activity: Callable[..., ResultT], *args: Any
) -> ResultT: ...
async def run_in(environment: ActivityEnvironment, activity: Callable[..., Any], *args: Any) -> Any:
    """Run ``activity`` with ``args`` in ``environment`` and return its result."""
    if inspect.iscoroutinefunction(activity):
        return await environment.run(activity, *args)
    return await asyncio.to_thread(environment.run, activity, *args)


@overload
async def run(activity: Callable[..., Awaitable[ResultT]], *args: Any) -> ResultT: ...
@overload
async def run(activity: Callable[..., ResultT], *args: Any) -> ResultT: ...
async def run(activity: Callable[..., Any], *args: Any) -> Any:
    """Run ``activity`` with ``args`` in a fresh activity environment."""
    return await run_in(ActivityEnvironment(), activity, *args)
