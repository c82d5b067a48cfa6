"""Every setting of the service, read once from the environment (prefix TENANTRY_)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTRY_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".tenantry"),
        description="Where the embedded database and generated key files live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; the embedded SQLite file in data_dir when unset.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Pepper for the HMAC of API keys. Every worker must share it; "
        "generated into data_dir/secret.key when unset.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="The current master key (32 bytes, base64) that wraps every project's data key. "
        "Every worker must share it; kept in data_dir/master.keys when unset.",
    )
    previous_master_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated older master keys, still accepted for unwrapping while "
        "`tenantry keys rotate` moves data keys to master_key.",
    )
    public_url: str = "http://127.0.0.1:8000"
    # Composio gives every project a mailbox-style address; ours are `project-<id>@<this>`.
    project_email_domain: str = "projects.tenantry.local"
    # How often a worker checks whether another worker revoked a key or changed a setting.
    cache_poll_interval_seconds: float = 0.25
    # last_used_at is kept in memory and written in batches this often.
    last_used_flush_interval_seconds: float = 30.0
    # Connections each worker keeps open; as many again may open under a burst, and are closed
    # when returned. A pool smaller than a worker's concurrent requests opens and closes a
    # connection for most of them (on PostgreSQL about 1.6 ms instead of 0.3 ms per statement
    # at 16 at once: docs/benchmarks.md §8).
    database_pool_size: int = Field(default=20, ge=1, description="Database connections each worker keeps open.")
    project_retention_days: float = Field(
        default=30,
        ge=0,
        description="How long a deleted project can be restored; after that the purge job deletes it "
        "and everything it owns, its data key included.",
    )
    # How often each worker looks for deleted projects past their retention.
    purge_interval_seconds: float = 60.0
    toolkits_file: str | None = Field(
        default=None,
        description="A TOML or JSON file of toolkits that adds to or changes the built-in catalog "
        "(docs/toolkits.md); checked at startup. Several files are separated by the OS path "
        "separator (`:`), later ones changing earlier ones. Empty means none.",
    )
    # Tool execution and proxy calls to a toolkit's API.
    tool_timeout_seconds: float = Field(default=30.0, gt=0, description="Limit on one call to a toolkit's API.")
    tool_max_response_bytes: int = Field(
        default=5 * 1024 * 1024, gt=0, description="A toolkit API's answer larger than this fails the execution."
    )
    tool_max_connections: int = Field(
        default=200, ge=1, description="Connections a worker keeps open to toolkit APIs at most (all hosts together)."
    )
    log_retention_days: int = Field(default=365, ge=1, description="Tool execution logs older than this are deleted.")
    # Execution logs (and the usage they meter) are queued and written in batches (tenantry.logs.queue).
    log_flush_interval_seconds: float = Field(
        default=0.05, gt=0, description="How long an execution's log may wait in its worker's queue before it is written."
    )
    log_batch_size: int = Field(default=500, ge=1, description="Most execution logs written in one transaction.")
    log_queue_max: int = Field(
        default=10_000, ge=1, description="Execution logs a worker may hold unwritten; a call finding that many waits until they are written."
    )
    rate_limit_requests: int = Field(
        default=10_000, ge=0, description="Requests per window for each organization (0: no limit); projects may have their own."
    )
    rate_limit_window_seconds: int = Field(default=60, ge=1, description="The fixed window of rate_limit_requests.")
    redis_url: str | None = Field(
        default=None, description="redis://… to count rate limits across every worker; each worker counts its own when unset."
    )
    # Webhook delivery. The schedule is the delay in seconds before each attempt, the first included.
    webhook_retry_schedule: str = Field(
        default="0,5,300,1800,7200,18000,36000,36000",
        pattern=r"^\s*\d+(\.\d+)?\s*(,\s*\d+(\.\d+)?\s*)*$",
        description="Comma-separated delays in seconds before each delivery attempt, the first included.",
    )
    webhook_timeout_seconds: float = 15.0
    # A subscription whose deliveries have all failed for this long is disabled.
    webhook_disable_after_seconds: float = 5 * 24 * 3600
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Let webhook URLs reach loopback, private and link-local addresses (tests, private networks).",
    )
    webhook_allow_http: bool = Field(default=False, description="Accept plain-http webhook URLs, not only https.")
    # Background work (tenantry.outbox): deliveries in flight per process, how long a claim lasts
    # unrenewed before another worker may take the job over (its worker renews it a third of a
    # lease apart while it runs), and how often an idle worker looks for work.
    # 0: this process claims no jobs and leaves them to the processes that do.
    outbox_concurrency: int = Field(default=128, ge=0)
    outbox_lease_seconds: float = Field(default=6.0, gt=0)
    outbox_poll_interval_seconds: float = 1.0
    # The dashboard (tenantry.dashboard): how long a sign-in lasts, and the lock-out after failures.
    dashboard_session_hours: float = Field(default=12, gt=0, description="A dashboard sign-in lasts this long.")
    dashboard_max_failed_sign_ins: int = Field(default=5, ge=1, description="Failed sign-ins in a row before a lock-out.")
    dashboard_lockout_minutes: float = Field(default=15, gt=0, description="How long a locked-out member must wait.")

    @property
    def webhook_retry_delays(self) -> list[float]:
        return [float(delay) for delay in self.webhook_retry_schedule.split(",")]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        database = self.data_dir / "tenantry.db"
        database.touch(mode=0o600, exist_ok=True)  # SQLite's WAL files take the same mode.
        return f"sqlite+aiosqlite:///{database.resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def key_pepper(self) -> bytes:
        if self.secret_key:
            return self.secret_key.encode()
        return _read_or_create_secret_file(self.data_dir / "secret.key").encode()


def _read_or_create_secret_file(path: Path) -> str:
    """Returns the secret in `path`, creating it with mode 0600 on first use.

    The file is written whole under a temporary name and then hard-linked into place, so
    several workers starting at once all read the same complete secret.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()


@lru_cache
def key_pepper() -> bytes:
    """The server-side secret every API key digest is keyed with."""
    return get_settings().key_pepper()
