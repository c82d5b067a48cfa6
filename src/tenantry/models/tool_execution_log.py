from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base


class ToolExecutionLog(Base):
    """One tool execution or proxy call: its audit fields always, its payload only when the project stores data."""

    __tablename__ = "tool_execution_logs"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # When the execution started; the log's timestamp.
    created_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    # "tool" for POST /tools/execute/{slug}, "proxy" for POST /tools/execute/proxy.
    kind: Mapped[str] = mapped_column(String(8))
    tool_slug: Mapped[str] = mapped_column(String(128))
    toolkit_slug: Mapped[str] = mapped_column(String(64))
    # Plain ids, not foreign keys: a log outlives the account or config it names.
    connected_account_id: Mapped[str | None] = mapped_column(String(15), default=None)
    auth_config_id: Mapped[str | None] = mapped_column(String(15), default=None)
    user_id: Mapped[str | None] = mapped_column(String(256), default=None)
    session_id: Mapped[str | None] = mapped_column(String(128), default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # "success" or "failed".
    status: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(String(500))
    # The status code the toolkit's API answered, when a request was made.
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    # Where the call came from: api, mcp, ...
    source: Mapped[str] = mapped_column(String(16))
    # The arguments and the response; NULL when the project's log_visibility_setting is dont_store_data.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        Index("ix_tool_execution_logs_project_id_created_at", "project_id", "created_at", "id"),
        # Serves the retention sweep, which deletes by age across every project.
        Index("ix_tool_execution_logs_created_at", "created_at"),
    )
