"""How our processes end: with the status they mean, every time.

The Temporal SDK runs its core (in Rust) on threads of its own that can outlive
the interpreter's finalisation; at exit they then abort it (``Fatal Python error:
PyGILState_Release ... finalizing``, SIGABRT or SIGSEGV; temporalio/sdk-python
issue 300), so a supervisor or a script sees a failure for work that was done.
Our entry points therefore end through :func:`exit_after`: once their work is
finished they flush what Python buffers and leave without finalisation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush logs and standard streams, then end the process with ``code`` at once."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed stream or a broken pipe: nothing more can be said.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def exit_status(stop: SystemExit) -> int:
    """The status a ``SystemExit`` asks for, as ``sys.exit`` would turn it into one."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


def exit_after(main: Callable[[], object]) -> NoReturn:
    """Run ``main`` (a command's whole work), then exit with its status (see the module)."""
    try:
        main()
    except SystemExit as stop:
        exit_now(exit_status(stop))
    except KeyboardInterrupt:
        exit_now(130)
    except BaseException:
        traceback.print_exc()
        exit_now(1)
    exit_now(0)
