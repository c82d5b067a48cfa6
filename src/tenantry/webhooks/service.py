"""Webhook subscriptions (reference §6.1), their delivery log, resend and recovery.

A project has at most one live subscription. Its secret is sealed by the vault and shown whole
only by create and rotate_secret. Messages are written by `events.emit` where things happen and
delivered by `delivery.Deliverer` through the outbox; this module only reads them back and queues
them again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, outbox
from tenantry.auth.principal import Principal
from tenantry.errors import (
    Conflict,
    InvalidRequest,
    WebhookMessageNotFound,
    WebhookSubscriptionExists,
    WebhookSubscriptionNotFound,
)
from tenantry.kit import ids
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.kit.time import as_utc, utcnow
from tenantry.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from tenantry.webhooks import events, schemas, signing, urls
from tenantry.webhooks.repository import MessageRepository, SubscriptionRepository

DEFAULT_PAGE_SIZE = 20


# --- subscriptions -------------------------------------------------------------------------------


def _to_schema(subscription: WebhookSubscription, *, secret: str) -> schemas.WebhookSubscription:
    return schemas.WebhookSubscription(
        id=subscription.id,
        webhook_url=subscription.webhook_url,
        version=subscription.version,  # type: ignore[arg-type]
        enabled_events=list(subscription.enabled_events),
        secret=secret,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
        status="DISABLED" if subscription.disabled_at else "ENABLED",
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
    )


async def _shown(session: AsyncSession, subscription: WebhookSubscription) -> schemas.WebhookSubscription:
    current = (await signing.signing_secrets(session, subscription))[0]
    return _to_schema(subscription, secret=signing.masked(current))


async def _checked_url(url: str, field: str) -> str:
    try:
        return await urls.check(url.strip())
    except urls.UnsafeUrl as problem:
        raise InvalidRequest.field(field, str(problem)) from None


def _checked_events(wanted: Sequence[str], version: str) -> list[str]:
    problems = []
    for index, name in enumerate(wanted):
        event = events.TYPES.get(name)
        if event is None:
            problems.append(f"enabled_events[{index}]: unknown event type {name!r} (GET event_types lists them)")
        elif version not in event.versions:
            problems.append(f"enabled_events[{index}]: {name} is sent in {', '.join(event.versions)} payloads only, not {version}")
    if problems:
        raise InvalidRequest("Invalid request: " + "; ".join(problems), errors=problems)
    return list(dict.fromkeys(wanted))


async def _require(session: AsyncSession, principal: Principal, subscription_id: str, *, for_update: bool = False) -> WebhookSubscription:
    subscription = await SubscriptionRepository(session, principal).get(subscription_id, for_update=for_update)
    if subscription is None:
        raise WebhookSubscriptionNotFound()
    return subscription


async def create(session: AsyncSession, principal: Principal, payload: schemas.WebhookSubscriptionCreate) -> schemas.WebhookSubscription:
    assert principal.project_id is not None
    repository = SubscriptionRepository(session, principal)
    exists = WebhookSubscriptionExists(
        suggested_fix="Change the existing subscription with PATCH, or delete it before creating another"
    )
    if await repository.exists():
        raise exists
    subscription = WebhookSubscription(
        id=ids.nano_id("ws"),
        project_id=principal.project_id,
        org_id=principal.org_id,
        webhook_url=await _checked_url(payload.webhook_url, "webhook_url"),
        version=payload.version,
        enabled_events=_checked_events(payload.enabled_events, payload.version),
    )
    secret = signing.new_secret()
    await signing.seal(session, subscription, secret)
    try:
        await repository.add(subscription)
    except IntegrityError:
        raise exists from None
    # The URL's host only: some receivers put a token in the path or the query.
    await audit.record(
        session,
        principal,
        "webhook_subscription.created",
        subscription,
        details={"webhook_host": urlsplit(subscription.webhook_url).hostname, "version": subscription.version, "enabled_events": subscription.enabled_events},
    )
    return _to_schema(subscription, secret=secret)


async def get(session: AsyncSession, principal: Principal, subscription_id: str) -> schemas.WebhookSubscription:
    return await _shown(session, await _require(session, principal, subscription_id))


async def list_page(session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None) -> schemas.WebhookSubscriptionList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = SubscriptionRepository(session, principal)
    rows, next_cursor = request.slice(await repository.page(request), lambda row: (row.created_at, row.id))
    total = await repository.count()
    return schemas.WebhookSubscriptionList(
        items=[await _shown(session, row) for row in rows],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


async def stop_deliveries(session: AsyncSession, subscription: WebhookSubscription) -> None:
    """Cancels every queued delivery of the subscription and marks those messages failed."""
    messages = MessageRepository(session, subscription)
    await outbox.cancel(session, events.DELIVERY, messages.pending_ids())
    await messages.fail_pending()


async def disable(session: AsyncSession, subscription: WebhookSubscription, reason: str) -> None:
    subscription.disabled_at = utcnow()
    subscription.disabled_reason = reason
    await stop_deliveries(session, subscription)


async def update(
    session: AsyncSession, principal: Principal, subscription_id: str, changes: schemas.WebhookSubscriptionUpdate
) -> schemas.WebhookSubscription:
    subscription = await _require(session, principal, subscription_id, for_update=True)
    if changes.webhook_url is not None:
        subscription.webhook_url = await _checked_url(changes.webhook_url, "webhook_url")
    version = changes.version or subscription.version
    if changes.enabled_events is not None or version != subscription.version:
        wanted = changes.enabled_events if changes.enabled_events is not None else subscription.enabled_events
        subscription.enabled_events = _checked_events(wanted, version)
        subscription.version = version
    if changes.enabled is True and subscription.disabled_at is not None:
        subscription.disabled_at = subscription.disabled_reason = subscription.failing_since = None
    elif changes.enabled is False and subscription.disabled_at is None:
        await disable(session, subscription, "Turned off by the project (enabled: false)")
    subscription.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session, principal, "webhook_subscription.updated", subscription, details={"fields": sorted(changes.model_fields_set)}
    )
    return await _shown(session, subscription)


async def delete(session: AsyncSession, principal: Principal, subscription_id: str) -> schemas.Success:
    subscription = await _require(session, principal, subscription_id, for_update=True)
    subscription.deleted_at = utcnow()
    await stop_deliveries(session, subscription)
    await session.flush()
    await audit.record(session, principal, "webhook_subscription.deleted", subscription)
    return schemas.Success()


async def rotate_secret(session: AsyncSession, principal: Principal, subscription_id: str) -> schemas.SecretRotated:
    subscription = await _require(session, principal, subscription_id, for_update=True)
    secret, previous_lapses = await signing.rotate(session, subscription)
    subscription.updated_at = utcnow()
    await session.flush()
    await audit.record(session, principal, "webhook_subscription.secret_rotated", subscription)
    return schemas.SecretRotated(id=subscription.id, secret=secret, previous_secret_expires_at=previous_lapses)


def event_types() -> schemas.EventTypeList:
    return schemas.EventTypeList(
        items=[
            schemas.EventType(event_type=event.name, description=event.description, supported_versions=list(event.versions))  # type: ignore[arg-type]
            for event in events.CATALOG
        ]
    )


# --- the delivery log ------------------------------------------------------------------------------


def _attempt(attempt: WebhookAttempt) -> schemas.Attempt:
    return schemas.Attempt(
        id=attempt.id,
        attempted_at=attempt.attempted_at,
        succeeded=attempt.succeeded,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        response_body=attempt.response_body,
        error=attempt.error,
    )


def _message_fields(message: WebhookMessage, attempts: list[WebhookAttempt]) -> dict[str, object]:
    return {
        "id": message.id,
        "event_type": message.event_type,
        "status": message.status,
        "attempt_count": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "last_attempt_at": message.last_attempt_at,
        "delivered_at": message.delivered_at,
        "created_at": message.created_at,
        "last_attempt": _attempt(attempts[-1]) if attempts else None,
    }


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    status: str | None,
    *,
    limit: int | None,
    cursor: str | None,
) -> schemas.MessageList:
    subscription = await _require(session, principal, subscription_id)
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = MessageRepository(session, subscription)
    rows, next_cursor = request.slice(await repository.page(request, status), lambda row: (row.created_at, row.id))
    attempts = await repository.attempts(rows)
    total = await repository.count(status)
    return schemas.MessageList(
        items=[schemas.Message(**_message_fields(row, attempts[row.id])) for row in rows],  # type: ignore[arg-type]
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


async def _require_message(
    session: AsyncSession, subscription: WebhookSubscription, message_id: str, *, for_update: bool = False
) -> WebhookMessage:
    message = await MessageRepository(session, subscription).get(message_id, for_update=for_update)
    if message is None:
        raise WebhookMessageNotFound()
    return message


async def get_message(session: AsyncSession, principal: Principal, subscription_id: str, message_id: str) -> schemas.MessageDetail:
    subscription = await _require(session, principal, subscription_id)
    message = await _require_message(session, subscription, message_id)
    attempts = (await MessageRepository(session, subscription).attempts([message]))[message.id]
    return schemas.MessageDetail(
        **_message_fields(message, attempts),  # type: ignore[arg-type]
        payload=json.loads(message.payload),
        attempts=[_attempt(attempt) for attempt in attempts],
    )


def _deliverable(subscription: WebhookSubscription) -> None:
    if subscription.disabled_at is not None:
        raise Conflict(
            f"The subscription is disabled: {subscription.disabled_reason}",
            suggested_fix="Fix the receiver, then PATCH the subscription with {\"enabled\": true} and try again",
        )


async def _requeue(session: AsyncSession, message: WebhookMessage) -> None:
    """Sends the message again from the start of the retry schedule (at once if it is still waiting)."""
    now = utcnow()
    message.status = "pending"
    message.next_attempt_at = now
    await outbox.enqueue(session, events.DELIVERY, {"message_id": message.id}, key=message.id, due_at=now)


async def resend(session: AsyncSession, principal: Principal, subscription_id: str, message_id: str) -> schemas.Message:
    subscription = await _require(session, principal, subscription_id)
    message = await _require_message(session, subscription, message_id, for_update=True)
    _deliverable(subscription)
    await _requeue(session, message)
    await session.flush()
    attempts = (await MessageRepository(session, subscription).attempts([message]))[message.id]
    return schemas.Message(**_message_fields(message, attempts))  # type: ignore[arg-type]


async def recover(
    session: AsyncSession, principal: Principal, subscription_id: str, since: datetime, until: datetime | None
) -> schemas.Recovered:
    subscription = await _require(session, principal, subscription_id)
    _deliverable(subscription)
    start, end = as_utc(since), as_utc(until) if until is not None else utcnow()
    if end <= start:
        raise InvalidRequest.field("until", "must be later than since")
    failed = await MessageRepository(session, subscription).failed_between(start, end)
    for message in failed:
        await _requeue(session, message)
    await session.flush()
    return schemas.Recovered(recovered=len(failed))
