from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base, Timestamps


class McpServer(Timestamps, Base):
    """A project's MCP server: which auth configs (and so toolkits) and tools an agent may use."""

    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(30))
    auth_config_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    toolkits: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Empty means every tool of the server's toolkits.
    allowed_tools: Mapped[list[str]] = mapped_column(JSON, default=list)
    managed_auth_via_composio: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "uq_mcp_servers_project_id_live_name",
            "project_id",
            "name",
            unique=True,
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
    )


class McpServerInstance(Base):
    """A user who has opened a session on an MCP server: Composio's `server_instance_count`."""

    __tablename__ = "mcp_server_instances"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    server_id: Mapped[str] = mapped_column(ForeignKey("mcp_servers.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(256))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("server_id", "user_id"),)
