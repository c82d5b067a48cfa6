from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from tenantry.db import Session
from tenantry.errors import (
    Conflict,
    Unauthenticated,
    WebhookMessageNotFound,
    WebhookSubscriptionExists,
    WebhookSubscriptionNotFound,
    responses,
)
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.webhooks import schemas, service
from tenantry.webhooks.auth import WebhooksRead, WebhooksWrite

router = APIRouter(prefix="/webhook_subscriptions", tags=["Webhooks"])

SubscriptionId = Annotated[str, Path(alias="id", description="The subscription's id, `ws_…`."), NoNul]
MessageId = Annotated[str, Path(description="The message's id, `msg_…` (its `webhook-id`)."), NoNul]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size, 1–100 (default 20).")]


@router.post(
    "",
    status_code=201,
    response_model=schemas.WebhookSubscription,
    responses=responses(Unauthenticated, WebhookSubscriptionExists),
)
async def create(payload: schemas.WebhookSubscriptionCreate, principal: WebhooksWrite, session: Session) -> schemas.WebhookSubscription:
    """Subscribe the project's webhook URL to event types; the answer holds the signing secret, once."""
    return await service.create(session, principal, payload)


@router.get("", response_model=schemas.WebhookSubscriptionList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: WebhooksRead, session: Session, limit: Limit = None, cursor: CursorParam = None
) -> schemas.WebhookSubscriptionList:
    """The project's subscription (a project has one at most); secrets masked."""
    return await service.list_page(session, principal, limit=limit, cursor=cursor)


@router.get("/event_types", response_model=schemas.EventTypeList, responses=responses(Unauthenticated))
async def event_types(principal: WebhooksRead) -> schemas.EventTypeList:
    """Every event type a subscription can enable, with the payload versions it is sent in."""
    return service.event_types()


@router.get("/{id}", response_model=schemas.WebhookSubscription, responses=responses(Unauthenticated, WebhookSubscriptionNotFound))
async def get(subscription_id: SubscriptionId, principal: WebhooksRead, session: Session) -> schemas.WebhookSubscription:
    """One subscription; the secret masked."""
    return await service.get(session, principal, subscription_id)


@router.patch(
    "/{id}", response_model=schemas.WebhookSubscription, responses=responses(Unauthenticated, WebhookSubscriptionNotFound)
)
async def update(
    subscription_id: SubscriptionId,
    changes: schemas.WebhookSubscriptionUpdate,
    principal: WebhooksWrite,
    session: Session,
) -> schemas.WebhookSubscription:
    """Change the URL, the enabled events or the version; `enabled` turns deliveries off or back on."""
    return await service.update(session, principal, subscription_id, changes)


@router.delete("/{id}", response_model=schemas.Success, responses=responses(Unauthenticated, WebhookSubscriptionNotFound))
async def delete(subscription_id: SubscriptionId, principal: WebhooksWrite, session: Session) -> schemas.Success:
    """Delete the subscription: queued deliveries are cancelled and nothing more is sent."""
    return await service.delete(session, principal, subscription_id)


@router.post(
    "/{id}/rotate_secret", response_model=schemas.SecretRotated, responses=responses(Unauthenticated, WebhookSubscriptionNotFound)
)
async def rotate_secret(
    subscription_id: SubscriptionId, principal: WebhooksWrite, session: Session
) -> schemas.SecretRotated:
    """A new signing secret, shown once; the old one keeps signing beside it for 24 hours."""
    return await service.rotate_secret(session, principal, subscription_id)


@router.get(
    "/{id}/messages", response_model=schemas.MessageList, responses=responses(Unauthenticated, WebhookSubscriptionNotFound)
)
async def list_messages(
    subscription_id: SubscriptionId,
    principal: WebhooksRead,
    session: Session,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query(description="Only messages in this state.")] = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> schemas.MessageList:
    """The subscription's messages, newest first, with their last attempt and next attempt time."""
    return await service.list_messages(session, principal, subscription_id, status, limit=limit, cursor=cursor)


@router.get(
    "/{id}/messages/{message_id}",
    response_model=schemas.MessageDetail,
    responses=responses(Unauthenticated, WebhookSubscriptionNotFound, WebhookMessageNotFound),
)
async def get_message(
    subscription_id: SubscriptionId, message_id: MessageId, principal: WebhooksRead, session: Session
) -> schemas.MessageDetail:
    """One message: the payload it sends and every attempt (status code, latency, start of the answer)."""
    return await service.get_message(session, principal, subscription_id, message_id)


@router.post(
    "/{id}/messages/{message_id}/resend",
    status_code=202,
    response_model=schemas.Message,
    responses=responses(Unauthenticated, WebhookSubscriptionNotFound, WebhookMessageNotFound, Conflict),
)
async def resend(
    subscription_id: SubscriptionId, message_id: MessageId, principal: WebhooksWrite, session: Session
) -> schemas.Message:
    """Send a message again now, with the same `webhook-id`, restarting its retry schedule."""
    return await service.resend(session, principal, subscription_id, message_id)


@router.post(
    "/{id}/recover",
    status_code=202,
    response_model=schemas.Recovered,
    responses=responses(Unauthenticated, WebhookSubscriptionNotFound, Conflict),
)
async def recover(
    subscription_id: SubscriptionId, body: schemas.RecoverRequest, principal: WebhooksWrite, session: Session
) -> schemas.Recovered:
    """Send again every message that failed since a moment (e.g. once a broken receiver is fixed)."""
    return await service.recover(session, principal, subscription_id, body.since, body.until)
