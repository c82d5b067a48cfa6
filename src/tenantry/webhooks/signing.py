"""Webhook secrets and signatures that two kinds of verifier accept (reference §6.3).

A secret is `whsec_` + the base64 of 32 random bytes. Composio's own verifiers key HMAC-SHA256
with the UTF-8 bytes of that whole string; Standard Webhooks libraries strip `whsec_` and key it
with the decoded bytes. Both sign `{webhook-id}.{webhook-timestamp}.{body}` and look for any
matching `v1,<base64>` among the space-separated entries of `webhook-signature`, so every
delivery carries one signature of each kind, for the current secret and for every replaced
secret that has not lapsed yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.kit.time import utcnow
from tenantry.models import WebhookSubscription
from tenantry.vault import service as vault

PREFIX = "whsec_"
SECRET_BYTES = 32
# After a rotation the replaced secret keeps signing this long, so receivers can switch at leisure.
ROTATION_OVERLAP = timedelta(hours=24)
# Replaced secrets that still sign, at most: each one adds two signatures to every delivery, so
# rotations in a loop would otherwise make every delivery slower and its header ever longer.
MAX_PREVIOUS_SECRETS = 3


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _context(subscription_id: str) -> str:
    return f"webhook_subscription:{subscription_id}:secrets"


async def seal(session: AsyncSession, subscription: WebhookSubscription, current: str, previous: Sequence[dict[str, str]] = ()) -> None:
    subscription.secrets = await vault.seal(
        session,
        subscription.project_id,
        {"current": current, "previous": list(previous)},
        context=_context(subscription.id),
    )


async def _unseal(session: AsyncSession, subscription: WebhookSubscription) -> dict[str, Any]:
    return await vault.unseal(session, subscription.project_id, subscription.secrets, context=_context(subscription.id))


async def rotate(session: AsyncSession, subscription: WebhookSubscription) -> tuple[str, datetime]:
    """A new current secret; the old one signs beside it until the returned moment."""
    stored = await _unseal(session, subscription)
    now = utcnow()
    lapses = now + ROTATION_OVERLAP
    previous = [entry for entry in stored["previous"] if datetime.fromisoformat(entry["expires_at"]) > now]
    # The oldest replaced secrets stop first when there are more than the bound.
    previous = [*previous, {"secret": stored["current"], "expires_at": lapses.isoformat()}][-MAX_PREVIOUS_SECRETS:]
    secret = new_secret()
    await seal(session, subscription, secret, previous)
    return secret, lapses


async def signing_secrets(session: AsyncSession, subscription: WebhookSubscription) -> list[str]:
    """The current secret first, then every replaced one still inside its overlap."""
    stored = await _unseal(session, subscription)
    now = utcnow()
    return [stored["current"]] + [
        entry["secret"] for entry in stored["previous"] if datetime.fromisoformat(entry["expires_at"]) > now
    ]


def _sign(key: bytes, content: bytes) -> str:
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def signature_header(secrets_: Sequence[str], message_id: str, timestamp: str, body: bytes) -> str:
    """The `webhook-signature` value: a Composio-style and a Standard-Webhooks-style entry per secret."""
    content = f"{message_id}.{timestamp}.".encode() + body
    entries = []
    for secret in secrets_:
        entries.append(_sign(secret.encode(), content))
        entries.append(_sign(base64.b64decode(secret.removeprefix(PREFIX)), content))
    return " ".join(entries)


def masked(secret: str) -> str:
    """How a stored secret is shown after creation: the prefix and its last four characters."""
    return f"{PREFIX}**{secret[-4:]}"

