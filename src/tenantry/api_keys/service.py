"""Minting and revoking keys. A key's plaintext exists only in the return value of `mint`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import cache
from tenantry.api_keys.repository import ProjectKeyRepository
from tenantry.api_keys.schemas import ApiKey as ApiKeySchema
from tenantry.api_keys.schemas import ApiKeyCreated
from tenantry.config import key_pepper
from tenantry.kit import ids, keys
from tenantry.kit.keys import KeyKind
from tenantry.models import ApiKey, Project


async def mint(
    session: AsyncSession,
    *,
    kind: KeyKind,
    org_id: str,
    project_id: str | None = None,
    name: str | None = None,
) -> tuple[ApiKey, str]:
    plaintext = keys.generate(kind)
    key = ApiKey(
        id=ids.ulid(),
        kind=kind.value,
        org_id=org_id,
        project_id=project_id,
        name=name or keys.friendly_name(),
        key_hash=keys.digest(key_pepper(), plaintext),
        last4=plaintext[-4:],
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


async def revoke_all(session: AsyncSession, project: Project) -> None:
    """Every key of the project stops working: here at commit, on other workers within a poll."""
    await ProjectKeyRepository(session, project).revoke_all()
    await cache.invalidate(session)


async def regenerate(session: AsyncSession, project: Project) -> tuple[ApiKey, str]:
    """Composio's regenerate: revoke every key of the project, mint one new one.

    The caller holds the project row locked, so two concurrent regenerates run one after the
    other and the second revokes the key the first minted: exactly one key survives.
    """
    await revoke_all(session, project)
    return await mint(session, kind=KeyKind.project, org_id=project.org_id, project_id=project.id)
