"""A self-contained installation for a soak or a benchmark: its own data folder, dev
server port and business database, and the environment its worker processes get."""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ops.demo import prepare_database
from persistence.throwaway import new_postgres_database
from runtime.settings import Settings

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_]")
"""Characters a database name made from a folder name leaves out."""


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    """The ``--postgres URL`` option (see :func:`prepare_installation`)."""
    parser.add_argument(
        "--postgres",
        metavar="URL",
        type=_postgres_server_url,
        help="PostgreSQL server to make this run's business database on, by a URL naming any "
        "database there (default: SQLite in the data folder)",
    )


def add_run_options(parser: argparse.ArgumentParser, port: int) -> None:
    """The options every benchmark script takes: ``--postgres``, ``--data-dir``, ``--port``
    (default ``port``) and ``--json``."""
    add_postgres_option(parser)
    parser.add_argument("--data-dir", help="state folder (default: a new temporary folder)")
    parser.add_argument("--port", type=int, default=port, help=f"dev server port ({port})")
    parser.add_argument("--json", type=Path, help="write the figures here as well")


def state_folder(options: argparse.Namespace, prefix: str) -> Path:
    """The run's ``--data-dir``, or a new temporary folder named ``prefix...``; made."""
    folder = Path(options.data_dir or tempfile.mkdtemp(prefix=prefix)).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figures(options: argparse.Namespace, figures: DataclassInstance) -> None:
    """Write ``figures`` as JSON to ``--json``, if it was given."""
    if options.json:
        options.json.write_text(json.dumps(asdict(figures), indent=2) + "\n", encoding="utf-8")


def _postgres_server_url(text: str) -> str:
    """The ``--postgres`` option's value: a PostgreSQL URL, or a usage error saying so."""
    try:
        backend = make_url(text).get_backend_name()
    except ArgumentError:
        backend = None
    if backend != "postgresql":
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a PostgreSQL URL; expected postgresql://user@host:port/database"
        )
    return text


async def prepare_installation(
    data_dir: Path, port: int, postgres_server: str | None, worker_settings: dict[str, str]
) -> tuple[Settings, dict[str, str]]:
    """Create and migrate its database; its settings, and the environment for its workers.

    With ``postgres_server`` (a PostgreSQL URL) the business database is a new
    database on that server named after the data folder, kept like the data
    folder; without it, a SQLite file in the data folder. A fresh one each run,
    since each run's data folder has its own key ring for the personal data.
    ``worker_settings`` are further ``OMS_`` variables for the workers (log level,
    simulator speeds, chaos switches).
    """
    address = f"127.0.0.1:{port}"
    database_url = None
    if postgres_server:
        try:
            database_url = new_postgres_database(
                postgres_server, NOT_IN_NAMES.sub("_", data_dir.name)[:40].lower()
            )
        except psycopg.Error as error:
            shown = make_url(postgres_server).render_as_string(hide_password=True)
            raise SystemExit(
                f"--postgres {shown}: could not create this run's database: {error}"
            ) from None
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        temporal_address=address,
        embedded_port=port,
    )
    await prepare_database(settings)
    environment = {
        **os.environ,
        "OMS_DATA_DIR": str(data_dir),
        "OMS_DATABASE_URL": settings.resolved_database_url,
        "OMS_TEMPORAL_ADDRESS": address,
        "OMS_KEY_RING": settings.load_key_ring().serialise(),
        **worker_settings,
    }
    return settings, environment
