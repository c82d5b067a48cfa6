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
    database_pool_size: int = 10
    toolkits_file: str | None = Field(
        default=None,
        description="A TOML or JSON file of toolkits that adds to or changes the built-in catalog "
        "(docs/toolkits.md); checked at startup. Empty means none.",
    )

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
