"""The production files fit the code: compose file, Dockerfile, settings table, lock file.

No Docker engine runs here, so nothing is started: the compose file is validated
against the Compose specification and checked against the code, the Dockerfile is
parsed and checked against the files and commands it names.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from temporalio.common import SearchAttributeIndexedValueType
from typer.testing import CliRunner

from domain.visibility import SEARCH_ATTRIBUTES
from ops.cli import app
from runtime.settings import Settings
from runtime.workers import GRACEFUL_SHUTDOWN
from tests.conftest import installed_binary

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
OUR_SERVICES = ("migrate", "worker", "web", "codec")
SECRETS = ("POSTGRES_PASSWORD", "OMS_KEY_RING", "OMS_CODEC_TOKEN")
CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}
"""The ``temporal operator search-attribute create --type`` name of each type."""


def environment(service: str) -> dict[str, str]:
    """A service's environment, anchors resolved."""
    return {key: str(value) for key, value in SERVICES[service].get("environment", {}).items()}


def settings_table() -> dict[str, str]:
    """The settings table of ``docs/settings.md``: variable -> default column."""
    document = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `(OMS_[A-Z0-9_]+)` \| .* \| (.*) \|$", document, re.MULTILINE))


def test_compose_file_follows_the_compose_specification() -> None:
    checked = subprocess.run(
        [
            installed_binary("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_brings_up_everything_the_worker_needs() -> None:
    assert set(SERVICES) == {
        "postgres",
        "temporal-schema",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        *OUR_SERVICES,
    }
    worker = SERVICES["worker"]
    assert worker["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "temporal-setup": {"condition": "service_completed_successfully"},
    }
    # Scalable: nothing that two copies of the worker could not share.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "healthcheck" in SERVICES["postgres"]
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert environment("worker")["OMS_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert environment("worker")["OMS_DATABASE_URL"].startswith("postgresql://oms:")
    assert environment("temporal")["DB"] == "postgres12"  # advanced visibility on PostgreSQL
    # The console too: replicas share sessions through the database, each its own host port.
    web = SERVICES["web"]
    assert "container_name" not in web
    assert web["ports"] == ["8080-8084:8080"]
    assert environment("web")["OMS_WEB_HOST"] == "0.0.0.0"
    assert environment("web")["OMS_DATABASE_URL"] == environment("worker")["OMS_DATABASE_URL"]


def test_docker_waits_for_the_worker_to_shut_down_gracefully() -> None:
    grace = COMPOSE["services"]["worker"]["stop_grace_period"]
    assert grace.endswith("s")
    assert timedelta(seconds=int(grace.removesuffix("s"))) > GRACEFUL_SHUTDOWN


def test_every_image_is_pinned_to_a_version() -> None:
    for name, service in SERVICES.items():
        image = service.get("image", "")
        repository, _, tag = image.partition(":")
        assert tag, f"{name}: image {image!r} has no tag"
        if repository == "temporal-oms":
            assert "build" in service, f"{name}: our image is built from the Dockerfile"
        else:
            assert re.match(r"\d+\.\d+", tag), f"{name}: {image!r} is not pinned to a version"


def test_no_secret_is_committed_and_every_variable_is_in_the_env_example() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    assert used <= listed
    for secret in SECRETS:
        assert re.search(rf"^{secret}=$", example, re.MULTILINE), f"{secret} has a value"
        assert re.search(rf"\$\{{{secret}:\?", text), f"{secret} is not required from .env"
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert not (ROOT / ".env").exists() or ".env" in (ROOT / ".dockerignore").read_text()


def test_our_services_use_only_settings_the_code_reads_and_the_docs_document() -> None:
    fields = {f"OMS_{name.upper()}" for name in Settings.model_fields}
    table = settings_table()
    assert set(table) == fields, "docs/settings.md and runtime.settings.Settings differ"
    for service in OUR_SERVICES:
        names = {name for name in environment(service) if name.startswith("OMS_")}
        assert names <= fields, f"{service}: {sorted(names - fields)} are not settings"


def test_ports_and_origins_agree_between_ui_and_codec_server() -> None:
    codec = environment("codec")
    port = codec["OMS_CODEC_PORT"]
    assert f"{port}:{port}" in SERVICES["codec"]["ports"]
    assert environment("temporal-ui")["TEMPORAL_CODEC_ENDPOINT"] == f"http://localhost:{port}"
    [ui_port] = [p.split(":")[0] for p in SERVICES["temporal-ui"]["ports"]]
    assert f"http://localhost:{ui_port}" in codec["OMS_CODEC_UI_ORIGINS"].split(",")
    assert "7233:7233" in SERVICES["temporal"]["ports"]


def test_setup_job_registers_exactly_the_search_attributes_the_code_uses() -> None:
    [script] = SERVICES["temporal-setup"]["command"]
    registered = set(re.findall(r"\b([A-Za-z]+):(Keyword|Text|Int|Double|Bool|Datetime)\b", script))
    assert registered == {
        (key.name, CLI_TYPES[key.indexed_value_type]) for key in SEARCH_ATTRIBUTES
    }
    assert "temporal operator namespace create" in script


def test_commands_of_our_services_exist() -> None:
    runner = CliRunner()
    for service in ("migrate", "codec", "web"):
        command = SERVICES[service]["command"]
        assert command[0] == "oms"
        shown = runner.invoke(app, [*command[1:], "--help"])
        assert shown.exit_code == 0, f"{service}: {command} -> {shown.output}"
    assert SERVICES["worker"]["command"] == ["python", "worker.py"]
    assert (ROOT / "worker.py").exists()


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(ROOT / "Dockerfile"))


def test_dockerfile_is_small_pinned_and_runs_as_a_user(dockerfile: DockerfileParser) -> None:
    instructions = [(i["instruction"], i["value"]) for i in dockerfile.structure]
    bases = [value for name, value in instructions if name == "FROM"]
    assert len(bases) == 2, "a build stage and a slim runtime stage"
    assert all(re.match(r"python:\d+\.\d+\.\d+-slim", base) for base in bases)
    users = [value for name, value in instructions if name == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    runs = " ".join(value for name, value in instructions if name == "RUN")
    assert "--require-hashes -r /tmp/requirements.lock" in runs
    assert dockerfile.cmd == '["python", "worker.py"]'
    assert SERVICES["worker"]["command"] == ["python", "worker.py"]


def test_dockerfile_copies_only_what_exists(dockerfile: DockerfileParser) -> None:
    for name, value in ((i["instruction"], i["value"]) for i in dockerfile.structure):
        if name == "COPY" and not value.startswith("--from"):
            *sources, _ = value.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"


def test_the_image_holds_every_package_of_the_project(dockerfile: DockerfileParser) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = project["tool"]["setuptools"]["packages"]["find"]["include"]
    top_level = {pattern.rstrip("*") for pattern in found}
    copied = {
        value.split()[0]
        for value in (i["value"] for i in dockerfile.structure if i["instruction"] == "COPY")
        if not value.startswith("--from")
    }
    assert top_level <= copied, f"not copied into the image: {sorted(top_level - copied)}"


def test_lock_file_pins_every_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = {
        re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in project["project"]["dependencies"]
    }
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^([a-z0-9._-]+)==(\S+) \\$", lock, re.MULTILINE))
    assert wanted <= set(pinned), f"not in requirements.lock: {sorted(wanted - set(pinned))}"
    assert lock.count("--hash=sha256:") >= len(pinned)
