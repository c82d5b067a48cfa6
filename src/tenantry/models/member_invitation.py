from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base


class MemberInvitation(Base):
    """A one-time link with which a member chooses their dashboard password (tenantry.members.service).

    An admin gets one when adding a member, or on asking for a new sign-in link; the newest
    replaces the member's earlier ones in the organization. Only the token's HMAC under the server
    pepper is stored, so a copy of this table opens nothing.
    """

    __tablename__ = "member_invitations"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when the link is used; a used link keeps its row so a second use can be told apart from a bad link.
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_member_invitations_member_id", "member_id"),
        Index("ix_member_invitations_org_id", "org_id"),
    )
