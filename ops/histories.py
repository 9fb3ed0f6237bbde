"""Reading what an order did from Temporal's histories: its own and its children's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from temporalio.api.history.v1 import HistoryEvent, MarkerRecordedEventAttributes
from temporalio.client import Client, WorkflowHistory

from domain.orders import order_workflow_id

LOCAL_ACTIVITY_MARKER = "core_local_activity"
"""The marker the SDK's core records for each finished local activity (detail ``data``)."""
PATCH_MARKER = "core_patch"
"""The marker the SDK's core records where ``workflow.patched`` was asked (``patch-data``)."""


def marker_data(marker: MarkerRecordedEventAttributes, detail: str) -> dict[str, Any]:
    """The JSON the SDK's core writes into one of a marker's details (not encoded by us)."""
    data: dict[str, Any] = json.loads(marker.details[detail].payloads[0].data)
    return data


async def workflow_histories(client: Client, workflow_id: str) -> AsyncIterator[WorkflowHistory]:
    """The workflow's history, then those of its child workflows (supply, parcels), in turn."""
    pending = [workflow_id]
    while pending:
        history = await client.get_workflow_handle(pending.pop(0)).fetch_history()
        for event in history.events:
            if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
                pending.append(
                    event.start_child_workflow_execution_initiated_event_attributes.workflow_id
                )
        yield history


@dataclass
class StepCounts:
    """What a set of histories did, counted from their events."""

    remote_activities: int = 0
    """Activities scheduled through the task queue."""
    local_activities: int = 0
    """Local activities run in the worker that ran the workflow task."""
    retried_activities: int = 0
    """Activities, remote or local, that needed more than one attempt."""
    workflow_tasks: int = 0
    """Workflow tasks completed."""
    timed_out_workflow_tasks: int = 0
    """Workflow tasks that timed out (a worker died or stalled holding them)."""
    workflow_task_timeouts_at: list[float] = field(default_factory=list)
    """When each of them timed out (seconds since the epoch)."""

    @property
    def activities(self) -> int:
        """Activity calls of both kinds."""
        return self.remote_activities + self.local_activities

    def add(self, event: HistoryEvent) -> None:
        """Count one event."""
        if event.HasField("activity_task_scheduled_event_attributes"):
            self.remote_activities += 1
        elif event.HasField("activity_task_started_event_attributes"):
            # The started event is written once, when the activity ends, with its last attempt.
            self.retried_activities += event.activity_task_started_event_attributes.attempt > 1
        elif event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                self.local_activities += 1
                self.retried_activities += marker_data(marker, "data")["attempt"] > 1
        elif event.HasField("workflow_task_completed_event_attributes"):
            self.workflow_tasks += 1
        elif event.HasField("workflow_task_timed_out_event_attributes"):
            self.timed_out_workflow_tasks += 1
            self.workflow_task_timeouts_at.append(_seconds(event))


def _seconds(event: HistoryEvent) -> float:
    """When ``event`` happened, in seconds since the epoch."""
    return event.event_time.ToDatetime().replace(tzinfo=UTC).timestamp()


def unexplained_timeouts(
    timeouts_at: list[float], disruptions: list[float], window: float
) -> list[float]:
    """The times in ``timeouts_at`` that no disruption (a worker kill, a server restart) in
    ``disruptions`` explains: none began within ``window`` seconds before it."""
    return [t for t in timeouts_at if not any(0 <= t - d <= window for d in disruptions)]


async def count_order_steps(client: Client, order_ids: list[str]) -> StepCounts:
    """Steps of these orders and their children, added up."""
    counts = StepCounts()
    for order_id in order_ids:
        async for history in workflow_histories(client, order_workflow_id(order_id)):
            for event in history.events:
                counts.add(event)
    return counts


TRACKING_POLL_ACTIVITY = "poll_tracking"
"""Long-running by design: its retries after a kill are not a step's recovery."""


async def recoveries_after_kills(
    client: Client, order_ids: list[str], kill_times: list[float]
) -> list[float]:
    """Seconds from a worker kill to the result of each step that kill interrupted.

    A remote step whose last attempt was not its first, and that was scheduled
    before a kill and finished after it, was taken over from the killed worker:
    its recovery is the time from that kill (the latest one before it finished)
    to its completion event.
    """
    recoveries = []
    for order_id in order_ids:
        async for history in workflow_histories(client, order_workflow_id(order_id)):
            scheduled: dict[int, tuple[str, float]] = {}
            attempts: dict[int, int] = {}
            for event in history.events:
                at = _seconds(event)
                if event.HasField("activity_task_scheduled_event_attributes"):
                    kind = event.activity_task_scheduled_event_attributes.activity_type.name
                    scheduled[event.event_id] = (kind, at)
                elif event.HasField("activity_task_started_event_attributes"):
                    started = event.activity_task_started_event_attributes
                    attempts[started.scheduled_event_id] = started.attempt
                elif event.HasField("activity_task_completed_event_attributes"):
                    step = event.activity_task_completed_event_attributes.scheduled_event_id
                    kind, since = scheduled[step]
                    kills = [kill for kill in kill_times if since < kill < at]
                    if kind != TRACKING_POLL_ACTIVITY and attempts.get(step, 1) > 1 and kills:
                        recoveries.append(at - max(kills))
    return recoveries
