"""The README's main job on a terminal: after the demo orders, ``oms demo`` writes a modest
history and serves the staff console, whose demo logins open lists with that past in them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from runtime.processes import ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.devserver

STARTUP_SECONDS = 300.0


def free_port_pair() -> int:
    """A port P with P + 1000 and P + 1001 free too (the dev server's Web UI and the codec)."""
    while True:
        port = free_port()
        if port + 1001 < 65535 and all(_free(port + offset) for offset in (1000, 1001)):
            return port


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_demo_on_a_terminal_ends_serving_the_console_with_a_past(tmp_path: Path) -> None:
    web_port = free_port()
    environment = {
        **os.environ,
        "OMS_DATA_DIR": str(tmp_path / ".oms"),
        "OMS_EMBEDDED_PORT": str(free_port_pair()),
        "OMS_WEB_PORT": str(web_port),
        "COLUMNS": "160",
    }
    demo = subprocess.Popen(
        [sys.executable, "-c", "from ops.cli import main; main()", "demo", "--keep-running"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        logins: dict[str, str] = {}
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            printed.append(line)
            if found := re.match(r"\s+(demo\.[\w-]+)\s+(\S+)\s*$", line):
                logins[found.group(1)] = found.group(2)
            if len(logins) == 5:
                break
        text = "".join(printed)
        assert "Wrote a history of 600 finished orders over 120 days" in text, text
        assert f"Staff console: http://127.0.0.1:{web_port}/" in text, text
        with httpx2.Client(base_url=f"http://127.0.0.1:{web_port}") as browser:
            for _ in range(50):
                try:
                    page = browser.get("/login")
                    break
                except httpx2.TransportError:
                    time.sleep(0.2)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            browser.post(
                "/login",
                data={
                    "username": "demo.analyst",
                    "password": logins["demo.analyst"],
                    "csrf_token": token.group(1),
                },
            )
            processed = browser.get("/orders", params={"list": "processed", "q": "H1-"})
        assert processed.status_code == 200
        count = re.search(r"([\d,]+) orders", processed.text)
        assert count
        assert int(count.group(1).replace(",", "")) == 600
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
