from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base


class UsageEvent(Base):
    """One metered event (a tool call, an MCP session), written in the transaction of what it meters.

    Usage is answered by aggregating these rows, so totals are exact however many workers write
    at once. Times are epoch milliseconds, the unit of the usage API's ranges.
    """

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # "tool_calls" or "sessions".
    entity_type: Mapped[str] = mapped_column(String(32))
    occurred_at_ms: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    tool_slug: Mapped[str | None] = mapped_column(String(128), default=None)
    toolkit_slug: Mapped[str | None] = mapped_column(String(64), default=None)
    connected_account_id: Mapped[str | None] = mapped_column(String(15), default=None)
    user_id: Mapped[str | None] = mapped_column(String(256), default=None)
    session_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # The execution log this event meters; logs are deleted after their retention, events are not.
    log_id: Mapped[str | None] = mapped_column(String(16), default=None)

    __table_args__ = (
        Index("ix_usage_events_project_id_entity_type_occurred_at_ms", "project_id", "entity_type", "occurred_at_ms"),
        Index("ix_usage_events_org_id_entity_type_occurred_at_ms", "org_id", "entity_type", "occurred_at_ms"),
    )
