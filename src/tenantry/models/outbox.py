from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base


class OutboxJob(Base):
    """Work a transaction asked for, done by a background worker after that transaction commits.

    `due_at` is when a worker may take the job. Claiming a job moves `due_at` to the end of the
    claim's lease and stamps `claim_token`, so a job whose worker died becomes due again by itself
    when the lease runs out, and a worker whose lease ran out cannot finish a job someone else took.
    """

    __tablename__ = "outbox_jobs"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Names the job for its kind (a webhook message id, ...) so it can be found, hurried or cancelled.
    key: Mapped[str | None] = mapped_column(String(128), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index("ix_outbox_jobs_due_at", "due_at"),
    )
