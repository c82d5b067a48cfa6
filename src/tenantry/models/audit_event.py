from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base


class AuditEvent(Base):
    """One control-plane change: who did what to which object, when, in which request.

    `project_id` is deliberately not a foreign key: the trail of a project outlives it. When a
    project is purged its events keep their skeleton (action, actor, time, ids) and lose their
    `details`, so nothing the project held survives in the log.
    """

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(String(15), default=None)
    action: Mapped[str] = mapped_column(String(64))
    # org_key | user_key | project_key | system (tenantry.audit.ActorType)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    member_id: Mapped[str | None] = mapped_column(String(15), default=None)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Newest first within an organization, optionally narrowed to one project.
        Index("ix_audit_events_org_id_created_at", "org_id", "created_at", "id"),
        Index("ix_audit_events_project_id_created_at", "project_id", "created_at", "id"),
    )
