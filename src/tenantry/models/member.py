from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base, Timestamps


class Member(Timestamps, Base):
    """A person who works in one or more organizations, known by email.

    Members reach the API with user keys (`uak_`, api_keys.member_id). The dashboard will let
    them sign in as well: its credentials (a password hash, and whatever second factor it
    needs) belong on this row, and its sessions resolve to the same Principal a user key does
    (tenantry.members.auth), so every rule about roles applies to both unchanged.
    """

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    # Stored lower-cased, so one person cannot become two members by changing case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Dashboard sign-in (tenantry.dashboard.accounts): an Argon2id hash, never the password; null
    # until `tenantry member set-password`. Failures count toward a temporary lock-out.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class Membership(Base):
    """A member's place in one organization, with the role that decides what they may do there."""

    __tablename__ = "memberships"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    # admin | developer (tenantry.members.schemas.Role)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_memberships_member_id", "member_id"),)
