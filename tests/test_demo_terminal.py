"""The README's main job on a terminal: after the demo orders, ``oms demo`` writes a modest
history, runs the reviews and serves the staff console, whose demo logins open lists with
that past in them and pages the reviews filled; while it serves, the README's own commands
work against it as written."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from playwright.async_api import Browser, async_playwright

from runtime.processes import ROOT
from tests.conftest import free_port
from tests.console_walk import report, walk_console
from tests.readme_commands import (
    README_COMMANDS,
    RunAgainstTheDemo,
    Skipped,
    as_run_against,
    readme_commands,
    verbatim_in,
)
from tests.test_browser import chromium_path

STARTUP_SECONDS = 300.0
COMMAND_SECONDS = 30.0
"""How long one README command may take (they answer at once; the list may lag a little)."""

FILLED_PAGES = {
    "/stock/forecast": ("demo.warehouse", r'<table class="forecast">.*?<a href="/stock/products/'),
    "/stock/alerts": ("demo.warehouse", r'<table class="alerts">.*?<a href="/stock/products/'),
    "/stock/replenishment": ("demo.warehouse", r'action="/stock/replenishment/\d+/approve"'),
    "/customers/segments": ("demo.analyst", r'<td class="num"><strong>[1-9][\d,]*</strong>'),
    "/customers/credit": ("demo.order-processing", r'action="/customers/credit/\d+/accept"'),
}
"""The pages the demo's reviews fill, the demo login that may open each, and a row of
real content on it (not the empty-state message)."""


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


def test_the_readme_decides_for_each_of_its_commands() -> None:
    """Each shell command of the README is run by the demo test or skipped with a reason; a
    skip because CI runs the command as written holds."""
    decide_for_the_readme_commands()


def decide_for_the_readme_commands() -> list[str]:
    """The README's commands, each known to :data:`README_COMMANDS` (else the test fails)."""
    commands = readme_commands()
    unknown = [command for command in commands if command not in README_COMMANDS]
    assert unknown == [], (
        "the README gives commands tests/readme_commands.py does not know; add each to "
        "README_COMMANDS, to run against the demo or skipped with a reason: " + " | ".join(unknown)
    )
    gone = [command for command in README_COMMANDS if command not in commands]
    assert gone == [], "README_COMMANDS names commands the README no longer gives: " + " | ".join(
        gone
    )
    for command, decision in README_COMMANDS.items():
        if isinstance(decision, Skipped) and decision.verbatim_in:
            assert verbatim_in(command, decision.verbatim_in), (
                f"{decision.verbatim_in} does not run the README's command as written: {command}"
            )
    return commands


