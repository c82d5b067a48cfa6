from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import WebhookAttempt, WebhookMessage, WebhookSubscription


class SubscriptionRepository:
    """The live webhook subscription of the calling project."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def add(self, subscription: WebhookSubscription) -> None:
        self._session.add(subscription)
        await self._session.flush()

    async def get(self, subscription_id: str, *, for_update: bool = False) -> WebhookSubscription | None:
        statement = tenancy.live_webhook_subscriptions(self._principal).where(WebhookSubscription.id == subscription_id)
        if for_update:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def exists(self) -> bool:
        return await self._session.scalar(tenancy.live_webhook_subscriptions(self._principal).limit(1)) is not None

    async def page(self, request: PageRequest) -> Sequence[WebhookSubscription]:
        statement = request.apply(
            tenancy.live_webhook_subscriptions(self._principal), WebhookSubscription.created_at, WebhookSubscription.id
        )
        return (await self._session.scalars(statement)).all()

    async def count(self) -> int:
        subquery = tenancy.live_webhook_subscriptions(self._principal).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)


class MessageRepository:
    """The messages of one subscription the caller may already touch, and their attempts."""

    def __init__(self, session: AsyncSession, subscription: WebhookSubscription) -> None:
        self._session = session
        self._subscription = subscription

    def _filtered(self, status: str | None) -> Select[tuple[WebhookMessage]]:
        statement = tenancy.webhook_messages_of(self._subscription)
        if status is not None:
            statement = statement.where(WebhookMessage.status == status)
        return statement

    async def get(self, message_id: str, *, for_update: bool = False) -> WebhookMessage | None:
        statement = tenancy.webhook_messages_of(self._subscription).where(WebhookMessage.id == message_id)
        if for_update:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def page(self, request: PageRequest, status: str | None) -> Sequence[WebhookMessage]:
        statement = request.apply(self._filtered(status), WebhookMessage.created_at, WebhookMessage.id)
        return (await self._session.scalars(statement)).all()

    async def count(self, status: str | None) -> int:
        subquery = self._filtered(status).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)

    async def attempts(self, messages: Sequence[WebhookMessage]) -> dict[str, list[WebhookAttempt]]:
        """Each message's attempts, oldest first."""
        if not messages:
            return {}
        statement = tenancy.webhook_attempts_of([message.id for message in messages], self._subscription.project_id).order_by(
            WebhookAttempt.attempted_at, WebhookAttempt.id
        )
        found: dict[str, list[WebhookAttempt]] = {message.id: [] for message in messages}
        for attempt in (await self._session.scalars(statement)).all():
            found[attempt.message_id].append(attempt)
        return found

    async def failed_between(self, since: datetime, until: datetime) -> Sequence[WebhookMessage]:
        statement = (
            tenancy.webhook_messages_of(self._subscription)
            .where(WebhookMessage.status == "failed", WebhookMessage.created_at >= since, WebhookMessage.created_at < until)
            .order_by(WebhookMessage.created_at)
            .with_for_update()
        )
        return (await self._session.scalars(statement)).all()

    def pending_ids(self) -> Select[tuple[str]]:
        """A one-column select of the pending messages' ids, for cancelling their deliveries."""
        return tenancy.webhook_messages_of(self._subscription).where(WebhookMessage.status == "pending").with_only_columns(
            WebhookMessage.id
        )

    async def fail_pending(self) -> None:
        await self._session.execute(
            tenancy.update_webhook_messages_of(self._subscription)
            .where(WebhookMessage.status == "pending")
            .values(status="failed", next_attempt_at=None)
        )


class DeliveryRepository:
    """What the delivery worker reads and writes, for whatever project a message belongs to."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def load_many(self, message_ids: list[str]) -> dict[str, tuple[WebhookMessage, WebhookSubscription]]:
        """The messages that still exist, each with its subscription, by id."""
        rows = (await self._session.execute(tenancy.webhook_deliveries(message_ids))).all()
        return {message.id: (message, subscription) for message, subscription in rows}

    async def load_for_update(self, message_id: str) -> tuple[WebhookMessage, WebhookSubscription] | None:
        statement = tenancy.webhook_deliveries([message_id]).with_for_update(of=WebhookMessage)
        row = (await self._session.execute(statement)).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def add_attempts(self, attempts: list[dict[str, Any]]) -> None:
        """Inserts attempt rows (column values) in one statement."""
        if attempts:
            await self._session.execute(insert(WebhookAttempt), attempts)

    async def mark_delivered(self, deliveries: list[tuple[str, datetime]]) -> None:
        """Each (message id, moment of its successful attempt): delivered, in one executemany."""
        if not deliveries:
            return
        table = WebhookMessage.__table__
        statement = tenancy.update_webhook_message_by_id().values(
            status="delivered",
            delivered_at=bindparam("moment"),
            last_attempt_at=bindparam("moment"),
            next_attempt_at=None,
            attempts=table.c.attempts + 1,
        )
        await self._session.execute(statement, [{"message_id": message_id, "moment": moment} for message_id, moment in deliveries])

    async def clear_failing(self, subscription_id: str) -> None:
        await self._session.execute(
            tenancy.update_webhook_subscription(subscription_id)
            .where(WebhookSubscription.failing_since.is_not(None))
            .values(failing_since=None)
        )

    async def mark_failing(self, subscription_id: str, moment: datetime) -> None:
        await self._session.execute(
            tenancy.update_webhook_subscription(subscription_id)
            .where(WebhookSubscription.failing_since.is_(None))
            .values(failing_since=moment)
        )

    async def disable_if_failing_since(self, subscription_id: str, before: datetime, moment: datetime, reason: str) -> bool:
        """Disables the subscription when it has failed since `before` or earlier; True when this call did it."""
        result = await self._session.execute(
            tenancy.update_webhook_subscription(subscription_id)
            .where(
                WebhookSubscription.failing_since <= before,
                WebhookSubscription.disabled_at.is_(None),
                WebhookSubscription.deleted_at.is_(None),
            )
            .values(disabled_at=moment, disabled_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
