"""Temporal Schedules the application keeps: created or brought up to date at start.

The daily inventory review runs at ``OMS_INVENTORY_REVIEW_HOUR`` in the console's time
zone. A run still going when the next is due is left alone (the next is skipped), and
a run missed while the server was down is made up within a day.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.orders import TASK_QUEUE
from domain.replenishment import (
    INVENTORY_REVIEW_SCHEDULE_ID,
    INVENTORY_REVIEW_WORKFLOW_TYPE,
    ReviewRequest,
)
from runtime.settings import Settings


def inventory_review_schedule(settings: Settings) -> Schedule:
    """The daily inventory review."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            INVENTORY_REVIEW_WORKFLOW_TYPE,
            ReviewRequest(),
            id="inventory-review-scheduled",
            task_queue=TASK_QUEUE,
            static_summary="Daily inventory review: forecasts, alerts, replenishment proposals",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(settings.inventory_review_hour)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name=settings.console_time_zone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create the schedules, or bring existing ones to what the settings say."""
    schedule = inventory_review_schedule(settings)
    try:
        await client.create_schedule(INVENTORY_REVIEW_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(INVENTORY_REVIEW_SCHEDULE_ID).update(replace)
