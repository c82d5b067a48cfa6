"""The events a project emits, and `emit`: how the code where something happens tells its subscription.

    await events.emit(session, project_id, events.CONNECTED_ACCOUNT_EXPIRED, lambda: account_data())

`emit` runs in the caller's transaction. When the project's subscription is enabled and wants the
type, it writes the V3 envelope as a message and queues its delivery in the outbox, so the
delivery exists exactly when the change that caused it commits. `data` may be a mapping or a
function returning one, awaited only when a subscription wants the event, so projects without a
subscription pay one indexed lookup per event and nothing more.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, insert
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import outbox
from tenantry.auth import tenancy
from tenantry.config import get_settings
from tenantry.kit.time import iso, utcnow
from tenantry.models import WebhookMessage

# The outbox kind of a message's delivery; the job's key is the message id.
DELIVERY = "webhook.delivery"

CONNECTED_ACCOUNT_ACTIVE = "composio.connected_account.active"
CONNECTED_ACCOUNT_EXPIRED = "composio.connected_account.expired"
CONNECTED_ACCOUNT_DISABLED = "composio.connected_account.disabled"
CONNECTED_ACCOUNT_DELETED = "composio.connected_account.deleted"
AUTH_CONFIG_DISABLED = "composio.auth_config.disabled"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    versions: tuple[str, ...] = ("V3",)


CATALOG: tuple[EventType, ...] = (
    EventType(
        CONNECTED_ACCOUNT_ACTIVE,
        "A connected account became ACTIVE: an end user finished OAuth or the hosted link page, it was "
        "created with credentials, or it was enabled again. `data` is the connected account (GET shape, "
        "secrets masked per the project's setting).",
    ),
    EventType(
        CONNECTED_ACCOUNT_EXPIRED,
        "A connected account became EXPIRED because the provider rejected refreshing its access token. "
        "`data` is the connected account (GET shape, secrets masked per the project's setting).",
    ),
    EventType(
        CONNECTED_ACCOUNT_DISABLED,
        "A connected account was disabled (status INACTIVE). `data` is the connected account.",
    ),
    EventType(
        CONNECTED_ACCOUNT_DELETED,
        "A connected account was deleted, by itself or with the auth config it was made through. `data` is "
        "the connected account as it was when deleted.",
    ),
    EventType(
        AUTH_CONFIG_DISABLED,
        "An auth config was disabled: its accounts cannot make new connections. `data` is the auth config "
        "(GET shape, credentials obfuscated).",
    ),
)
TYPES: dict[str, EventType] = {event.name: event for event in CATALOG}

Data = Mapping[str, Any] | BaseModel
DataSource = Data | Callable[[], Data | Awaitable[Data]]


def _as_json(data: Data) -> Any:
    return data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)


def envelope(message_id: str, event_type: str, project_id: str, org_id: str, data: Data) -> str:
    """The V3 envelope (reference §6.4) as the exact text every attempt signs and sends."""
    body = {
        "id": message_id,
        "timestamp": iso(utcnow()),
        "type": event_type,
        "metadata": {"project_id": project_id, "org_id": org_id},
        "data": _as_json(data),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


async def _subscription_wanting(session: AsyncSession, project_id: str, event_type: str) -> Row[Any] | None:
    """The project's subscription (id, org_id, ...) when it is enabled and wants `event_type`."""
    statement, values = tenancy.webhook_subscription_of_project(project_id)
    # A Core read on the session's connection (its transaction): no ORM work on every event.
    subscription = (await (await session.connection()).execute(statement, values)).first()
    if subscription is None or subscription.disabled_at is not None or event_type not in subscription.enabled_events:
        return None
    return subscription


async def wanted(session: AsyncSession, project_id: str, event_type: str) -> bool:
    """Whether the project has an enabled subscription that wants `event_type`: for callers about to
    emit many events at once, so that without a subscription they need not prepare any."""
    return await _subscription_wanting(session, project_id, event_type) is not None


async def emit(session: AsyncSession, project_id: str, event_type: str, data: DataSource) -> str | None:
    """Queues `event_type` for the project's subscription in this transaction; returns the message id.

    Returns None when no enabled subscription of the project wants this type.
    """
    if event_type not in TYPES:
        raise ValueError(f"{event_type} is not in the webhook event catalog")
    subscription = await _subscription_wanting(session, project_id, event_type)
    if subscription is None:
        return None
    if callable(data):
        data = data()
        if inspect.isawaitable(data):
            data = await data
    message_id = f"msg_{uuid.uuid4()}"
    moment = utcnow()
    first_attempt_at = moment + timedelta(seconds=get_settings().webhook_retry_delays[0])
    # A Core insert of prepared shape: no ORM object to flush, nothing rebuilt per event.
    await (await session.connection()).execute(
        _INSERT_MESSAGE,
        {
            "id": message_id,
            "project_id": project_id,
            "subscription_id": subscription.id,
            "event_type": event_type,
            "payload": envelope(message_id, event_type, project_id, subscription.org_id, data),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": first_attempt_at,
            "created_at": moment,
        },
    )
    await outbox.enqueue(session, DELIVERY, {"message_id": message_id}, key=message_id, due_at=first_attempt_at)
    return message_id


_INSERT_MESSAGE = insert(WebhookMessage.__table__)