@dataclass(frozen=True)
class RunningDemo:
    """``oms demo --keep-running`` serving on free ports, and what it printed."""

    base_url: str
    printed: str
    logins: dict[str, str]
    """Each demo login and its password."""
    temporal_port: int
    web_port: int
    environment: dict[str, str]
    folder: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """One demo for the module's tests (it takes a minute or two): the orders, a history,
    the reviews, then the console serving until the module is done."""
    folder = tmp_path_factory.mktemp("demo")
    temporal_port = free_port_pair()
    web_port = free_port()
    environment = {
        **os.environ,
        "OMS_DATA_DIR": str(folder / ".oms"),
        "OMS_EMBEDDED_PORT": str(temporal_port),
        "OMS_WEB_PORT": str(web_port),
        "COLUMNS": "160",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from ops.cli import main; main()", "demo", "--keep-running"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        logins: dict[str, str] = {}
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            if found := re.match(r"\s+(demo\.[\w-]+)\s+(\S+)\s*$", line):
                logins[found.group(1)] = found.group(2)
            if len(logins) == 5:
                break
        yield RunningDemo(
            base_url=f"http://127.0.0.1:{web_port}",
            printed="".join(printed),
            logins=logins,
            temporal_port=temporal_port,
            web_port=web_port,
            environment=environment,
            folder=folder,
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.devserver
def test_the_demo_on_a_terminal_ends_serving_the_console_with_a_past(demo: RunningDemo) -> None:
    commands = decide_for_the_readme_commands()
    text = demo.printed
    assert "Wrote a history of 600 finished orders over 120 days" in text, text
    assert f"Staff console: {demo.base_url}/" in text, text
    assert len(demo.logins) == 5, text
    held = re.search(r"^Order (\S+) is held for credit review and escalated twice", text, re.M)
    assert held, text
    with httpx2.Client(base_url=demo.base_url) as browser:
        log_in(browser, "demo.analyst", demo.logins["demo.analyst"])
        processed = browser.get("/orders", params={"list": "processed", "q": "H1-"})
    assert processed.status_code == 200
    count = re.search(r"([\d,]+) orders", processed.text)
    assert count
    assert int(count.group(1).replace(",", "")) == 600

    run_the_readme_commands(
        commands,
        demo.folder,
        {
            "order_id": held.group(1),
            "temporal_port": str(demo.temporal_port),
            "ui_port": str(demo.temporal_port + 1000),
            "codec_port": str(demo.temporal_port + 1001),
            "web_port": str(demo.web_port),
        },
        {**demo.environment, "TEMPORAL_ADDRESS": f"127.0.0.1:{demo.temporal_port}"},
    )

    for path, (username, real_row) in FILLED_PAGES.items():
        with httpx2.Client(base_url=demo.base_url) as browser:
            log_in(browser, username, demo.logins[username])
            page = browser.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert re.search(real_row, page.text, re.DOTALL), f"{path} as {username} is empty"


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium (a failure in CI when it is missing, else a skip)."""
    path = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.mark.devserver
async def test_each_role_walks_the_demo_console_in_chinese_meeting_nothing_untranslated(
    demo: RunningDemo, chromium: Browser
) -> None:
    """Every demo login, in Traditional Chinese, follows the console's links from its
    start page (:mod:`tests.console_walk`): each link offered opens, and no page shows an
    English sentence of ours, a raw timestamp, or an action a finished order refuses."""
    assert len(demo.logins) == 5, demo.printed
    walks = [
        await walk_console(chromium, demo.base_url, username, password)
        for username, password in demo.logins.items()
    ]
    assert all(len(walk.visited) > 5 for walk in walks), report(walks)
    assert [finding for walk in walks for finding in walk.findings] == [], report(walks)


def log_in(browser: httpx2.Client, username: str, password: str) -> None:
    """Log in to the console with a demo login (waiting for the console to listen)."""
    for _ in range(50):
        try:
            page = browser.get("/login")
            break
        except httpx2.TransportError:
            time.sleep(0.2)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, f"{username} was not let in ({answer.status_code})"


def run_the_readme_commands(
    commands: list[str], folder: Path, values: dict[str, str], environment: dict[str, str]
) -> None:
    """Run the README's commands as written, from a folder like a checkout after ``oms demo``
    (``.venv`` this interpreter's, ``.oms`` the demo's data folder), the demo's ports and
    printed values put in; each must exit 0 and show what it is there for. Skipped ones are
    printed with their reasons (``pytest -rA`` shows them)."""
    (folder / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    for command in commands:
        decision = README_COMMANDS[command]
        if isinstance(decision, Skipped):
            print(f"README command not run: {command}\n  because {decision.reason}")
            continue
        assert isinstance(decision, RunAgainstTheDemo)
        as_run = as_run_against(command, values)
        shows = re.compile(
            decision.shows.replace("{order_id}", re.escape(values["order_id"])), re.DOTALL
        )
        deadline = time.monotonic() + COMMAND_SECONDS
        while True:
            done = subprocess.run(
                ["bash", "-c", as_run],
                cwd=folder,
                env=environment,
                capture_output=True,
                text=True,
                timeout=COMMAND_SECONDS,
            )
            if done.returncode == 0 and shows.search(done.stdout):
                print(f"README command ran: {as_run}\n  {decision.why}")
                break
            assert time.monotonic() < deadline, (
                f"the README's command {command!r}, run as {as_run!r}, exited "
                f"{done.returncode} without showing that {decision.why}:\n"
                f"{done.stdout}\n{done.stderr}"
            )
            time.sleep(1)
