"""Webhook subscriptions, their event types and their delivery log on the wire (reference §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tenantry.kit.inputs import IsoDateTime, NoNul, RequestBody
from tenantry.kit.time import Timestamp

Version = Literal["V1", "V2", "V3"]
MessageStatus = Literal["pending", "delivered", "failed"]
# The pattern is the rule of a default deployment; an operator may also allow plain http
# (TENANTRY_WEBHOOK_ALLOW_HTTP), for receivers on a development machine.
WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description="Where deliveries are POSTed: an https URL on a public address.",
        json_schema_extra={"format": "uri", "pattern": "^https://"},
    ),
    NoNul,
]
EventTypes = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100), NoNul]],
    Field(max_length=50, description="The event types this subscription receives (see `event_types`)."),
]


class WebhookSubscriptionCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    webhook_url: WebhookUrl
    enabled_events: EventTypes
    version: Version = "V3"


class WebhookSubscriptionUpdate(RequestBody):
    """Any of the fields; at least one. `enabled` is ours: `true` turns a disabled subscription back on."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: WebhookUrl | None = None
    enabled_events: EventTypes | None = None
    version: Version | None = None
    enabled: bool | None = Field(
        default=None, description="Turn deliveries off (`false`) or back on (`true`), e.g. after an automatic disable."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> WebhookSubscriptionUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of webhook_url, enabled_events, version, enabled")
        return self


class WebhookSubscription(BaseModel):
    id: str
    webhook_url: str
    version: Version
    enabled_events: list[str]
    secret: str = Field(description="Masked, except in the response that created the subscription.")
    created_at: Timestamp
    updated_at: Timestamp
    status: Literal["ENABLED", "DISABLED"]
    disabled_reason: str | None = None
    disabled_at: Timestamp | None = None


class WebhookSubscriptionList(BaseModel):
    items: list[WebhookSubscription]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class SecretRotated(BaseModel):
    id: str
    secret: str
    previous_secret_expires_at: Timestamp = Field(
        description="Until then deliveries also carry signatures made with the secret this one replaced."
    )


class EventType(BaseModel):
    event_type: str
    description: str
    supported_versions: list[Version]


class EventTypeList(BaseModel):
    items: list[EventType]


class Success(BaseModel):
    success: Literal[True] = True


class Attempt(BaseModel):
    id: str
    attempted_at: Timestamp
    succeeded: bool
    status_code: int | None
    latency_ms: int | None
    response_body: str | None = Field(description="The start of what the receiver answered.")
    error: str | None = Field(description="Why no answer was had (timeout, refused connection, unsafe address, ...).")


class Message(BaseModel):
    id: str = Field(description="`msg_…`: the event's `id` and every attempt's `webhook-id`.")
    event_type: str
    status: MessageStatus
    attempt_count: int
    next_attempt_at: Timestamp | None
    last_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    last_attempt: Attempt | None


class MessageDetail(Message):
    payload: dict[str, Any] = Field(description="The body every attempt sends.")
    attempts: list[Attempt] = Field(description="Every attempt, oldest first.")


class MessageList(BaseModel):
    items: list[Message]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class RecoverRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    since: IsoDateTime[datetime] = Field(description="Resend every failed message created at or after this moment.")
    until: IsoDateTime[datetime] | None = Field(default=None, description="… and before this one (default: now).")


class Recovered(BaseModel):
    recovered: int = Field(description="How many failed messages were queued again.")
