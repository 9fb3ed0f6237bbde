"""Our commands run as a person or a script runs them.

``python ...`` runs in a new process in the checkout. ``oms ...`` runs in this process,
through the same entry point ``main`` calls (its error handling and exit statuses
included), since a new interpreter importing the whole application costs seconds on a
two-core machine and the suite runs over a hundred of them; only ``oms`` commands that
serve or run a worker (``PROCESS_COMMANDS``), and commands asked for while an event loop
runs (an ``oms`` command runs its own), get a process of their own. The process boundary
itself (exit statuses, no traceback, signals) is tested in ``test_worker_process.py``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import traceback

from click.testing import CliRunner

from persistence import encrypted
from runtime.processes import ROOT
from runtime.shutdown import exit_status

PROCESS_COMMANDS = frozenset({"demo", "serve", "codec-server"})
"""``oms`` commands that configure logging, serve or run a worker: a process of their own."""

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
    """``oms ARGUMENTS`` as its entry point runs it (see the module), given ``environment``
    (default: this process's) and ``stdin``."""
    if (arguments and arguments[0] in PROCESS_COMMANDS) or _event_loop_running():
        return run_command(
            "-c",
            "from ops.cli import main; main()",
            *arguments,
            environment=environment,
            stdin=stdin,
        )
    return _oms_in_this_process(arguments, environment, stdin)


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _oms_in_this_process(
    arguments: tuple[str, ...], environment: dict[str, str] | None, stdin: str | None
) -> subprocess.CompletedProcess[str]:
    """Run ``oms`` here with ``environment`` in place of this process's, its standard
    streams captured, and the process-wide key ring as it was afterwards."""
    from ops import cli

    wanted = os.environ.copy() if environment is None else environment
    changes: dict[str, str | None] = {
        name: value for name, value in wanted.items() if os.environ.get(name) != value
    }
    changes |= {name: None for name in os.environ if name not in wanted}
    cipher = encrypted._cipher  # a command configures the key ring of its settings
    argv = sys.argv
    with CliRunner().isolation(input=stdin, env=changes) as (stdout, stderr, _):
        sys.argv = ["oms", *arguments]
        try:
            cli._run_explaining_database_errors()
            status = 0
        except SystemExit as stop:
            status = exit_status(stop)
        except Exception:
            traceback.print_exc()
            status = 1
        finally:
            sys.argv = argv
            encrypted._cipher = cipher
            sys.stdout.flush()
            sys.stderr.flush()
        return subprocess.CompletedProcess(
            ["oms", *arguments],
            status,
            stdout.getvalue().decode(errors="replace"),
            stderr.getvalue().decode(errors="replace"),
        )


def one_line_error(finished: subprocess.CompletedProcess[str]) -> str:
    """The error a command that failed as a refusal printed, on one line (no traceback)."""
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr
    return " ".join(finished.stderr.split())
