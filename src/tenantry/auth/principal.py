"""Who is calling: turns the key in a request header into a Principal, or answers 401.

Keys are looked up by their HMAC digest in a per-process cache (see tenantry.cache), so the
hot path does no database round trip and no write; `last_used_at` is recorded in memory and
written in batches by LastUsedRecorder.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.auth import scopes
from tenantry.config import key_pepper
from tenantry.db import unit_of_work
from tenantry.errors import Unauthenticated
from tenantry.kit import keys
from tenantry.kit.keys import KeyKind
from tenantry.kit.time import utcnow
from tenantry.models import ApiKey

logger = logging.getLogger("tenantry.auth")

HEADER_FOR_KIND = {
    KeyKind.organization: "x-org-api-key",
    KeyKind.project: "x-api-key",
    KeyKind.user: "x-user-api-key",
}
_KIND_NAMES = {
    KeyKind.organization: "an organization API key (oak_…)",
    KeyKind.project: "a project API key (ak_…)",
    KeyKind.user: "a user API key (uak_…)",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated key. `project_id` is set for project keys only.

    `permissions` is None for a full-access key and the scoped key's permissions otherwise
    (tenantry.auth.scopes). A user key carries its member; once a route has resolved which of the
    member's organizations it acts in (tenantry.members.auth), `org_id` is that organization and
    `role` the member's role there.
    """

    key_id: str
    kind: KeyKind
    org_id: str
    project_id: str | None
    expires_at: datetime | None = None
    permissions: frozenset[str] | None = None
    member_id: str | None = None
    role: str | None = None


def capability_principal(project_id: str) -> Principal:
    """The principal of an end user holding a one-time capability (an OAuth `state`, a link
    token) that names one account of `project_id`: it may reach that project's rows and no other."""
    return Principal(key_id="capability", kind=KeyKind.project, org_id="", project_id=project_id)


async def _load_key(session: AsyncSession, key_hash: str) -> Principal | None:
    row = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.kind,
                ApiKey.org_id,
                ApiKey.project_id,
                ApiKey.key_hash,
                ApiKey.expires_at,
                ApiKey.scopes,
                ApiKey.member_id,
            ).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )
    ).one_or_none()
    # The index found the row by equality; compare again in constant time as a second guard.
    if row is None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    permissions = scopes.granted(row.scopes) if row.scopes is not None else None
    return Principal(
        row.id, KeyKind(row.kind), row.org_id, row.project_id, row.expires_at, permissions, row.member_id
    )


async def authenticate(request: Request, presented: str | None, expected: KeyKind) -> Principal:
    header = HEADER_FOR_KIND[expected]
    if not presented:
        raise Unauthenticated(
            f"Missing {header} header",
            suggested_fix=f"Send {_KIND_NAMES[expected]} in the {header} header",
        )
    claimed = keys.kind_of(presented)
    if claimed is None:
        raise Unauthenticated(f"The {header} header does not hold a well-formed API key")
    if claimed is not expected:
        raise Unauthenticated(
            f"The {header} header takes {_KIND_NAMES[expected]}, not {_KIND_NAMES[claimed]}",
            suggested_fix=f"Send this key in the {HEADER_FOR_KIND[claimed]} header instead",
        )
    state = request.app.state
    key_hash = keys.digest(key_pepper(), presented)
    principal = await state.cache.get_or_load("api_keys", key_hash, lambda session: _load_key(session, key_hash))
    if principal is None or principal.kind is not expected:
        raise Unauthenticated(f"The {header} is not valid, or has been revoked")
    if principal.expires_at is not None and principal.expires_at <= utcnow():
        raise Unauthenticated(f"The {header} has expired")
    state.last_used.touch(principal.key_id)
    # The first point that knows the organization, so requests are counted here (tenantry.ratelimits).
    limiter = getattr(state, "rate_limiter", None)
    if limiter is not None:
        await limiter.admit_principal(request, principal)
    return principal


class LastUsedRecorder:
    """Remembers when each key was last used and writes those times in one batch now and then."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._sessionmaker = sessionmaker
        self._interval = interval
        self._pending: dict[str, datetime] = {}

    def touch(self, key_id: str) -> None:
        self._pending[key_id] = utcnow()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        # A plain executemany, not the ORM's bulk update: a key whose project was purged since it
        # was used has no row left, and that is no reason to lose the other keys' times.
        statement = update(ApiKey).where(ApiKey.id == bindparam("key_id")).values(last_used_at=bindparam("moment"))
        async with unit_of_work(self._sessionmaker) as session:
            connection = await session.connection()
            await connection.execute(
                statement, [{"key_id": key_id, "moment": moment} for key_id, moment in pending.items()]
            )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                logger.warning("could not record key last_used_at; will retry", exc_info=True)


_ORG_KEY_HEADER = APIKeyHeader(name="x-org-api-key", scheme_name="OrgApiKeyAuth", auto_error=False)
_PROJECT_KEY_HEADER = APIKeyHeader(name="x-api-key", scheme_name="ApiKeyAuth", auto_error=False)
_USER_KEY_HEADER = APIKeyHeader(name="x-user-api-key", scheme_name="UserApiKeyAuth", auto_error=False)


async def org_principal(
    request: Request, presented: Annotated[str | None, Security(_ORG_KEY_HEADER)]
) -> Principal:
    return await authenticate(request, presented, KeyKind.organization)


async def project_principal(
    request: Request, presented: Annotated[str | None, Security(_PROJECT_KEY_HEADER)]
) -> Principal:
    principal = await authenticate(request, presented, KeyKind.project)
    if principal.permissions is not None:
        scopes.require(principal.permissions, request.method, request.scope.get("route"))
    return principal


async def user_principal(
    request: Request, presented: Annotated[str | None, Security(_USER_KEY_HEADER)]
) -> Principal:
    return await authenticate(request, presented, KeyKind.user)


async def org_or_user_principal(
    request: Request,
    org_key: Annotated[str | None, Security(_ORG_KEY_HEADER)],
    user_key: Annotated[str | None, Security(_USER_KEY_HEADER)],
) -> Principal:
    """An organization key, or a member's user key (whose organization and role are resolved later)."""
    if org_key and user_key:
        raise Unauthenticated(
            "Send one credential: x-org-api-key or x-user-api-key, not both",
            suggested_fix="Remove one of the two headers",
        )
    if user_key:
        return await authenticate(request, user_key, KeyKind.user)
    return await authenticate(request, org_key, KeyKind.organization)
