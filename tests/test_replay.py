"""Every recorded history replays against the current workflow code.

A change to workflow code that running orders could not replay (a new
activity in the middle, a reordered step) fails here. Changes to code that
running orders execute are guarded with ``workflow.patched`` (see
:mod:`workflows.patches`); before re-recording with
``OMS_RECORD_HISTORIES=1 pytest tests/test_order_workflow.py``, move
``tests/histories/current`` to ``tests/histories/before-<patch id>`` so the old
histories keep proving the old path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.credit import CHECK_CREDIT
from domain.intake import RECEIVE_ORDER
from domain.inventory import RESERVE_STOCK
from domain.notifications import NOTIFY
from domain.settlement import AUTHORISE_PAYMENT, CAPTURE_PAYMENT
from ops.histories import LOCAL_ACTIVITY_MARKER, PATCH_MARKER, marker_data
from runtime.workers import SANDBOX_PASSTHROUGH
from tests.histories import CURRENT, HISTORIES_DIR, recorded
from workflows.patches import INTAKE_NOTICE, LOCAL_DATABASE_STEPS, RECORD_IGNORED_MESSAGES
from workflows.registry import ORDER_WORKFLOWS

HISTORIES = recorded()


def test_histories_are_recorded_for_every_path() -> None:
    for version in (CURRENT, f"before-{LOCAL_DATABASE_STEPS}", f"before-{INTAKE_NOTICE}"):
        histories = [(w, path) for w, path in HISTORIES if path.parent.parent.name == version]
        assert len({path.parent.name for _, path in histories}) >= 20, version
        kinds = {workflow_id.split("-", 1)[0] for workflow_id, _ in histories}
        assert kinds == {"order", "supply", "shipment"}, version


PREPAID = "test_prepaid_order_runs_every_step_once_and_completes"


def steps(version: str, scenario: str = PREPAID) -> list[str]:
    """The order's steps in a recorded history: activities, local activities, patch markers."""
    [path] = (HISTORIES_DIR / version / scenario).glob("order-*.json")
    found = []
    for event in load(path.stem, path).events:
        if event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                found.append("local " + marker_data(marker, "data")["activity_type"])
            elif marker.marker_name == PATCH_MARKER:
                found.append("patch " + marker_data(marker, "patch-data")["id"])
        if event.HasField("activity_task_scheduled_event_attributes"):
            found.append(event.activity_task_scheduled_event_attributes.activity_type.name)
    return found


def test_orders_started_before_the_intake_notice_replay_without_it() -> None:
    assert steps(f"before-{INTAKE_NOTICE}")[:3] == [RECEIVE_ORDER, CHECK_CREDIT, AUTHORISE_PAYMENT]
    assert steps(f"before-{LOCAL_DATABASE_STEPS}")[:3] == [
        RECEIVE_ORDER,
        f"patch {INTAKE_NOTICE}",
        NOTIFY,
    ]


def test_new_orders_run_database_steps_as_local_activities() -> None:
    current = steps(CURRENT)
    # The patches are the first commands, before any step; the intake notice is implied.
    # The submission's signal handler runs first in the first task and asks for the
    # any-client patch, then ``run`` asks for the local steps.
    assert current[:5] == [
        f"patch {RECORD_IGNORED_MESSAGES}",
        f"patch {LOCAL_DATABASE_STEPS}",
        f"local {RECEIVE_ORDER}",
        f"local {NOTIFY}",
        f"local {CHECK_CREDIT}",
    ]
    before = steps(f"before-{RECORD_IGNORED_MESSAGES}")
    assert before[0] == f"patch {LOCAL_DATABASE_STEPS}"
    assert f"patch {RECORD_IGNORED_MESSAGES}" not in before
    remote = [step for step in current if not step.startswith(("local ", "patch "))]
    assert remote == [AUTHORISE_PAYMENT, CAPTURE_PAYMENT], "only partner calls use the queue"
    before = steps(f"before-{LOCAL_DATABASE_STEPS}")
    assert RESERVE_STOCK in before
    assert not any(step.startswith("patch " + LOCAL_DATABASE_STEPS) for step in before)


@pytest.mark.parametrize(
    ("workflow_id", "path"),
    HISTORIES,
    ids=[f"{p.parent.parent.name}/{p.parent.name}/{w}" for w, p in HISTORIES],
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
