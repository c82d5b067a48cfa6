from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base, Timestamps


class Organization(Timestamps, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Kept in the same transaction as every project create and delete, so `total_items` on the
    # project list costs one row read however many projects the organization holds.
    live_project_count: Mapped[int] = mapped_column(default=0, server_default="0")
