"""CampaignWorkflow: one marketing campaign, from its audience to its response.

It chooses the audience once (consenting customers of the segment and filters, a
control group held out), then sends in batches at the campaign's rate (a batch a
minute), pausing, resuming and stopping when staff ask (updates
``pause_campaign_now``, ``resume_campaign_now``, ``cancel_campaign_now``). Every
message is sent once: the batch step records each recipient's turn, and the
notifier's idempotency key is the campaign and the customer, so a worker killed
mid-batch resends nothing. When everything is sent it waits out the response window
and measures the response against the control group. A long campaign continues as
new before its history grows large.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.campaigns import (
        CAMPAIGN_WORKFLOW_TYPE,
        CANCEL_CAMPAIGN,
        MEASURE_CAMPAIGN,
        PAUSE_CAMPAIGN,
        RECORD_CAMPAIGN_STATUS,
        RESUME_CAMPAIGN,
        SELECT_AUDIENCE,
        SEND_CAMPAIGN_BATCH,
        AudienceChosen,
        BatchRequest,
        BatchSent,
        CampaignAction,
        CampaignResponse,
        CampaignStart,
        CampaignStatus,
        CampaignStatusChange,
    )
    from domain.orders import UPDATE_SUFFIX
    from domain.wording import Wording

from workflows._common import english, read_update, refuse, run_step, runs_database_steps_locally
from workflows.policies import CAMPAIGN_BATCH, DATABASE_STEP


@workflow.defn(name=CAMPAIGN_WORKFLOW_TYPE)
class CampaignWorkflow:
    """One campaign."""

    def __init__(self) -> None:
        self._start: CampaignStart | None = None
        self._paused = False
        self._cancelled = False
        self._status = CampaignStatus.SENDING

    @workflow.run
    async def run(self, start: CampaignStart) -> CampaignResponse | None:
        """Choose, send at the rate, wait out the window, measure."""
        runs_database_steps_locally()  # pins the patch marker before any step
        self._start = start
        self._paused = start.paused
        self._status = CampaignStatus.PAUSED if start.paused else CampaignStatus.SENDING
        audience = await run_step(
            SELECT_AUDIENCE,
            start.campaign_id,
            AudienceChosen,
            f"Choose the audience of campaign {start.campaign_id}",
            DATABASE_STEP,
        )
        self._report(f"{audience.targeted} targeted, {audience.control} held out")
        while True:
            await workflow.wait_condition(lambda: not self._paused or self._cancelled)
            if self._cancelled:
                return None
            batch = await run_step(
                SEND_CAMPAIGN_BATCH,
                BatchRequest(campaign_id=start.campaign_id, limit=start.rate_per_minute),
                BatchSent,
                f"Send up to {start.rate_per_minute} messages of campaign {start.campaign_id}",
                CAMPAIGN_BATCH,
            )
            start.sent += batch.sent
            start.skipped += batch.skipped
            self._report(f"{start.sent} sent, {start.skipped} skipped, {batch.remaining} to go")
            if not batch.remaining:
                break
            await _until(lambda: self._cancelled, timedelta(minutes=1))  # the pace
            if self._cancelled:
                return None
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                start.paused = self._paused
                workflow.continue_as_new(start)
        self._status = CampaignStatus.MEASURING
        await self._record(CampaignStatus.MEASURING, "system")
        self._report(f"{start.sent} sent; measuring for {start.response_days} days")
        await _until(lambda: self._cancelled, timedelta(days=start.response_days))
        if self._cancelled:
            return None
        response = await run_step(
            MEASURE_CAMPAIGN,
            start.campaign_id,
            CampaignResponse,
            f"Measure the response to campaign {start.campaign_id}",
            DATABASE_STEP,
        )
        self._status = CampaignStatus.FINISHED
        await self._record(CampaignStatus.FINISHED, "system")
        self._report(
            f"{response.sent} sent; ordered: {response.targeted_ordered} of them, "
            f"{response.control_ordered} of {response.control} held out"
        )
        return response

    async def _record(self, status: CampaignStatus, actor: str) -> None:
        assert self._start is not None
        await run_step(
            RECORD_CAMPAIGN_STATUS,
            CampaignStatusChange(
                campaign_id=self._start.campaign_id,
                status=status,
                actor=actor,
                at=workflow.now(),
            ),
            str,
            f"Campaign {self._start.campaign_id}: {status.value}",
            DATABASE_STEP,
        )

    def _report(self, progress: str) -> None:
        workflow.set_current_details(f"**{self._status.value}** · {progress}")

    @workflow.update(name=PAUSE_CAMPAIGN + UPDATE_SUFFIX)
    async def pause(self, *arguments: Any) -> str:
        """Stop sending after the batch under way; resume picks up where it stopped."""
        action = await self._asked(PAUSE_CAMPAIGN, arguments, CampaignStatus.SENDING)
        self._paused = True
        return await self._become(CampaignStatus.PAUSED, action, "paused")

    @workflow.update(name=RESUME_CAMPAIGN + UPDATE_SUFFIX)
    async def resume(self, *arguments: Any) -> str:
        """Send again."""
        action = await self._asked(RESUME_CAMPAIGN, arguments, CampaignStatus.PAUSED)
        self._paused = False
        return await self._become(CampaignStatus.SENDING, action, "resumed")

    @workflow.update(name=CANCEL_CAMPAIGN + UPDATE_SUFFIX)
    async def cancel(self, *arguments: Any) -> str:
        """Send nothing more and measure nothing; what was sent stays sent."""
        action = await self._asked(
            CANCEL_CAMPAIGN,
            arguments,
            CampaignStatus.SENDING,
            CampaignStatus.PAUSED,
            CampaignStatus.MEASURING,
        )
        answer = await self._become(CampaignStatus.CANCELLED, action, "cancelled")
        self._cancelled = True
        return answer

    async def _asked(
        self, name: str, arguments: tuple[Any, ...], *allowed: CampaignStatus
    ) -> CampaignAction:
        """Read a staff action; refuse it unless the campaign is in one of ``allowed``."""
        action = await read_update(name + UPDATE_SUFFIX, CampaignAction, arguments, _log)
        if self._status not in allowed:
            await refuse(f"the campaign is {self._status.value}", f"{name} refused", _log)
        return action

    async def _become(self, status: CampaignStatus, action: CampaignAction, done: str) -> str:
        self._status = status
        await self._record(status, action.actor)
        return f"{done} by {action.actor}"


async def _until(condition: Callable[[], bool], at_most: timedelta) -> None:
    """Wait until ``condition`` holds or ``at_most`` has passed, whichever is first."""
    with contextlib.suppress(TimeoutError):  # wait_condition raises it when time is up
        await workflow.wait_condition(condition, timeout=at_most)


async def _log(detail: str | Wording) -> None:
    workflow.logger.warning("campaign %s: %s", workflow.info().workflow_id, english(detail))
