"""Timeouts, retry policies and business deadlines of the order workflow, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class StepPolicy:
    """How long one activity attempt may take and how it is retried."""

    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = None


INFRASTRUCTURE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
"""Database hiccups and partner outages: retry with backoff until they pass."""

DATABASE_STEP = StepPolicy(start_to_close=timedelta(seconds=30), retry=INFRASTRUCTURE_RETRY)
"""A step that is one short transaction on the business database."""

PARTNER_STEP = StepPolicy(start_to_close=timedelta(minutes=2), retry=INFRASTRUCTURE_RETRY)
"""A step that calls a partner (payment provider, carrier) and then writes its answer."""

TRACKING_STEP = StepPolicy(
    start_to_close=timedelta(days=30),
    retry=INFRASTRUCTURE_RETRY,
    heartbeat=timedelta(minutes=2),
)
"""Following a parcel: long-running, alive as long as it heartbeats."""

STATUS_WRITE = StepPolicy(start_to_close=timedelta(seconds=10), retry=INFRASTRUCTURE_RETRY)
"""A local activity that writes status or an audit event to the read model."""

COMPENSATION_STEP = StepPolicy(start_to_close=timedelta(minutes=2), retry=INFRASTRUCTURE_RETRY)
"""Undoing a step: retried until it succeeds, it must never be skipped."""

SUBMISSION_WAIT = timedelta(minutes=5)
"""How long a workflow started without a valid ``submit_order`` signal waits for one."""
