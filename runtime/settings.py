"""Settings from the environment (prefix ``OMS_``) with embedded defaults."""

from __future__ import annotations

import os
from datetime import date, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from temporalio.service import TLSConfig

from domain.business_hours import BusinessCalendar, parse_weekdays
from domain.complaints import ComplaintPolicy
from persistence.keys import KeyRing, KeyRingError, load_or_create_key_file
from runtime.chaos import ChaosRates
from runtime.codec_server import load_or_create_token


class LogFormat(StrEnum):
    """How log lines are rendered."""

    AUTO = "auto"
    """Pretty console on a terminal, JSON otherwise."""
    JSON = "json"
    CONSOLE = "console"


class Settings(BaseSettings):
    """Everything the worker, the starter and the ``oms`` tool read from the environment."""

    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=".env", extra="ignore")

    temporal_address: str | None = None
    """``host:port`` of a Temporal frontend; unset = start or reuse the embedded dev server."""
    temporal_namespace: str = "default"
    temporal_tls_cert: Path | None = None
    """Client certificate (PEM file) for mTLS to a Temporal cluster; set with the key."""
    temporal_tls_key: Path | None = None
    """Private key (PEM file) of the client certificate."""
    temporal_tls_ca: Path | None = None
    """CA certificate (PEM file) the server's certificate must chain to; unset = system roots."""
    temporal_api_key: SecretStr | None = None
    """API key for Temporal Cloud (or another server that takes API keys); implies TLS."""
    temporal_connect_wait_seconds: float = Field(default=60.0, ge=0)
    """How long a starting worker waits for the Temporal server to answer before giving up."""
    data_dir: Path = Path(".oms")
    """Folder for the embedded default's state: Temporal's and the business SQLite files."""
    database_url: str | None = None
    """SQLAlchemy URL of the business database; unset = SQLite file in ``data_dir``."""
    log_format: LogFormat = LogFormat.AUTO
    log_level: str = "INFO"
    embedded_port: int = 7233
    """gRPC port of the embedded dev server; its Web UI listens on this plus 1000."""
    web_host: str = "127.0.0.1"
    """Address the console and HTTP API listen on (``oms serve``); ``0.0.0.0`` in a container."""
    web_port: int = Field(default=8080, ge=1, le=65535)
    """Port of the console and HTTP API."""
    console_time_zone: str = "UTC"
    """IANA time zone the console shows times in and reads entered times in, e.g.
    ``Asia/Taipei`` or ``Europe/Berlin``."""
    inventory_review_hour: int = Field(default=5, ge=0, le=23)
    """Hour of the day (in the console's time zone) the daily inventory review runs."""
    customer_review_hour: int = Field(default=2, ge=0, le=23)
    """Hour of the night (in the console's time zone) customers are classified."""
    console_url: str = "http://localhost:8080"
    """Where people reach the console: links in messages to customers (unsubscribe) start
    with it."""
    retention_days: int = Field(default=730, ge=1, le=36500)
    """Days an archived order keeps its address and payment token; the nightly review
    removes them after that (invoices and the archive keep no names anyway)."""
    complaint_analysis_hour: int = Field(default=6, ge=0, le=23)
    """Hour on Mondays (console's time zone) the weekly complaint analysis runs."""
    complaint_time_zone: str | None = None
    """IANA time zone of customer service's business hours; unset = the console's."""
    complaint_working_days: str = "mon-fri"
    """Days customer service works, e.g. ``mon-fri`` or ``mon-thu,sat``."""
    complaint_hours: str = Field(default="09:00-17:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    """Business hours of those days, ``HH:MM-HH:MM`` local time."""
    complaint_holidays: str = ""
    """Dates nobody works, comma-separated ``YYYY-MM-DD``."""
    complaint_approval_above: Decimal = Field(default=Decimal(50), ge=0)
    """Remedies worth more than this need a supervisor's approval."""
    complaint_reopen_days: int = Field(default=14, ge=0, le=365)
    """A customer writing within this many days of the closing reopens the case."""
    complaint_survey_delay_hours: int = Field(default=24, ge=0, le=24 * 30)
    complaint_survey_reminder_days: int = Field(default=3, ge=1, le=60)
    complaint_survey_close_days: int = Field(default=7, ge=1, le=90)
    """Days after its sending a survey closes unanswered (after the one reminder)."""
    complaint_attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=0, le=25 * 1024 * 1024)
    """Largest attachment of a complaint e-mail stored on its own (by content, in the
    database); a larger one stays inside the kept original message."""
    temporal_ui_url: str | None = None
    """The Temporal Web UI the console links workflows to; unset = the embedded dev
    server's (``http://localhost:8233``), so set it for a cluster."""
    session_idle_minutes: float = Field(default=30.0, gt=0)
    """A console session left unused this long ends."""
    session_lifetime_hours: float = Field(default=12.0, gt=0)
    """A console session ends this long after login, however active."""
    carrier_sim_step_seconds: float = Field(default=1.0, ge=0)
    """Simulated carrier: seconds between booking, pick-up, transit and delivery."""
    carrier_poll_seconds: float = Field(default=1.0, gt=0)
    """How often the tracking activity asks the carrier for news."""
    worker_max_concurrent_activities: int = Field(default=100, ge=1)
    """Remote activities one worker process runs at once (the SDK's default); partner steps
    and tracking polls among them wait on the event loop and hold no thread."""
    worker_database_threads: int = Field(default=16, ge=1)
    """Threads that run database steps in one worker process (its activity executor), and
    local activities run at once; on PostgreSQL also the size of its connection pool."""
    worker_sandbox: bool = True
    """Run workflow code in the SDK's sandbox (isolated module state, non-deterministic
    calls refused). Off, a worker process spends about a quarter less CPU per order
    (docs/benchmark.md); the test suite always runs the workflows sandboxed."""
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=1)
    """Workflow tasks one worker process runs at once (the SDK's default)."""
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    """Workflows a worker keeps in memory between tasks; a cache miss replays the history."""
    simulated_partners_file: Path | None = None
    """The simulated partners' own books (what they charged, booked, confirmed), shared by
    every worker process; unset = ``<data_dir>/simulated-partners.db``."""
    chaos_partners: ChaosRates = ChaosRates()
    """Chaos switch for the simulated partners (payment, carrier, factory, supplier,
    notifier), as JSON: ``{"error": 0.1, "timeout": 0.05, "slow": 0.1}``; default off."""
    chaos_database: ChaosRates = ChaosRates()
    """Chaos switch for the worker's database statements, same form; default off."""
    chaos_seed: int | None = None
    """Seed for the chaos draws, to repeat a run; unset = a new sequence each run."""
    key_ring: SecretStr | None = None
    """Encryption keys, ``id:base64key,...``, current key first; unset = ``key_ring_file``."""
    key_ring_file: Path | None = None
    """File holding the key ring; unset = ``<data_dir>/keyring`` (created on first use)."""
    allow_plaintext_payloads: bool = False
    """Development only: take order documents that reached Temporal unencrypted. By default
    such an order is refused (REJECTED, saying how to encrypt) and a security event logged."""
    codec_token: SecretStr | None = None
    """Token operators need to read decrypted payloads; unset = ``<data_dir>/codec-token``."""
    codec_port: int | None = None
    """Port of the codec server; unset = the embedded port plus 1001 (8234)."""
    codec_ui_origins: str | None = None
    """Comma-separated browser origins allowed to call the codec server (the Web UI's);
    unset = the embedded Web UI, as ``localhost`` and as ``127.0.0.1``."""

    @model_validator(mode="after")
    def _complaint_policy_readable(self) -> Self:
        self.complaint_policy()  # a wrong calendar or survey timing fails at start-up
        return self

    def complaint_policy(self) -> ComplaintPolicy:
        """How complaint cases are timed: the business calendar, approvals, survey, reopening."""
        opens, _, closes = self.complaint_hours.partition("-")
        try:
            holidays = frozenset(
                date.fromisoformat(day.strip())
                for day in self.complaint_holidays.split(",")
                if day.strip()
            )
            calendar = BusinessCalendar(
                time_zone=self.complaint_time_zone or self.console_time_zone,
                working_days=parse_weekdays(self.complaint_working_days),
                opens=time.fromisoformat(opens),
                closes=time.fromisoformat(closes),
                holidays=holidays,
            )
        except ValueError as wrong:  # pydantic's ValidationError is a ValueError too
            raise ValueError(f"complaint business calendar: {wrong}") from None
        if self.complaint_survey_reminder_days >= self.complaint_survey_close_days:
            raise ValueError(
                "OMS_COMPLAINT_SURVEY_REMINDER_DAYS must be less than "
                "OMS_COMPLAINT_SURVEY_CLOSE_DAYS (the reminder goes before the survey closes)"
            )
        return ComplaintPolicy(
            calendar=calendar,
            approval_above=self.complaint_approval_above,
            reopen_days=self.complaint_reopen_days,
            survey_delay=timedelta(hours=self.complaint_survey_delay_hours),
            survey_reminder_after=timedelta(days=self.complaint_survey_reminder_days),
            survey_closes_after=timedelta(days=self.complaint_survey_close_days),
        )

    @field_validator("console_time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r}: use an IANA name such as Asia/Taipei or UTC"
            ) from None
        return name

    @property
    def display_zone(self) -> ZoneInfo:
        """The console's time zone."""
        return ZoneInfo(self.console_time_zone)

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "OMS_TEMPORAL_TLS_CERT and OMS_TEMPORAL_TLS_KEY go together: set both or neither"
            )
        return self

    @property
    def temporal_tls(self) -> TLSConfig | bool:
        """TLS for the Temporal client: mTLS with the certificate, plain TLS for an API key."""
        if self.temporal_tls_cert is not None and self.temporal_tls_key is not None:
            return TLSConfig(
                client_cert=self.temporal_tls_cert.read_bytes(),
                client_private_key=self.temporal_tls_key.read_bytes(),
                server_root_ca_cert=(
                    self.temporal_tls_ca.read_bytes() if self.temporal_tls_ca else None
                ),
            )
        if self.temporal_tls_ca is not None:
            return TLSConfig(server_root_ca_cert=self.temporal_tls_ca.read_bytes())
        return self.temporal_api_key is not None

    @property
    def resolved_codec_port(self) -> int:
        """Where the codec server listens."""
        return self.codec_port or self.embedded_port + 1001

    @property
    def resolved_codec_ui_origins(self) -> list[str]:
        """The Web UI origins the codec server lets in (CORS)."""
        if self.codec_ui_origins:
            return [origin.strip() for origin in self.codec_ui_origins.split(",") if origin.strip()]
        ui_port = self.embedded_port + 1000
        return [f"http://localhost:{ui_port}", f"http://127.0.0.1:{ui_port}"]

    def load_codec_token(self) -> str:
        """The codec token: ``OMS_CODEC_TOKEN``, else the embedded default's own token file."""
        if self.codec_token is not None:
            return self.codec_token.get_secret_value()
        return load_or_create_token(self.data_dir / "codec-token")

    def load_key_ring(self) -> KeyRing:
        """The key ring: ``OMS_KEY_RING``, else the key file, else the embedded default's own."""
        if self.key_ring is not None:
            return KeyRing.parse(self.key_ring.get_secret_value())
        if self.key_ring_file is not None:
            if not self.key_ring_file.exists():
                raise KeyRingError(f"OMS_KEY_RING_FILE {self.key_ring_file}: no such file")
            return KeyRing.parse(self.key_ring_file.read_text(encoding="utf-8"))
        return load_or_create_key_file(self.data_dir / "keyring")

    def prepare_data_dir(self) -> Path:
        """Create the data folder readable by its owner only, and keep it so.

        The folder holds the key ring, the codec token and both databases. It is
        made 0700 and what it already holds 0600 (0700 for folders), and the
        process's umask becomes 077, so every file created later (the SQLite
        databases, the dev server's state, logs) is its owner's alone.
        """
        os.umask(0o077)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        for path in self.data_dir.rglob("*"):
            if not path.is_symlink():
                path.chmod(0o700 if path.is_dir() else 0o600)
        return self.data_dir

    @property
    def resolved_simulated_partners_file(self) -> Path:
        """Where the simulated partners keep their books."""
        return self.simulated_partners_file or self.data_dir / "simulated-partners.db"

    @property
    def resolved_database_url(self) -> str:
        """The business database URL, defaulting to ``<data_dir>/oms.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'oms.db').resolve()}"

    @property
    def shown_database_url(self) -> str:
        """The business database URL with its password hidden, for people and logs."""
        return make_url(self.resolved_database_url).render_as_string(hide_password=True)

    @property
    def embedded_address(self) -> str:
        """Where the embedded dev server listens."""
        return f"127.0.0.1:{self.embedded_port}"

    @property
    def ui_url(self) -> str:
        """The Temporal Web UI: ``temporal_ui_url``, else the embedded dev server's."""
        return (self.temporal_ui_url or f"http://localhost:{self.embedded_port + 1000}").rstrip("/")
