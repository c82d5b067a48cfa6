from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tenantry.api_keys import schemas, service
from tenantry.db import Session
from tenantry.errors import (
    ApiKeyNameTaken,
    ApiKeyNotFound,
    ProjectNotFound,
    TooManyApiKeys,
    Unauthenticated,
    responses,
)
from tenantry.kit.inputs import NoNul
from tenantry.projects.auth import LockedOrgProject, OrgKey, OrgProject

router = APIRouter(prefix="/org/owner/project/{nano_id}/api_keys", tags=["API keys"])

KeyId = Annotated[str, Path(description="The key's id, as listed."), NoNul]


@router.post(
    "",
    status_code=201,
    response_model=schemas.ApiKeyIssued,
    responses=responses(Unauthenticated, ProjectNotFound, ApiKeyNameTaken, TooManyApiKeys),
)
async def create(
    payload: schemas.ApiKeyCreate, project: LockedOrgProject, principal: OrgKey, session: Session
) -> schemas.ApiKeyIssued:
    """Create a named project key, optionally expiring and optionally scoped; the key is shown only here.

    A scoped key may call only the routes its scopes allow (reference §7's permission areas);
    anything else answers 403 naming the missing permission.
    """
    return await service.create(session, principal, project, payload)


@router.get("", response_model=schemas.ApiKeyList, responses=responses(Unauthenticated, ProjectNotFound))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    project: OrgProject, session: Session
) -> schemas.ApiKeyList:
    """The project's working keys, masked, with when each was created, last used and expires, and its scopes."""
    return await service.list_keys(session, project)


@router.delete(
    "/{key_id}",
    response_model=schemas.ApiKeyRevoked,
    responses=responses(Unauthenticated, ProjectNotFound, ApiKeyNotFound),
)
async def delete(key_id: KeyId, project: LockedOrgProject, principal: OrgKey, session: Session) -> schemas.ApiKeyRevoked:
    """Revoke one key: it stops working at once; the project's other keys keep working."""
    return await service.revoke(session, principal, project, key_id)
