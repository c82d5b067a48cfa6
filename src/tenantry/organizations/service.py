"""Organizations and their organization API keys (`oak_`).

An organization key can do everything an admin of the organization can, so only the
organization key itself or an admin may list, create and revoke them (tenantry.organizations.auth
at the API, the dashboard's admin check on its pages). Their plaintext exists only in the value
`create_key` returns; lists show `oak_**` + the last four.

Revoking the organization's last key is allowed, even with that very key: its admins can still
sign in to the dashboard (or use their user keys) and create a new one. An organization left with
neither an organization key nor an admin gets one back through the operator, who adds an admin
with `tenantry member create`. Refusing instead would keep a leaked key alive whenever it happened
to be the only one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, cache
from tenantry.api_keys import service as api_keys
from tenantry.auth.principal import Principal
from tenantry.errors import (
    ApiKeyNotFound,
    OrganizationNotFound,
    OrgApiKeyNameTaken,
    RoleForbidden,
    TooManyOrgApiKeys,
)
from tenantry.kit import ids, keys
from tenantry.kit.keys import KeyKind
from tenantry.kit.time import iso, utcnow
from tenantry.members.schemas import Role
from tenantry.models import ApiKey, Organization
from tenantry.organizations import schemas
from tenantry.organizations.repository import OrganizationRepository, OrgKeyRepository
from tenantry.organizations.schemas import OrganizationCreate, OrganizationCreated

# Enough for one key per deployment or CI system; the bound keeps the list short and a runaway
# script from minting keys without end.
MAX_LIVE_ORG_KEYS = 50


async def create(
    session: AsyncSession, payload: OrganizationCreate, *, created_at: datetime | None = None
) -> OrganizationCreated:
    """A new organization and its first org API key.

    `created_at` exists for imports and tests: Composio's defaults depend on an organization's age.
    """
    moment = created_at or utcnow()
    organization = Organization(id=ids.nano_id("ok"), name=payload.name, created_at=moment, updated_at=moment)
    await OrganizationRepository(session).add(organization)
    _, plaintext = await api_keys.mint(
        session, kind=KeyKind.organization, org_id=organization.id, name="default"
    )
    return OrganizationCreated(id=organization.id, name=organization.name, api_key=plaintext)


def _require_key_manager(principal: Principal) -> None:
    """A second guard behind the routes' own: a developer holding an organization key could do
    everything an admin can, so this service never mints or revokes one for a non-admin."""
    if principal.kind is KeyKind.organization:
        return
    if principal.kind is KeyKind.user and principal.role == Role.admin:
        return
    raise RoleForbidden(
        f"Managing organization API keys needs the admin role in organization {principal.org_id}",
        suggested_fix="Ask an admin of the organization, or use its organization key",
    )


def listed(key: ApiKey) -> schemas.OrgApiKey:
    return schemas.OrgApiKey(
        id=key.id,
        name=key.name,
        key=keys.mask(KeyKind(key.kind), key.last4),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
    )


async def list_keys(session: AsyncSession, principal: Principal) -> schemas.OrgApiKeyList:
    """The organization's live organization keys, masked, oldest first; expired and revoked keys are gone."""
    _require_key_manager(principal)
    return schemas.OrgApiKeyList(items=[listed(key) for key in await OrgKeyRepository(session, principal).live()])


async def create_key(
    session: AsyncSession, principal: Principal, payload: schemas.OrgApiKeyCreate
) -> schemas.OrgApiKeyIssued:
    """A named organization key; the plaintext is in the return value and nowhere else."""
    _require_key_manager(principal)
    repository = OrgKeyRepository(session, principal)
    if await repository.lock_organization() is None:
        raise OrganizationNotFound()
    await api_keys.check_new_key(
        repository,
        payload.name,
        payload.expires_at,
        limit=MAX_LIVE_ORG_KEYS,
        name_taken=OrgApiKeyNameTaken(
            f"The organization already has a live organization key named {payload.name!r}",
            suggested_fix="Choose another name, or revoke the other key first",
        ),
        too_many=TooManyOrgApiKeys(
            f"An organization may have {MAX_LIVE_ORG_KEYS} live organization keys",
            suggested_fix="Revoke organization keys that are no longer used",
        ),
    )
    key, plaintext = await api_keys.mint(
        session, kind=KeyKind.organization, org_id=principal.org_id, name=payload.name, expires_at=payload.expires_at
    )
    await audit.record(
        session, principal, "org_api_key.created", key, details={"name": key.name, "expires_at": iso(key.expires_at)}
    )
    return schemas.OrgApiKeyIssued(
        id=key.id, name=key.name, key=plaintext, created_at=key.created_at, expires_at=key.expires_at
    )


async def revoke_key(session: AsyncSession, principal: Principal, key_id: str) -> schemas.OrgApiKeyRevoked:
    """One organization key stops working: on this worker at commit, on the others within a poll.

    The organization's other keys, its project keys and its members' user keys are untouched.
    The last organization key may go too (see the module's docstring).
    """
    _require_key_manager(principal)
    key = await OrgKeyRepository(session, principal).get_live(key_id)
    if key is None:
        raise ApiKeyNotFound()
    key.revoked_at = utcnow()
    await session.flush()
    await cache.invalidate(session)
    await audit.record(session, principal, "org_api_key.revoked", key, details={"name": key.name})
    return schemas.OrgApiKeyRevoked()
