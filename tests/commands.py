"""Our commands run as a person or a script runs them: a new process in the checkout."""

from __future__ import annotations

import os
import subprocess
import sys

from runtime.processes import ROOT

COMMAND_SECONDS = 180
"""Longest one command may take on a loaded two-core machine (most take a second or two)."""


def run_command(
    *arguments: str, environment: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python ARGUMENTS`` in the checkout (``starter.py FILE``, ``-m bench.soak``, ...),
    given ``stdin`` as its standard input."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=os.environ.copy() if environment is None else environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


def oms(
    *arguments: str, environment: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``oms ARGUMENTS`` through its installed entry point."""
    return run_command(
        "-c", "from ops.cli import main; main()", *arguments, environment=environment, stdin=stdin
    )


def one_line_error(finished: subprocess.CompletedProcess[str]) -> str:
    """The error a command that failed as a refusal printed, on one line (no traceback)."""
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr
    return " ".join(finished.stderr.split())
