from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, and_
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base


class ApiKey(Base):
    """Every kind of key (org `oak_`, project `ak_`, user `uak_`), stored as a keyed hash only."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), default=None
    )
    # The member a user key (`uak_`) belongs to; its `org_id` is the organization it was issued in.
    member_id: Mapped[str | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # A scoped project key: permission area -> level (tenantry.auth.scopes). None is full access.
    scopes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        Index(
            "ix_api_keys_project_id_live",
            "project_id",
            sqlite_where=revoked_at.is_(None),
            postgresql_where=revoked_at.is_(None),
        ),
        # An organization's own keys (`oak_`), listed on its API keys page and route.
        Index(
            "ix_api_keys_org_id_org_keys_live",
            "org_id",
            sqlite_where=and_(kind == "oak", revoked_at.is_(None)),
            postgresql_where=and_(kind == "oak", revoked_at.is_(None)),
        ),
    )
