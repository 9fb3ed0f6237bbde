"""The built package is what users install: the wheel alone, outside the source tree.

The Dockerfile installs the lock file's packages and then ``pip install --no-deps .``,
and runs everything from ``/app``, away from the sources. No Docker engine runs here, so
this is the closest honest check of the image: build the wheel, install it with
``--no-deps`` into a fresh virtual environment whose dependencies are this test run's
(the same pins as ``requirements.lock``), and from an empty directory elsewhere import
what ``worker.py`` imports, run ``oms --help`` and ``oms db upgrade``, and start the
console.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
PIP = (sys.executable, "-m", "pip")
NOT_SOURCES = (".git", ".venv", ".oms", "build", "*.egg-info", "__pycache__", ".*_cache")
CONSOLE_START_TIMEOUT = 60.0
"""Seconds the installed console may take to answer its first request."""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as ``pip install .`` builds it, from a copy of the working
    tree (a build in place would leave ``build/`` behind, and parallel tests read the tree)."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "temporal-oms"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("temporal_oms-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel (``--no-deps``); its dependencies
    are this interpreter's site-packages, reached by a ``.pth`` line. Lines in a ``.pth``
    file are only added to the path, never scanned for ``.pth`` files of their own, so
    the editable install of the source tree living there stays out of sight."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [*PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    return home


def run_installed(home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command of the installed environment from ``cwd`` with a data folder there."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=installed_environment(home, cwd),
        capture_output=True,
        text=True,
        timeout=120,
    )


def installed_environment(home: Path, cwd: Path) -> dict[str, str]:
    """The environment the image gives its processes, without this test run's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "PYTHON"))}
    env["PATH"] = f"{home / 'bin'}:{env.get('PATH', '')}"
    env["OMS_DATA_DIR"] = str(cwd / "data")
    return env


def test_the_wheel_holds_every_package_and_file_of_the_source_tree(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = ["domain", "persistence", "integrations", "activities", "workflows"]
    top_level += ["runtime", "ops", "web"]
    wanted = {
        path.relative_to(ROOT).as_posix()
        for folder in top_level
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".mo"}
    }
    assert wanted - names == set()
    assert {"worker.py", "starter.py"} <= names


def test_the_installed_package_imports_and_migrates_outside_the_source_tree(
    installed: Path, tmp_path: Path
) -> None:
    python = str(installed / "bin" / "python")
    where = run_installed(
        installed,
        tmp_path,
        python,
        "-c",
        "import persistence.transactions as t, worker, starter; print(t.__file__)",
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(installed)), "imported the source tree, not the wheel"

    help_text = run_installed(installed, tmp_path, str(installed / "bin" / "oms"), "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "demo" in help_text.stdout

    upgrade = run_installed(installed, tmp_path, str(installed / "bin" / "oms"), "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert (tmp_path / "data" / "oms.db").stat().st_size > 0


def test_the_installed_console_starts_and_serves_its_pages(installed: Path, tmp_path: Path) -> None:
    oms = str(installed / "bin" / "oms")
    assert run_installed(installed, tmp_path, oms, "db", "upgrade").returncode == 0
    env = installed_environment(installed, tmp_path)
    port = free_port()
    env.update(OMS_WEB_PORT=str(port), OMS_WEB_HOST="127.0.0.1")
    server = subprocess.Popen(
        [oms, "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        login = wait_for_page(f"http://127.0.0.1:{port}/login", server)
        assert "<form" in login
        stylesheet = wait_for_page(f"http://127.0.0.1:{port}/static/oms.css", server)
        assert stylesheet.strip()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output


def wait_for_page(url: str, server: subprocess.Popen[bytes]) -> str:
    """The page's text once the server answers it; fails when the server exits first."""
    deadline = time.monotonic() + CONSOLE_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode(errors="replace") if server.stdout else ""
            pytest.fail(f"the installed console exited with {server.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text: str = response.read().decode()
                return text
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {CONSOLE_START_TIMEOUT} s")
