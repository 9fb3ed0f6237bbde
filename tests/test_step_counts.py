"""Counting what histories did: workflow task timeouts, and which of them a disruption explains."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.api.history.v1 import HistoryEvent, WorkflowTaskTimedOutEventAttributes

from ops.histories import StepCounts, unexplained_timeouts


def test_a_timed_out_workflow_task_is_counted_with_its_time() -> None:
    event = HistoryEvent(
        workflow_task_timed_out_event_attributes=WorkflowTaskTimedOutEventAttributes()
    )
    event.event_time.FromDatetime(datetime(2026, 12, 2, 9, 0, 5, tzinfo=UTC))
    counts = StepCounts()
    counts.add(event)
    assert counts.timed_out_workflow_tasks == 1
    assert counts.workflow_task_timeouts_at == [
        datetime(2026, 12, 2, 9, 0, 5, tzinfo=UTC).timestamp()
    ]


def test_only_timeouts_soon_after_a_kill_or_restart_are_explained() -> None:
    kill, restart = 1000.0, 2000.0
    timeouts = [995.0, 1000.0, 1012.0, 1020.0, 1021.0, 2015.0, 3000.0]
    assert unexplained_timeouts(timeouts, [kill, restart], window=20.0) == [995.0, 1021.0, 3000.0]
    assert unexplained_timeouts(timeouts, [], window=20.0) == timeouts
