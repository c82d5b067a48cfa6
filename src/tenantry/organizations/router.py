"""Organization API keys (ours: Composio manages them only in its dashboard), in the style of the
project key routes, so the dashboard and the API call the same service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tenantry.db import Session
from tenantry.errors import (
    ApiKeyNotFound,
    OrganizationNotFound,
    OrgApiKeyNameTaken,
    RoleForbidden,
    TooManyOrgApiKeys,
    Unauthenticated,
    responses,
)
from tenantry.kit.inputs import NoNul
from tenantry.organizations import schemas, service
from tenantry.organizations.auth import OrgKeyManager

router = APIRouter(prefix="/org/owner/api_keys", tags=["Organization API keys"])

KeyId = Annotated[str, Path(description="The key's id, as listed."), NoNul]


@router.get(
    "",
    response_model=schemas.OrgApiKeyList,
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound),
)
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: OrgKeyManager, session: Session
) -> schemas.OrgApiKeyList:
    """The organization's working organization keys, masked (`oak_**` + last four), with when each
    was created, last used and expires. Needs the organization key or an admin's user key."""
    return await service.list_keys(session, principal)


@router.post(
    "",
    status_code=201,
    response_model=schemas.OrgApiKeyIssued,
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound, OrgApiKeyNameTaken, TooManyOrgApiKeys),
)
async def create(
    payload: schemas.OrgApiKeyCreate, principal: OrgKeyManager, session: Session
) -> schemas.OrgApiKeyIssued:
    """Create a named organization key, optionally expiring; the key is shown only here.

    It can do everything the organization's admins can, so only the organization key or an
    admin's user key may create one. An organization has at most 50 live organization keys.
    """
    return await service.create_key(session, principal, payload)


@router.delete(
    "/{key_id}",
    response_model=schemas.OrgApiKeyRevoked,
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound, ApiKeyNotFound),
)
async def delete(key_id: KeyId, principal: OrgKeyManager, session: Session) -> schemas.OrgApiKeyRevoked:
    """Revoke one organization key: it stops working at once. The organization's other keys, its
    projects' keys and its members' user keys keep working.

    The last organization key may be revoked too, even by itself: admins can sign in to the
    dashboard, or use their user keys, to create a new one.
    """
    return await service.revoke_key(session, principal, key_id)
