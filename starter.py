"""Submit orders by signal-with-start: ``python starter.py ORDER.json ...`` or ``--demo``.

Each order goes to workflow ``order-<order_id>`` on task queue ``orders`` with
start signal ``submit_order``; a repeat never starts a second workflow.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from domain.orders import OrderSubmission
from ops._clock import utcnow
from ops._console import fail
from ops.submissions import SubmissionError, demo_submissions, read_submission, submit
from runtime.settings import Settings
from runtime.shutdown import exit_after
from runtime.temporal import connect
from runtime.workers import open_database

console = Console()


def main(
    files: Annotated[list[Path] | None, typer.Argument(help="Order JSON files.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Submit the demo set.")] = False,
) -> None:
    """Submit order files (or the demo set) to the order workflows."""
    if not files and not demo:
        raise typer.BadParameter("give order files, or --demo")
    try:
        submissions = [read_submission(path) for path in files or []]
    except SubmissionError as error:
        raise fail(str(error)) from error
    if demo:
        submissions += [order for order, _ in demo_submissions(utcnow().strftime("%d%H%M%S"))]
    asyncio.run(_submit_all(submissions))


async def _submit_all(submissions: list[OrderSubmission]) -> None:
    settings = Settings()
    client = await connect(settings)
    async with open_database(settings, threads=1) as db:
        for submission in submissions:
            outcome = await submit(client, submission, db)
            console.print(f"{outcome.order_id}: {outcome.delivery.value} ({outcome.workflow_id})")


if __name__ == "__main__":
    exit_after(lambda: typer.run(main))
