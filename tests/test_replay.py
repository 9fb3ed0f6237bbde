"""Every recorded history replays against the current workflow code.

A change to workflow code that running orders could not replay (a new
activity in the middle, a reordered step) fails here. Re-record after an
intended change with ``OMS_RECORD_HISTORIES=1 pytest tests/test_order_workflow.py``,
and guard changes to code that running orders execute with ``workflow.patched``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from runtime.workers import SANDBOX_PASSTHROUGH
from tests.histories import recorded
from workflows import ORDER_WORKFLOWS

HISTORIES = recorded()


def test_histories_are_recorded_for_every_path() -> None:
    scenarios = {path.parent.name for _, path in HISTORIES}
    assert len(scenarios) >= 20
    kinds = {workflow_id.split("-", 1)[0] for workflow_id, _ in HISTORIES}
    assert kinds == {"order", "supply", "shipment"}


@pytest.mark.parametrize(
    ("workflow_id", "path"), HISTORIES, ids=[f"{p.parent.name}/{w}" for w, p in HISTORIES]
)
async def test_recorded_history_replays(workflow_id: str, path: Path) -> None:
    replayer = Replayer(
        workflows=ORDER_WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
        ),
    )
    await replayer.replay_workflow(load(workflow_id, path))


def load(workflow_id: str, path: Path) -> WorkflowHistory:
    """A recorded history."""
    return WorkflowHistory.from_json(workflow_id, path.read_text(encoding="utf-8"))
