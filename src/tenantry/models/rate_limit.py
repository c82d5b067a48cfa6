from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base, Timestamps


class ProjectRateLimit(Timestamps, Base):
    """A project's own request limit per window, set by its organization in place of the organization's."""

    __tablename__ = "project_rate_limits"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    requests_per_window: Mapped[int] = mapped_column(Integer)
