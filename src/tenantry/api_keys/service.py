"""Minting and revoking keys. A key's plaintext exists only in the return value of `mint`.

Every change to a key invalidates the per-process key cache (tenantry.cache), so a revoked key
fails on the next request to the worker that revoked it and within a poll interval everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, cache
from tenantry.api_keys import schemas
from tenantry.api_keys.repository import ProjectKeyRepository
from tenantry.api_keys.schemas import ApiKey as ApiKeySchema
from tenantry.api_keys.schemas import ApiKeyCreated
from tenantry.auth import scopes
from tenantry.auth.principal import Principal
from tenantry.config import key_pepper
from tenantry.errors import (
    AppError,
    ApiKeyNameTaken,
    ApiKeyNotFound,
    InvalidRequest,
    TooManyApiKeys,
)
from tenantry.kit import ids, keys
from tenantry.kit.keys import KeyKind
from tenantry.kit.time import iso, utcnow
from tenantry.models import ApiKey, Project

# Named keys make several keys per project normal; the bound keeps a project's key list short.
MAX_LIVE_KEYS_PER_PROJECT = 50


async def mint(
    session: AsyncSession,
    *,
    kind: KeyKind,
    org_id: str,
    project_id: str | None = None,
    name: str | None = None,
    expires_at: datetime | None = None,
    scope_levels: dict[str, str] | None = None,
    member_id: str | None = None,
) -> tuple[ApiKey, str]:
    plaintext = keys.generate(kind)
    key = ApiKey(
        id=ids.ulid(),
        kind=kind.value,
        org_id=org_id,
        project_id=project_id,
        member_id=member_id,
        name=name or keys.friendly_name(),
        key_hash=keys.digest(key_pepper(), plaintext),
        last4=plaintext[-4:],
        expires_at=expires_at,
        scopes=scope_levels,
    )
    session.add(key)
    await session.flush()
    return key, plaintext


def created(key: ApiKey, plaintext: str) -> ApiKeyCreated:
    return ApiKeyCreated(id=key.id, name=key.name, key=plaintext, created_at=key.created_at)


def listed(key: ApiKey) -> ApiKeySchema:
    return ApiKeySchema(
        id=key.id,
        name=key.name,
        key=keys.mask(KeyKind(key.kind), key.last4),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )


def metadata(key: ApiKey) -> schemas.ApiKeyMetadata:
    return schemas.ApiKeyMetadata(
        id=key.id,
        name=key.name,
        key=keys.mask(KeyKind(key.kind), key.last4),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        scopes=scopes.shown(key.scopes),
    )


def _described(key: ApiKey) -> dict[str, Any]:
    """What the audit log keeps of a key: never its value or digest."""
    return {"name": key.name, "expires_at": iso(key.expires_at), "scopes": key.scopes}


async def revoke_all(session: AsyncSession, project: Project) -> None:
    """Every key of the project stops working: here at commit, on other workers within a poll."""
    await ProjectKeyRepository(session, project).revoke_all()
    await cache.invalidate(session)


async def regenerate(
    session: AsyncSession, principal: Principal, project: Project, grace_period: timedelta | None = None
) -> schemas.ApiKeyRegenerated:
    """Composio's regenerate: every key of the project is replaced by one new key.

    Without a grace period the old keys are revoked at once, as on Composio. With one they keep
    working until it ends and then expire by themselves, so clients can move to the new key
    without an outage; a key due to expire sooner keeps its earlier expiry.

    The caller holds the project row locked, so two concurrent regenerates run one after the
    other and the second replaces the key the first minted: exactly one key survives.
    """
    repository = ProjectKeyRepository(session, project)
    replaced = [key.id for key in await repository.live()]
    expire_at = None
    if grace_period:
        expire_at = utcnow() + grace_period
        await repository.expire_all(expire_at)
        await cache.invalidate(session)
    else:
        await revoke_all(session, project)
    key, plaintext = await mint(session, kind=KeyKind.project, org_id=project.org_id, project_id=project.id)
    await audit.record(
        session,
        principal,
        "api_key.regenerated",
        key,
        details={
            "name": key.name,
            "replaced_key_ids": replaced,
            "grace_period_seconds": int(grace_period.total_seconds()) if grace_period else None,
            "replaced_keys_expire_at": iso(expire_at),
        },
    )
    return schemas.ApiKeyRegenerated(api_key=created(key, plaintext), previous_keys_expire_at=expire_at)


class NamedKeys(Protocol):
    """The live keys of one holder (a project, an organization), as a new named key is checked against them."""

    async def name_taken(self, name: str) -> bool: ...

    async def count_live(self) -> int: ...


async def check_new_key(
    held: NamedKeys, name: str, expires_at: datetime | None, *, limit: int, name_taken: AppError, too_many: AppError
) -> None:
    """The rules every named key meets before it is minted: an expiry in the future, a name unique
    among its holder's live keys, and room under the holder's bound (the caller holds the holder's row)."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidRequest.field("expires_at", "must be in the future")
    if await held.name_taken(name):
        raise name_taken
    if await held.count_live() >= limit:
        raise too_many


async def create(
    session: AsyncSession, principal: Principal, project: Project, payload: schemas.ApiKeyCreate
) -> schemas.ApiKeyIssued:
    """A named key for the project (the caller holds the project row locked)."""
    await check_new_key(
        ProjectKeyRepository(session, project),
        payload.name,
        payload.expires_at,
        limit=MAX_LIVE_KEYS_PER_PROJECT,
        name_taken=ApiKeyNameTaken(
            f"The project already has a live key named {payload.name!r}",
            suggested_fix="Choose another name, or revoke the other key first",
        ),
        too_many=TooManyApiKeys(
            f"A project may have {MAX_LIVE_KEYS_PER_PROJECT} live keys",
            suggested_fix="Revoke keys that are no longer used",
        ),
    )
    levels = payload.scopes.levels() if payload.scopes is not None else None
    key, plaintext = await mint(
        session,
        kind=KeyKind.project,
        org_id=project.org_id,
        project_id=project.id,
        name=payload.name,
        expires_at=payload.expires_at,
        scope_levels=levels,
    )
    await audit.record(session, principal, "api_key.created", key, details=_described(key))
    return schemas.ApiKeyIssued(
        id=key.id,
        name=key.name,
        key=plaintext,
        created_at=key.created_at,
        expires_at=key.expires_at,
        scopes=scopes.shown(key.scopes),
    )


async def list_keys(session: AsyncSession, project: Project) -> schemas.ApiKeyList:
    """The project's live keys, oldest first; expired and revoked keys are gone from the list."""
    return schemas.ApiKeyList(items=[metadata(key) for key in await ProjectKeyRepository(session, project).live()])


async def revoke(session: AsyncSession, principal: Principal, project: Project, key_id: str) -> schemas.ApiKeyRevoked:
    """One key stops working; the project's other keys are untouched."""
    key = await ProjectKeyRepository(session, project).get_live(key_id)
    if key is None:
        raise ApiKeyNotFound()
    key.revoked_at = utcnow()
    await session.flush()
    await cache.invalidate(session)
    await audit.record(session, principal, "api_key.revoked", key, details={"name": key.name})
    return schemas.ApiKeyRevoked()
