"""The shell commands of the README's ``bash`` blocks, and what the demo test does with each.

Every command the README gives is in :data:`README_COMMANDS`: either run against a running
``oms demo`` (and what its output must show), or skipped with the reason why it cannot run
inside a test. A command the table does not know fails the test, so a new or reworded
README command forces a decision here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.processes import ROOT

README = ROOT / "README.md"

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<language>[\w-]*)[ \t]*$")


@dataclass(frozen=True)
class RunAgainstTheDemo:
    """Run the command from a folder whose ``.venv`` and ``.oms`` are the demo's; it must
    exit 0 and its output must match ``shows`` (a pattern, with the demo's values put in
    for ``{order_id}``)."""

    shows: str
    why: str
    """What a match proves."""


@dataclass(frozen=True)
class Skipped:
    """Not run by the demo test, for ``reason``."""

    reason: str
    verbatim_in: str | None = None
    """A file of the repository that runs the command as written (checked)."""


README_COMMANDS: dict[str, RunAgainstTheDemo | Skipped] = {
    "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/oms demo": Skipped(
        "it makes the very environment the tests run in; its `oms demo` is the demo this "
        "test runs (with --keep-running, on free ports)"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest": Skipped(
        "it runs this test; CI runs it as written",
        verbatim_in=".ci/run",
    ),
    ".venv/bin/temporal workflow list --query "
    "\"NeedsAttention = true OR OrderStatus = 'AWAITING_APPROVAL'\"": RunAgainstTheDemo(
        r"order-{order_id}\b",
        "the query finds the order the demo left held",
    ),
    ".venv/bin/temporal workflow show --detailed -w order-<order id the demo printed> "
    "--codec-endpoint http://localhost:8234 "
    '--codec-auth "Bearer $(cat .oms/codec-token)"': RunAgainstTheDemo(
        r"input\[0\]\.order_id: {order_id}\b.*Hafenweg 12",
        # The CLI decodes the history through the codec before it prints it, and fails
        # when the endpoint or the token is wrong; --detailed prints the payloads.
        "the held order's history is shown in plaintext, decoded by the codec server",
    ),
}
"""Each README command (backslash-continued lines joined) and what the demo test does."""

PLACEHOLDERS = {"<order id the demo printed>": "{order_id}"}
"""The README's stand-ins for what the demo prints, and the demo value each one means."""

PLACEHOLDER = re.compile(r"<[a-z][a-z ]*>")
"""Something the README asks the reader to fill in (a known one must be in PLACEHOLDERS)."""

README_PORTS = {
    "7233": "{temporal_port}",
    "8233": "{ui_port}",
    "8234": "{codec_port}",
    "8080": "{web_port}",
}
"""The embedded default's ports as the README gives them, and the demo test's own."""


def shell_commands(markdown: str) -> list[str]:
    """The commands of the ``bash`` (or ``sh``, ``shell``) fenced blocks, one per line with
    backslash-continued lines joined (indented blocks inside list items included)."""
    commands: list[str] = []
    in_shell = in_block = False
    pending = ""
    for line in markdown.splitlines():
        fence = FENCE.match(line)
        if fence:
            if in_block:
                in_block = in_shell = False
            else:
                in_block = True
                in_shell = fence["language"] in ("bash", "sh", "shell")
            continue
        if not in_shell:
            continue
        text = line.strip()
        if text.endswith("\\"):
            pending += text.removesuffix("\\").rstrip() + " "
            continue
        command = (pending + text).strip()
        pending = ""
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def readme_commands() -> list[str]:
    """The shell commands the README gives, in its order."""
    return shell_commands(README.read_text(encoding="utf-8"))


def as_run_against(command: str, values: dict[str, str]) -> str:
    """The README command with the demo's own ports and printed values put in.

    ``values`` has ``order_id``, ``temporal_port``, ``ui_port``, ``codec_port`` and
    ``web_port``. A placeholder the table does not know raises ``KeyError``.
    """
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value.format(**values))
    unknown = PLACEHOLDER.findall(command)
    if unknown:
        raise KeyError(f"no value for the README's placeholder {unknown[0]} in: {command}")
    return re.sub(
        r"(?<=:)(7233|8233|8234|8080)\b",
        lambda port: README_PORTS[port.group(1)].format(**values),
        command,
    )


def verbatim_in(command: str, path: str) -> bool:
    """Whether the repository file at ``path`` has ``command`` on a line of its own."""
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return command in (line.strip() for line in lines)
