"""Temporal Schedules the application keeps: created or brought up to date at start.

The daily inventory review runs at ``OMS_INVENTORY_REVIEW_HOUR``, the nightly customer
review (classification) at ``OMS_CUSTOMER_REVIEW_HOUR``, the weekly complaint analysis
on Mondays at ``OMS_COMPLAINT_ANALYSIS_HOUR``, all in the console's time zone. A run
still going when the next is due is left alone (the next is skipped), and a run missed
while the server was down is made up within a day.
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

from domain.complaint_analysis import (
    COMPLAINT_ANALYSIS_SCHEDULE_ID,
    COMPLAINT_ANALYSIS_WORKFLOW_TYPE,
    AnalysisRequest,
)
from domain.orders import TASK_QUEUE
from domain.replenishment import (
    INVENTORY_REVIEW_SCHEDULE_ID,
    INVENTORY_REVIEW_WORKFLOW_TYPE,
    ReviewRequest,
)
from domain.segments import (
    CUSTOMER_REVIEW_SCHEDULE_ID,
    CUSTOMER_REVIEW_WORKFLOW_TYPE,
    CustomerReviewRequest,
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
        spec=_daily_at(settings.inventory_review_hour, settings),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


def customer_review_schedule(settings: Settings) -> Schedule:
    """The nightly customer review."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CUSTOMER_REVIEW_WORKFLOW_TYPE,
            CustomerReviewRequest(),
            id="customer-review-scheduled",
            task_queue=TASK_QUEUE,
            static_summary="Nightly customer review: RFM segments and ABC classes",
        ),
        spec=_daily_at(settings.customer_review_hour, settings),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


def complaint_analysis_schedule(settings: Settings) -> Schedule:
    """The weekly complaint analysis, Mondays at ``OMS_COMPLAINT_ANALYSIS_HOUR``."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            COMPLAINT_ANALYSIS_WORKFLOW_TYPE,
            AnalysisRequest(),
            id="complaint-analysis-scheduled",
            task_queue=TASK_QUEUE,
            static_summary="Weekly complaint analysis: rates, service levels, root causes",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(1)],
                    hour=[ScheduleRange(settings.complaint_analysis_hour)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name=settings.console_time_zone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


def _daily_at(hour: int, settings: Settings) -> ScheduleSpec:
    return ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                hour=[ScheduleRange(hour)], minute=[ScheduleRange(0)], second=[ScheduleRange(0)]
            )
        ],
        time_zone_name=settings.console_time_zone,
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create the schedules, or bring existing ones to what the settings say."""
    for schedule_id, schedule in (
        (INVENTORY_REVIEW_SCHEDULE_ID, inventory_review_schedule(settings)),
        (CUSTOMER_REVIEW_SCHEDULE_ID, customer_review_schedule(settings)),
        (COMPLAINT_ANALYSIS_SCHEDULE_ID, complaint_analysis_schedule(settings)),
    ):
        await _ensure(client, schedule_id, schedule)


async def _ensure(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
