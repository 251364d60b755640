"""Vigil's one settings object, read from ``VIGIL_*`` environment variables.

Nothing reads settings at import time: build a :class:`Settings` (or let an
entry point build one) and pass it in.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_CATEGORIES", "Settings", "default_data_dir", "settings_reference"]

#: The incident taxonomy: the categories every installation accepts.
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "MIGRATION_ERROR",
    "CASCADE_DELETE",
    "CONSTRAINT_VIOLATION",
    "DATA_INTEGRITY",
    "CONCURRENCY_ERROR",
    "FILE_LOCK_ERROR",
    "WORKER_FAILURE",
    "REVIEW_ERROR",
    "SYSTEM_ERROR",
    "OTHER",
)


def default_data_dir() -> Path:
    """Return the per-user data directory (``$XDG_DATA_HOME/vigil``)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "vigil"


class Settings(BaseSettings):
    """Everything Vigil can be configured with; the defaults need no configuration."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the default SQLite database, backups and run files "
        "(default `$XDG_DATA_HOME/vigil`, i.e. `~/.local/share/vigil`).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database, e.g. "
        "`postgresql+psycopg://user@127.0.0.1:5432/vigil` or `sqlite:////path/vigil.db`. "
        "Empty means `<data_dir>/vigil.db`.",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        default="NORMAL",
        description="SQLite `PRAGMA synchronous` in WAL mode. NORMAL: a committed write "
        "survives a crash of the process but the last commits can be lost on power loss "
        "or an OS crash; FULL: fsync on every commit, survives power loss, slower.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        description="How long a SQLite writer waits for another writer's lock, in ms.",
    )
    sqlite_cache_mib: int = Field(
        default=64,
        ge=1,
        description=(
            "Page cache per SQLite connection, in MiB. Ingestion touches the index pages of "
            "every active key per batch; a cache smaller than those thrashes."
        ),
    )
    id_template: str = Field(
        default="INC_{seq:03d}",
        description="Template of human incident IDs. Fields: `{seq}` (required, a counter "
        "that never repeats within one rendering of the rest of the template) and "
        "`{date}` (UTC, strftime format spec), e.g. `INC-{date:%Y%m%d}-{seq:03d}`.",
    )
    extra_categories: list[str] = Field(
        default_factory=list,
        description="Categories accepted in addition to the built-in taxonomy "
        '(JSON list, e.g. `["NETWORK", "FFMPEG_FAILURE"]`).',
    )
    default_severity: str = Field(
        default="medium",
        description="Severity used when none is given: critical, high, medium or low.",
    )
    host: str = Field(default="127.0.0.1", description="Address `vigil serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `vigil serve` listens on.")
    tls_certfile: Path | None = Field(
        default=None,
        description="PEM certificate; with `tls_keyfile`, `vigil serve` speaks HTTPS.",
    )
    tls_keyfile: Path | None = Field(
        default=None, description="PEM private key for `tls_certfile`."
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body the API accepts; larger ones get HTTP 413.",
    )
    backup_dir: Path | None = Field(
        default=None,
        description="Where `vigil db upgrade` and `vigil db backup` write backups "
        "(default: next to the SQLite database file).",
    )
    log_dedup_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Window in which `IncidentLogHandler` folds repeats of the same log "
        "record into one incident.",
    )

    status_severity: dict[str, str] = Field(
        default_factory=lambda: {
            "stopped": "critical",
            "critical": "critical",
            "down": "critical",
            "failed": "critical",
            "stuck": "high",
            "warning": "high",
            "error": "high",
            "degraded": "medium",
        },
        description="Failing event statuses and the severity of the incident each opens "
        "(e.g. stopped -> critical, stuck -> high). JSON object; keys are lower case.",
    )
    healthy_statuses: list[str] = Field(
        default_factory=lambda: [
            "active",
            "ok",
            "up",
            "healthy",
            "running",
            "recovered",
            "resolved",
        ],
        description="Event statuses meaning the resource works; they auto-resolve its incident.",
    )
    ingest_category: str = Field(
        default="SYSTEM_ERROR",
        description="Category of incidents opened by events that name none.",
    )
    ingest_max_events: int = Field(
        default=1000,
        ge=1,
        description="Most events accepted in one request; larger batches get HTTP 413.",
    )
    ingest_refusal_delay_seconds: float = Field(
        default=0.1,
        ge=0,
        le=10,
        description=(
            "How long a refused ingestion request (4xx) waits before its answer, so a sender "
            "that keeps sending bad events slows itself down instead of the other senders."
        ),
    )
    ingest_max_batch: int = Field(
        default=2000,
        ge=1,
        description="Most events the group-commit writer puts in one transaction.",
    )
    ingest_counter_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "SQLite: write the repeat counters of incidents (occurrence_count, last_seen_at) "
            "and resource states (last_seen_at) at most this often instead of per batch; "
            "they lag by up to this much and are recomputed from the event log after a crash. "
            "0 writes them with every batch."
        ),
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a server remembers a verified token or integration key; a "
        "revoked credential may keep working this long in other server processes.",
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 90,
        description="How long a browser stays signed in after logging in to the web pages.",
    )
    page_refresh_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "How often the dashboard's active incidents refresh themselves in the browser; "
            "its other panels refresh at twice this interval, an incident page every 5 s."
        ),
    )
    login_attempts: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed logins allowed per account in 15 minutes (four times as many per "
            "address) before further attempts are refused with 429 until the window passes."
        ),
    )
    event_retention_days: int = Field(
        default=30,
        ge=0,
        description="Days of the event log (every event as received) to keep; older events are "
        "pruned by the hourly `retention.prune` job and `vigil db prune`. 0 keeps them forever.",
    )
    state_history_retention_days: int = Field(
        default=400,
        ge=0,
        description="Days of resource state history to keep (what availability is computed "
        "from; the stored down intervals that reports read are kept forever). 0 keeps it forever.",
    )
    heartbeat_check_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often `vigil serve` and `vigil worker` look for missed heartbeats.",
    )
    job_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How long a process holds a periodic job it claimed; if it dies mid-run, "
            "another process takes the job over once this has passed."
        ),
    )
    analytics_refresh_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "How often `vigil serve` and `vigil worker` store new down intervals for "
            "availability (reports are exact either way; they are faster right after)."
        ),
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that encrypts secrets at rest (channel URLs, webhook signing secrets) and "
            "signs action links: a Fernet key, made by `vigil notify new-key`. Required once "
            "a channel exists; keep it safe, without it stored channels cannot be read."
        ),
    )
    external_url: str | None = Field(
        default=None,
        description=(
            "Base URL people reach this Vigil at, used for links in notifications "
            "(default: the address `vigil serve` listens on)."
        ),
    )
    serve_jobs: bool = Field(
        default=True,
        description=(
            "Run the periodic jobs (heartbeat checks, availability refresh, notification "
            "delivery) inside `vigil serve`. Set to false when `vigil worker` processes run "
            "them, so a busy server spends its time on requests."
        ),
    )
    notify_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often the delivery job looks for due notifications when no commit in "
            "this process woke it (another process's commit, a retry coming due)."
        ),
    )
    notify_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Attempts per notification before it stays `failed`.",
    )
    notify_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Wait before the first retry; each later one waits twice as long (with jitter), "
            "capped at one hour."
        ),
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long one delivery waits for the destination."
    )
    notify_bundle_after: int = Field(
        default=5,
        ge=0,
        description=(
            "Default for new channels: when more than this many notifications for one "
            "channel are due at once, send one digest instead (0: never bundle)."
        ),
    )
    notify_link_hours: float = Field(
        default=24.0,
        gt=0,
        description="How long the acknowledge/resolve/note links in a notification stay valid.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description=(
            "Mail server for people's email contact methods, as an apprise mailto URL without "
            "a recipient (e.g. `mailtos://user:password@smtp.example.com?from=vigil@example.com`)."
        ),
    )
    sms_api_url: str = Field(
        default="https://api.twilio.com",
        description="Base URL of the Twilio-compatible API that sends SMS and places voice calls.",
    )
    sms_account_sid: str | None = Field(
        default=None, description="Account SID for the SMS and voice API."
    )
    sms_auth_token: SecretStr | None = Field(
        default=None, description="Auth token for the SMS and voice API (sent as basic auth)."
    )
    sms_from: str | None = Field(
        default=None, description="The number SMS and calls come from, in E.164 (+15551234567)."
    )
    escalation_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the escalation job looks for steps that are due.",
    )

    github_api_url: str = Field(
        default="https://api.github.com",
        description="Base URL of the GitHub REST API used by `vigil actions export-github` "
        "(GitHub Enterprise: `https://HOST/api/v3`).",
    )
    github_repo: str | None = Field(
        default=None, description="Default `owner/name` repository for exported action items."
    )
    github_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("github_token", "VIGIL_GITHUB_TOKEN", "GITHUB_TOKEN"),
        description="Token for the GitHub export; `GITHUB_TOKEN` is read too.",
    )

    @field_validator("status_severity")
    @classmethod
    def _check_status_severity(cls, value: dict[str, str]) -> dict[str, str]:
        allowed = ("critical", "high", "medium", "low")
        out = {}
        for status, severity in value.items():
            if severity.lower() not in allowed:
                raise ValueError(
                    f"status_severity[{status!r}] = {severity!r} is not one of: {', '.join(allowed)}"
                )
            out[status.strip().lower()] = severity.lower()
        return out

    @field_validator("healthy_statuses")
    @classmethod
    def _lower_statuses(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]

    @field_validator("id_template")
    @classmethod
    def _check_template(cls, value: str) -> str:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        if "seq" not in fields:
            raise ValueError("id_template must contain {seq}, e.g. 'INC_{seq:03d}'")
        unknown = fields - {"seq", "date"}
        if unknown:
            raise ValueError(
                f"id_template has unknown field(s) {sorted(unknown)}; allowed: seq, date"
            )
        return value

    @field_validator("extra_categories")
    @classmethod
    def _upper_categories(cls, value: list[str]) -> list[str]:
        return [v.strip().upper() for v in value if v.strip()]

    @field_validator("default_severity")
    @classmethod
    def _check_severity(cls, value: str) -> str:
        allowed = ("critical", "high", "medium", "low")
        if value.lower() not in allowed:
            raise ValueError(f"default_severity must be one of: {', '.join(allowed)}")
        return value.lower()

    @property
    def categories(self) -> tuple[str, ...]:
        """Return every accepted category, built-in first."""
        extra = tuple(c for c in self.extra_categories if c not in DEFAULT_CATEGORIES)
        return DEFAULT_CATEGORIES + extra

    @property
    def base_url(self) -> str:
        """Where people reach this Vigil (``external_url``, else ``http://host:port``)."""
        scheme = "https" if self.tls_certfile else "http"
        return (self.external_url or f"{scheme}://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'vigil.db'}"


def settings_reference() -> str:
    """Render the settings table of ``docs/configuration.md``."""
    lines = [
        "| Variable | Default | Description |",
        "|---|---|---|",
    ]
    for name, info in Settings.model_fields.items():
        if info.default_factory is not None:
            if name == "data_dir":
                default = "(computed)"
            else:
                made = info.default_factory()  # type: ignore[call-arg]
                default = f"`{json.dumps(made, separators=(', ', ': '))}`" if made else "`[]`"
        else:
            default = f"`{info.default}`" if info.default not in (None, "") else "(empty)"
        description = (info.description or "").replace("|", "\\|")
        lines.append(f"| `VIGIL_{name.upper()}` | {default} | {description} |")
    return "\n".join(lines) + "\n"
