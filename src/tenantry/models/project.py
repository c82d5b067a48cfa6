from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenantry.models.base import Base, Timestamps


class Project(Timestamps, Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(75))
    email: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    settings: Mapped[ProjectSettings] = relationship(lazy="raise", back_populates="project")

    __table_args__ = (
        # A name is unique among the organization's live projects only: a deleted one frees it.
        Index(
            "uq_projects_org_id_live_name",
            "org_id",
            "name",
            unique=True,
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
        # Serves the newest-first keyset pagination of live projects.
        Index(
            "ix_projects_org_id_live_created_at",
            "org_id",
            "created_at",
            "id",
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
        # Serves the trash (restorable projects) and the purge of those past their retention.
        Index(
            "ix_projects_deleted_at",
            "deleted_at",
            "id",
            sqlite_where=deleted_at.is_not(None),
            postgresql_where=deleted_at.is_not(None),
        ),
    )


class ProjectSettings(Base):
    """The ten fields of Composio's project config, one row per project."""

    __tablename__ = "project_settings"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    is_2fa_enabled: Mapped[bool] = mapped_column(default=False)
    logo_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)
    mask_secret_keys_in_connected_account: Mapped[bool] = mapped_column(default=True)
    log_visibility_setting: Mapped[str] = mapped_column(String(20), default="show_all")
    require_mcp_api_key: Mapped[bool] = mapped_column(default=True)
    is_composio_link_enabled_for_managed_auth: Mapped[bool] = mapped_column(default=False)
    signed_url_file_expiry_in_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    oauth_callback_verifier_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    theme: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    project: Mapped[Project] = relationship(lazy="raise", back_populates="settings")
