from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base, Timestamps


class ConnectedAccount(Timestamps, Base):
    """One end user's connection to a toolkit through an auth config; credentials sealed by the vault."""

    __tablename__ = "connected_accounts"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    auth_config_id: Mapped[str] = mapped_column(ForeignKey("auth_configs.id", ondelete="CASCADE"))
    toolkit_slug: Mapped[str] = mapped_column(String(100))
    auth_scheme: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(256))
    alias: Mapped[str | None] = mapped_column(String(256), default=None)
    word_id: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    # Every credential and connection field (`state.val` without its status), one sealed JSON object.
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    requested_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    account_type: Mapped[str] = mapped_column(String(8), default="PRIVATE")
    acl_config_for_shared: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # An unfinished initiation (OAuth redirect or hosted link page) is only good until this moment.
    initiation_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # HMAC digests of the OAuth `state` and the link token, so the unauthenticated browser routes
    # can find the account without the database ever holding either capability in plaintext.
    oauth_state_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    link_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "ix_connected_accounts_project_id_live_created_at",
            "project_id",
            "created_at",
            "id",
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
        Index(
            "ix_connected_accounts_auth_config_id_live",
            "auth_config_id",
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
        # An alias names one account per (project, user, toolkit).
        Index(
            "uq_connected_accounts_live_alias",
            "project_id",
            "user_id",
            "toolkit_slug",
            "alias",
            unique=True,
            sqlite_where=deleted_at.is_(None) & alias.is_not(None),
            postgresql_where=deleted_at.is_(None) & alias.is_not(None),
        ),
        Index("ix_connected_accounts_status_initiation", "status", "initiation_expires_at"),
    )
