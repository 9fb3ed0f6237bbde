"""Timeouts, retry policies and business deadlines of the workflows, in one place.

Business ladders (when to remind, escalate, give up) are policy of their areas
and live in ``domain`` (``domain.credit.APPROVAL_LADDER`` and friends).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class StepPolicy:
    """How long one activity attempt may take, how it is retried, how it is cancelled."""

    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = None
    interruptible: bool = False
    """False: a cancelled workflow lets a running step finish (and only then stops),
    so no effect can land after the compensation that should have undone it.
    True: the step is abandoned at once; only for steps without effects."""
    local: bool = False
    """True: run as a local activity, in the worker that runs the workflow task, with
    no task-queue round trip through the server. For short database transactions
    only: a local activity cannot heartbeat and holds its workflow task open."""


INFRASTRUCTURE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
"""Database hiccups and partner outages: retry with backoff until they pass."""

DATABASE_STEP = StepPolicy(
    start_to_close=timedelta(seconds=30), retry=INFRASTRUCTURE_RETRY, local=True
)
"""A step that is one short transaction on the business database: a local activity
(for orders started before :data:`workflows.patches.LOCAL_DATABASE_STEPS`, a remote one)."""

PARTNER_HEARTBEAT = timedelta(seconds=10)
"""A partner step's worker tells Temporal it is alive every few seconds; after this long
without word (the worker died) another worker retries the step."""

PARTNER_DEADLINE = timedelta(seconds=60)
"""How long one partner call may take: providers and carriers answer within seconds and
time out their own requests after 30 s; a call still open after a minute is retried."""

PARTNER_STEP = StepPolicy(
    start_to_close=PARTNER_DEADLINE, retry=INFRASTRUCTURE_RETRY, heartbeat=PARTNER_HEARTBEAT
)
"""A step that calls a partner (payment provider, carrier, factory) and then writes its
answer; heartbeating (:mod:`runtime.heartbeats`), so a crashed worker's step is taken
over within about :data:`PARTNER_HEARTBEAT`."""

TRACKING_POLL = StepPolicy(
    start_to_close=timedelta(days=1),
    retry=INFRASTRUCTURE_RETRY,
    heartbeat=timedelta(seconds=30),
    interruptible=True,
)
"""Asking a carrier for news: long-running, alive while it heartbeats, free to abandon.
A poll whose worker died is picked up by another worker after 30 s of silence."""

REVIEW_STEP = StepPolicy(start_to_close=timedelta(minutes=30), retry=INFRASTRUCTURE_RETRY)
"""A step of the inventory review: reads the order history and forecasts every product
and warehouse (seconds on a large history, so not a local activity)."""

STATUS_WRITE = StepPolicy(start_to_close=timedelta(seconds=10), retry=INFRASTRUCTURE_RETRY)
"""A local activity that writes status or an audit event to the read model."""

COMPENSATION_ATTEMPTS = 6
"""Attempts of an undo step before the order needs a person (about a minute of retrying)."""

COMPENSATION_STEP = StepPolicy(
    start_to_close=PARTNER_DEADLINE,
    heartbeat=PARTNER_HEARTBEAT,
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=COMPENSATION_ATTEMPTS,
    ),
)
"""Undoing a step. When it keeps failing the order becomes NEEDS_ATTENTION and waits
for ``retry_compensation``: an undo is never skipped."""

SUBMISSION_WAIT = timedelta(minutes=5)
"""How long a workflow started without a valid ``submit_order`` signal waits for one."""


CAMPAIGN_BATCH = StepPolicy(
    start_to_close=timedelta(minutes=10),
    retry=INFRASTRUCTURE_RETRY,
    heartbeat=timedelta(seconds=30),
)
"""A batch of campaign messages: one notifier call per recipient, heartbeating as it goes
(a worker killed mid-batch is noticed in seconds; the retry sends only what is left)."""
