from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base, Timestamps


class WebhookSubscription(Timestamps, Base):
    """Where a project's events go (reference §6.1): one live subscription per project."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The project's organization, for every event's metadata; a project never changes organization.
    org_id: Mapped[str] = mapped_column(String(15))
    webhook_url: Mapped[str] = mapped_column(String(2048))
    version: Mapped[str] = mapped_column(String(2))
    enabled_events: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret and the ones it replaced that still sign until they lapse, sealed by the vault.
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    # When the current run of failed attempts began; cleared by any successful delivery.
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "uq_webhook_subscriptions_live_project_id",
            "project_id",
            unique=True,
            sqlite_where=deleted_at.is_(None),
            postgresql_where=deleted_at.is_(None),
        ),
    )


class WebhookMessage(Base):
    """One event for one subscription: the exact body every attempt sends, and where delivery stands."""

    __tablename__ = "webhook_messages"

    # `msg_` + a UUID: the envelope's `id` and the `webhook-id` header, the receiver's idempotency key.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(100))
    # Stored as the text that is signed and sent, so a retry sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_webhook_messages_subscription_id_created_at", "subscription_id", "created_at", "id"),
        Index("ix_webhook_messages_subscription_id_status_created_at", "subscription_id", "status", "created_at"),
    )


class WebhookAttempt(Base):
    """One POST of a message: what the receiver answered, or why there was no answer."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("webhook_messages.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool]
    status_code: Mapped[int | None] = mapped_column(default=None)
    latency_ms: Mapped[int | None] = mapped_column(default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)

    __table_args__ = (Index("ix_webhook_attempts_message_id_attempted_at", "message_id", "attempted_at"),)
