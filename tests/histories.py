"""Recorded workflow histories: written by the workflow tests on request, replayed by CI.

``OMS_RECORD_HISTORIES=1 pytest tests/test_order_workflow.py`` re-records them:
after each test, the history of every order it started, and of that order's
supply and parcel workflows, is written under ``tests/histories/current/<test>/``.
``tests/test_replay.py`` replays every recorded history against the current
workflow code, so a change that would break running orders fails CI.

Complaint cases are recorded the same way by ``tests/test_complaints.py`` (its
time-skipping tests, SQLite run) under ``tests/histories/complaints/<test>/``.

Histories recorded before a ``workflow.patched`` change (see
:mod:`workflows.patches`) are kept in a sibling folder named after the change,
``tests/histories/before-<patch id>/``, and replay too: they are the orders
that were running when the change was deployed.
"""

from __future__ import annotations

import re
from pathlib import Path

from temporalio.client import Client

from ops.histories import workflow_histories

HISTORIES_DIR = Path(__file__).resolve().parent / "histories"
CURRENT = "current"
"""The folder of histories recorded with today's workflow code."""


def _file_name(workflow_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", workflow_id) + ".json"


async def record(client: Client, test_name: str, order_workflow_ids: list[str]) -> list[Path]:
    """Write the histories of these orders and their children; the files written."""
    folder = HISTORIES_DIR / CURRENT / re.sub(r"[^A-Za-z0-9._-]", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    written = []
    for order_workflow in order_workflow_ids:
        async for history in workflow_histories(client, order_workflow):
            path = folder / _file_name(history.workflow_id)
            path.write_text(history.to_json(), encoding="utf-8")
            written.append(path)
    return written


def recorded() -> list[tuple[str, Path]]:
    """Every recorded history, of every code version, as (workflow id, file), in a stable order.

    Files live at ``<version>/<test>/<workflow id>.json``.
    """
    return [(path.stem, path) for path in sorted(HISTORIES_DIR.glob("*/*/*.json"))]
