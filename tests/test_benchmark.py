"""The benchmark script runs end to end at a tiny size and reports every figure.

It measures nothing here (the figures of a run this small say nothing); it shows
that the README's benchmark command works: dev server, workers, business
database, pipeline, baseline, hot path and open orders, table and JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import POSTGRES_URL, free_port

pytestmark = pytest.mark.devserver

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(
    data_dir: Path, *options: str, script: str = "bench.throughput"
) -> tuple[str, dict[str, Any]]:
    """Run the benchmark ``script`` with ``options`` and its state in ``data_dir``; what it
    printed and the figures it wrote as JSON."""
    figures_file = data_dir / "bench.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            script,
            *options,
            "--data-dir",
            str(data_dir),
            "--json",
            str(figures_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures: dict[str, Any] = json.loads(figures_file.read_text(encoding="utf-8"))
    return run.stdout, figures


def test_benchmark_reports_every_figure_in_its_table_and_json(tmp_path: Path) -> None:
    printed, figures = run_benchmark(
        tmp_path / "state",
        *("--orders", "4", "--open-orders", "3", "--workers", "2", "--port", str(free_port())),
    )
    assert "pipeline / baseline" in printed
    assert "workflow task timeouts" in printed
    assert figures["workers"] == 2
    assert figures["pipeline"]["workflows"] == 4
    assert figures["baseline"]["workflows"] == 4
    assert figures["activities_per_order"] == 22.0  # every step of the happy path, counted
    assert figures["ratio_to_baseline"] > 0
    latency = figures["completed_latency"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    assert figures["hot_path"]["reservations"] == 400
    assert figures["hot_path"]["activity_per_second"] > 0
    held = figures["open_orders"]
    assert held["open_orders"] == 3
    assert held["worker_cache"] >= 3 + 4
    assert held["approve_update_seconds"] > 0


def test_the_race_sells_each_unit_once_and_rejects_every_other_order(tmp_path: Path) -> None:
    printed, figures = run_benchmark(
        tmp_path / "race",
        *("--orders", "8", "--units", "3", "--workers", "2", "--clients", "4"),
        *("--port", str(free_port())),
        script="bench.race",
    )
    assert "workflow task timeouts" in printed
    assert figures["by_status"] == {"COMPLETED": 3, "REJECTED": 5}
    assert figures["units_left"] == 0
    assert figures["violations"] == []
    assert figures["workflow_task_timeouts"] >= 0


@pytest.mark.postgres
def test_each_run_on_postgresql_gets_a_fresh_business_database(tmp_path: Path) -> None:
    # Each run's data folder has its own key ring, so a second run on the first run's
    # database could not read its personal data: each run must make its own.
    made = []
    try:
        for run_no in (1, 2):
            data_dir = tmp_path / f"hot-path-run-{run_no}"
            printed, figures = run_benchmark(
                data_dir, "--hot-path-only", "--postgres", POSTGRES_URL
            )
            assert "reserve activity / raw UPDATE" in printed
            [database] = databases_named_after(data_dir.name)
            made.append(database)
            assert figures["database"].endswith(f"/{database}")  # the run says where it is
        assert len(made) == 2
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def databases_named_after(folder: str) -> list[str]:
    """The databases on the test server whose names start with the data folder's."""
    prefix = folder.replace("-", "_") + "_"
    with psycopg.connect(POSTGRES_URL) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("script", ["bench.throughput", "bench.soak", "bench.race"])
def test_a_postgres_option_that_is_no_postgresql_url_is_refused_before_anything_starts(
    script: str, tmp_path: Path
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", script, "--postgres", "sqlite:///oms.db"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "--postgres: 'sqlite:///oms.db' is not a PostgreSQL URL" in run.stderr
    assert list(tmp_path.iterdir()) == []  # no SQLite file made from the misread URL
