from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base, Timestamps


class AuthConfig(Timestamps, Base):
    """How a project's users authenticate to one toolkit: a scheme plus the developer's app credentials."""

    __tablename__ = "auth_configs"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    toolkit_slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    auth_scheme: Mapped[str] = mapped_column(String(32))
    is_composio_managed: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # Credentials, the proxy auth key and shared credentials, sealed by the vault as one JSON object.
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    proxy_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    tool_access_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    restrict_to_following_tools: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_enabled_for_tool_router: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(100), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "ix_auth_configs_project_id_live_created_at",
            "project_id",
            "created_at",
            "id",
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
    )
