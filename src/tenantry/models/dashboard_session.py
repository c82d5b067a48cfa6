from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base


class DashboardSession(Base):
    """A member signed in to the dashboard. The browser holds the token; only its digest is stored,
    so a copy of this table signs nobody in."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_dashboard_sessions_member_id", "member_id"), Index("ix_dashboard_sessions_expires_at", "expires_at"))
